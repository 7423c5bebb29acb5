"""Issue 12 §4: a company's refund policy and terms (text and/or an http(s) link), changed by its
owners and admins only; each case keeps a snapshot of them as they were when it was opened."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import services
from cases.models import CasePolicySnapshot
from payments.models import Company, Membership
from payments.services import company_policies_update
from resolution_center.exceptions import ApplicationError, NotAllowedError
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, merchant_of

pytestmark = pytest.mark.django_db

POLICY = {
    "refund_policy_text": "Refunds within 30 days.",
    "refund_policy_url": "https://shop.example/refunds",
    "terms_text": "",
    "terms_url": "http://shop.example/terms",
}


def policies_of(company) -> tuple:
    company.refresh_from_db()
    return (company.refund_policy_text, company.refund_policy_url, company.terms_text, company.terms_url)


@pytest.mark.parametrize("role", [Membership.Role.OWNER, Membership.Role.ADMIN])
def test_owner_or_admin_saves_policy_text_and_links(role):
    """Owners and admins save each text and link; surrounding spaces are trimmed."""
    company = CompanyFactory()
    actor = merchant_of(company, role=role)

    company_policies_update(
        company=company, actor=actor, **{**POLICY, "refund_policy_text": "  Refunds within 30 days. "}
    )

    assert policies_of(company) == (
        "Refunds within 30 days.",
        "https://shop.example/refunds",
        "",
        "http://shop.example/terms",
    )


@pytest.mark.parametrize("who", ["support", "other_company_owner", "customer"])
def test_anyone_else_is_refused_and_nothing_changes(who):
    """A support member, another company's owner and a customer cannot change them (403)."""
    company = CompanyFactory()
    actor = {
        "support": lambda: merchant_of(company, role=Membership.Role.SUPPORT),
        "other_company_owner": lambda: merchant_of(CompanyFactory()),
        "customer": UserFactory,
    }[who]()

    with pytest.raises(NotAllowedError, match="Only the company's owners and admins"):
        company_policies_update(company=company, actor=actor, **POLICY)

    assert policies_of(company) == ("", "", "", "")


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "ftp://shop.example/terms", "shop.example/terms", "data:text/html,hi", "https://"],
)
def test_links_must_be_http_or_https_web_addresses(url):
    """A link that is not an http(s) address (a script, FTP, no scheme, data) is refused with a
    sentence saying what to type; nothing is saved."""
    company = CompanyFactory()

    with pytest.raises(ApplicationError, match=r"must be a web address starting with https://"):
        company_policies_update(company=company, actor=merchant_of(company), **{**POLICY, "terms_url": url})

    assert policies_of(company) == ("", "", "", "")


def test_too_long_text_is_refused():
    company = CompanyFactory()

    with pytest.raises(ApplicationError, match="at most 10000 characters"):
        company_policies_update(
            company=company, actor=merchant_of(company), **{**POLICY, "refund_policy_text": "x" * 10001}
        )


# --- the snapshot at opening --------------------------------------------------------------------------


def open_case_at(company, *, method="card", amount_cents=5000):
    payment = PaymentFactory(company=company, method=method, amount_cents=amount_cents)
    return services.case_open(customer=payment.customer, payment=payment, reason="not_received", description="Lost.")


def test_opening_keeps_a_snapshot_of_the_policies_in_one_insert():
    """A case opened at a company with policies keeps them as they were, written by one INSERT in
    the opening's transaction."""
    company = CompanyFactory()
    company_policies_update(company=company, actor=merchant_of(company), **POLICY)
    payment = PaymentFactory(company=company)

    with CaptureQueriesContext(connection) as captured:
        case = services.case_open(
            customer=payment.customer, payment=payment, reason="not_received", description="Lost."
        )

    inserts = [q["sql"] for q in captured if q["sql"].startswith("INSERT") and "casepolicysnapshot" in q["sql"]]
    assert len(inserts) == 1
    snapshot = case.policy_snapshot
    assert (snapshot.refund_policy_text, snapshot.refund_policy_url, snapshot.terms_text, snapshot.terms_url) == (
        "Refunds within 30 days.",
        "https://shop.example/refunds",
        "",
        "http://shop.example/terms",
    )
    assert snapshot.taken_at == case.opened_at


def test_no_snapshot_when_the_company_has_no_policies():
    """A company without any policy text or link writes no snapshot row."""
    case = open_case_at(CompanyFactory())

    assert not CasePolicySnapshot.objects.filter(case=case).exists()


def test_automatically_refunded_case_keeps_its_snapshot_too():
    """A financing payment's case is refunded at once; it still keeps the policies it was opened under."""
    company = CompanyFactory()
    company_policies_update(company=company, actor=merchant_of(company), **{**POLICY, "refund_policy_url": ""})

    case = open_case_at(company, method="klarna")

    assert case.auto_refunded
    assert case.policy_snapshot.refund_policy_text == "Refunds within 30 days."


def test_later_edits_never_change_an_existing_cases_snapshot():
    """The company changes (then removes) its policies: the case opened before keeps the old ones,
    a case opened after gets the new ones."""
    company = CompanyFactory()
    owner = merchant_of(company)
    company_policies_update(company=company, actor=owner, **POLICY)
    before = open_case_at(company)

    company_policies_update(
        company=company,
        actor=owner,
        refund_policy_text="No refunds at all.",
        refund_policy_url="",
        terms_text="New terms.",
        terms_url="",
    )
    after = open_case_at(company)
    company_policies_update(
        company=company, actor=owner, refund_policy_text="", refund_policy_url="", terms_text="", terms_url=""
    )
    third = open_case_at(company)

    kept = CasePolicySnapshot.objects.get(case=before)
    assert (kept.refund_policy_text, kept.refund_policy_url, kept.terms_url) == (
        "Refunds within 30 days.",
        "https://shop.example/refunds",
        "http://shop.example/terms",
    )
    assert CasePolicySnapshot.objects.get(case=after).refund_policy_text == "No refunds at all."
    assert not CasePolicySnapshot.objects.filter(case=third).exists()
    assert Company.objects.get(pk=company.pk).refund_policy_text == ""


def test_refused_opening_writes_no_snapshot():
    """A claim that is refused (payment too old) leaves no snapshot behind."""
    company = CompanyFactory()
    company_policies_update(company=company, actor=merchant_of(company), **POLICY)
    payment = PaymentFactory(company=company, paid_at=timezone.now() - timedelta(days=200))

    with pytest.raises(ApplicationError):
        services.case_open(customer=payment.customer, payment=payment, reason="not_received", description="Lost.")

    assert not CasePolicySnapshot.objects.exists()
