"""The customer's "Your orders" page and "Your cases" list."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from payments.services import refund_request
from tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db


def _orders(client, user):
    client.force_login(user)
    response = client.get(reverse("cases:orders"))
    assert response.status_code == 200
    return response.content.decode()


def test_orders_lists_each_payment_with_product_company_amount_and_date(client, customer_a, payment_a):
    """Each payment shows its product, company, formatted amount and date."""
    html = _orders(client, customer_a)
    assert "Blue Kettle" in html
    assert "Company X" in html
    assert "$50.00" in html
    assert payment_a.paid_at.strftime("%-d %b %Y") in html


def test_orders_eligible_payment_offers_request_a_refund(client, customer_a, payment_a):
    """An eligible payment has a "Request a refund" link to its claim form."""
    html = _orders(client, customer_a)
    assert "Request a refund" in html
    assert reverse("cases:case-open", args=[payment_a.pk]) in html


@pytest.mark.parametrize(
    ("payment_kwargs", "reason"),
    [
        ({"method": "crypto"}, "Crypto payments (Coinbase Commerce) are irreversible"),
        ({"paid_at_days": 121}, "Cases can only be opened within 120 days of a payment"),
    ],
)
def test_orders_ineligible_payment_shows_plain_reason(client, customer_a, company_x, payment_kwargs, reason):
    """A payment that cannot have a case says why instead of offering the link."""
    days = payment_kwargs.pop("paid_at_days", 3)
    payment = PaymentFactory(
        customer=customer_a, company=company_x, paid_at=timezone.now() - timedelta(days=days), **payment_kwargs
    )
    html = _orders(client, customer_a)
    assert reason in html
    assert reverse("cases:case-open", args=[payment.pk]) not in html


def test_orders_fully_refunded_payment_says_so(client, customer_a, payment_a):
    """A payment refunded in full cannot be claimed again, and the page says so."""
    refund_request(
        payment=payment_a,
        amount_cents=payment_a.amount_cents,
        currency="USD",
        idempotency_key="manual-1",
        initiated_by_kind="merchant",
    )
    html = _orders(client, customer_a)
    assert "This payment has already been refunded in full." in html
    assert "$50.00 refunded" in html


def test_orders_payment_with_case_shows_its_status_and_link(client, customer_a, case_a):
    """A payment with a case shows the case's status in words and links to it."""
    html = _orders(client, customer_a)
    assert "Waiting for the merchant" in html
    assert reverse("cases:case-detail", args=[case_a.pk]) in html
    assert "Request a refund<" not in html


def test_orders_hides_other_customers_payments(client, customer_a, customer_b, company_x, payment_a):
    """Another customer's payment never appears."""
    PaymentFactory(customer=customer_b, company=company_x, product__name="Bob's Secret Purchase")
    html = _orders(client, customer_a)
    assert "Bob's Secret Purchase" not in html


def test_case_list_shows_own_cases_only_with_status(client, customer_a, customer_b, company_x, case_a):
    """ "Your cases" lists the customer's cases with their status, and nobody else's."""
    other = PaymentFactory(customer=customer_b, company=company_x, product__name="Bob's Lamp")
    services.case_open(customer=customer_b, payment=other, reason="not_received", description="Nothing came.")
    client.force_login(customer_a)
    html = client.get(reverse("cases:case-list")).content.decode()
    assert f"Case #{case_a.pk}" in html
    assert "Waiting for the merchant" in html
    assert "Bob's Lamp" not in html
