"""Who may reach the merchant's pages of a company: its members only. Everyone else signed in
gets the same 404 on every URL (the company's existence and its case ids are not revealed), an
anonymous visitor is sent to sign in, and nothing changes on a refused request."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import Case, CaseEvent, Message
from payments.models import Company, Membership, Payment
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, merchant_of, reviewer

pytestmark = pytest.mark.django_db

READ_PAGES = ["company", "cases", "cases-export", "payments", "auto-respond", "policies"]
CASE_ACTIONS = {
    "case-message": {"body": "hello"},
    "case-request-info": {"message": "photo?"},
    "case-accept": {"confirm": "on"},
    "case-deny": {"confirm": "on", "reason": "delivered_as_described", "message": "no"},
    "case-appeal": {"statement": "no"},
    "case-appeal-waive": {"confirm": "on"},
}


@pytest.fixture
def scene(db):
    """Company X with an open case; company Y with its own merchant; a customer of X's case, a
    customer of nobody and a platform reviewer."""
    company_x, company_y = CompanyFactory(name="X Corp"), CompanyFactory(name="Y Corp")
    payment = PaymentFactory(company=company_x, paid_at=timezone.now() - timedelta(days=1))
    case = services.case_open(customer=payment.customer, payment=payment, reason="not_received", description="Lost")
    return {
        "x": company_x,
        "y": company_y,
        "case": case,
        "merchant_x": merchant_of(company_x),
        "merchant_y": merchant_of(company_y),
        "customer_a": payment.customer,
        "customer_b": UserFactory(),
        "reviewer": reviewer(),
    }


def all_urls(company, case) -> list[tuple[str, str, dict]]:
    """Every merchant URL of ``company``: (method, url, data)."""
    urls = [("get", reverse(f"merchant:{name}", args=[company.pk]), {}) for name in READ_PAGES]
    urls.append(("post", reverse("merchant:auto-respond", args=[company.pk]), {"card_below": "999"}))
    urls.append(("post", reverse("merchant:policies", args=[company.pk]), {"terms_url": "https://x.example/"}))
    urls.append(("get", reverse("merchant:case", args=[company.pk, case.pk]), {}))
    urls += [
        ("post", reverse(f"merchant:{name}", args=[company.pk, case.pk]), data) for name, data in CASE_ACTIONS.items()
    ]
    return urls


def snapshot():
    return (
        list(Case.objects.values_list("pk", "status", "info_requests_count")),
        CaseEvent.objects.count(),
        Message.objects.count(),
        list(Company.objects.values_list("auto_refund_card_below_cents", "auto_refund_message", "terms_url")),
        list(Payment.objects.values_list("refunded_cents", flat=True)),
    )


@pytest.mark.parametrize("who", ["merchant_y", "customer_a", "customer_b", "reviewer"])
def test_merchant_urls_of_company_answer_404_to_non_members(client, scene, who):
    """A merchant of another company, the case's own customer, another customer and a reviewer
    all get 404 on every merchant URL of company X, reads and writes alike; nothing changes."""
    client.force_login(scene[who])
    before = snapshot()
    for method, url, data in all_urls(scene["x"], scene["case"]):
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (who, method, url, response.status_code)
    assert snapshot() == before


def test_merchant_urls_for_anonymous_redirect_to_sign_in(client, scene):
    """Someone not signed in is sent to the sign-in page from every merchant URL; nothing changes."""
    before = snapshot()
    for method, url, data in [*all_urls(scene["x"], scene["case"]), ("get", reverse("merchant:home"), {})]:
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("login")), (method, url)
    assert snapshot() == before


def test_merchant_of_x_every_page_answers_with_the_page(client, scene):
    """The control for the tests above: a member of X gets each page (200), the company's home
    sends them to its Resolution Center, which lists X's case, and the case page opens."""
    x, case = scene["x"], scene["case"]
    client.force_login(scene["merchant_x"])

    responses = {name: client.get(reverse(f"merchant:{name}", args=[x.pk])) for name in READ_PAGES}

    assert {name: r.status_code for name, r in responses.items()} == {
        "company": 302,
        "cases": 200,
        "cases-export": 200,
        "payments": 200,
        "auto-respond": 200,
        "policies": 200,
    }
    assert responses["company"]["Location"] == reverse("merchant:cases", args=[x.pk])
    assert reverse("merchant:case", args=[x.pk, case.pk]) in responses["cases"].content.decode()
    assert client.get(reverse("merchant:case", args=[x.pk, case.pk])).status_code == 200


def test_case_of_other_company_under_own_company_url_is_404(client, scene):
    """A merchant of Y putting X's case id under Y's own URL still gets 404 (the case is looked
    up within the company), and cannot act on it."""
    client.force_login(scene["merchant_y"])
    before = snapshot()
    y, case = scene["y"], scene["case"]
    assert client.get(reverse("merchant:case", args=[y.pk, case.pk])).status_code == 404
    for name, data in CASE_ACTIONS.items():
        assert client.post(reverse(f"merchant:{name}", args=[y.pk, case.pk]), data).status_code == 404, name
    assert snapshot() == before


def test_refused_access_is_logged_for_audit(client, scene, caplog):
    """Each refused look at another company's case is written to the security log."""
    client.force_login(scene["merchant_y"])
    with caplog.at_level("WARNING", logger="resolution_center.security"):
        client.get(reverse("merchant:case", args=[scene["y"].pk, scene["case"].pk]))
        client.get(reverse("merchant:cases", args=[scene["x"].pk]))
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert f"case #{scene['case'].pk}" in logged
    assert f"company #{scene['x'].pk}" in logged


def test_other_companys_data_never_listed(client, scene):
    """Company Y's lists, export and payments never show X's case or payment."""
    client.force_login(scene["merchant_y"])
    y, case = scene["y"], scene["case"]
    PaymentFactory(company=y)
    listing = client.get(reverse("merchant:cases", args=[y.pk]), {"closed": "on"}).content.decode()
    payments = client.get(reverse("merchant:payments", args=[y.pk]), {"q": str(case.payment_id)}).content.decode()
    export = b"".join(client.get(reverse("merchant:cases-export", args=[y.pk])).streaming_content).decode()
    assert f'data-case-id="{case.pk}"' not in listing
    assert f'data-payment-id="{case.payment_id}"' not in payments
    assert export.strip().count("\n") == 0  # the header only


def test_merchant_home_for_user_without_company_is_404(client, scene):
    """/merchant/ for someone who belongs to no company is a 404, not an error page."""
    client.force_login(scene["customer_b"])
    assert client.get(reverse("merchant:home")).status_code == 404


def test_support_member_may_answer_cases(client, scene):
    """Support members answer cases like owners do (only the settings are for owners and admins)."""
    support = merchant_of(scene["x"], role=Membership.Role.SUPPORT)
    client.force_login(support)
    response = client.post(
        reverse("merchant:case-request-info", args=[scene["x"].pk, scene["case"].pk]), {"message": "Photo?"}
    )
    assert response.status_code == 302
    scene["case"].refresh_from_db()
    assert scene["case"].status == "info_requested"
