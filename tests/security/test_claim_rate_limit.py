"""Item 6 (claims): one customer can file only so many claims an hour."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from cases import services
from cases.models import Case
from resolution_center.exceptions import RateLimitedError
from tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db


def _claim(customer, payment, now):
    return services.case_open(
        customer=customer, payment=payment, reason="not_received", description="It never arrived.", now=now
    )


def test_claims_over_hourly_limit_refused_with_wait_time(customer):
    """The claim after MAX_CASES_PER_HOUR in one hour is refused with how long to wait, and no
    case is created for it."""
    limit = settings.RESOLUTION["MAX_CASES_PER_HOUR"]
    payments = PaymentFactory.create_batch(limit + 1, customer=customer)
    start = timezone.now()
    for minute, payment in enumerate(payments[:limit]):
        _claim(customer, payment, start + timedelta(minutes=minute))

    with pytest.raises(RateLimitedError) as refused:
        _claim(customer, payments[-1], start + timedelta(minutes=30))

    assert f"opened {limit} cases in the last hour" in refused.value.message
    # The first claim leaves the window at start + 60 min: 30 minutes from now.
    assert "wait 30 minutes" in refused.value.message
    assert not Case.objects.filter(payment=payments[-1]).exists()


def test_claim_allowed_again_once_the_hour_has_passed(customer):
    """When the oldest of the recent claims is more than an hour old, the next claim goes through."""
    limit = settings.RESOLUTION["MAX_CASES_PER_HOUR"]
    payments = PaymentFactory.create_batch(limit + 1, customer=customer)
    start = timezone.now()
    for payment in payments[:limit]:
        _claim(customer, payment, start)

    case = _claim(customer, payments[-1], start + timedelta(hours=1, seconds=1))

    assert Case.objects.get(payment=payments[-1]) == case
    assert case.status == "open"
    assert Case.objects.filter(customer=customer).count() == limit + 1


def test_claim_limit_is_per_customer(customer):
    """Another customer is not slowed down by someone else's claims."""
    limit = settings.RESOLUTION["MAX_CASES_PER_HOUR"]
    now = timezone.now()
    for payment in PaymentFactory.create_batch(limit, customer=customer):
        _claim(customer, payment, now)
    other = PaymentFactory()

    case = _claim(other.customer, other, now)

    assert Case.objects.get(payment=other) == case
    assert case.status == "open"


def test_claim_over_limit_through_the_web_is_a_4xx_with_the_reason(client, customer):
    """The claim form answers a refused claim with a 4xx and the reason on the page, not a 500."""
    limit = settings.RESOLUTION["MAX_CASES_PER_HOUR"]
    payments = PaymentFactory.create_batch(limit + 1, customer=customer)
    for payment in payments[:limit]:
        _claim(customer, payment, timezone.now())
    client.force_login(customer)

    response = client.post(
        f"/orders/{payments[-1].pk}/refund/", {"reason": "not_received", "description": "Never came."}
    )

    assert 400 <= response.status_code < 500
    assert "in the last hour" in response.content.decode()
    assert not Case.objects.filter(payment=payments[-1]).exists()
