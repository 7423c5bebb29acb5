"""The demo data `make run` loads: idempotent, and it shows every state and every final outcome."""

from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from cases.models import Case, CaseEvent, CaseOutcome, CaseStatus
from payments.models import FINANCING_METHODS, Payment, PaymentMethod, Refund

pytestmark = pytest.mark.django_db
DEMO_LOGINS = {
    "owner@acme.test",
    "support@acme.test",
    "owner@pixel.test",
    "dana@both.test",
    "carol@customer.test",
    "dave@customer.test",
    "erin@customer.test",
    "sam@both.test",
    "reviewer@platform.test",
}


def row_counts() -> dict[str, int]:
    counts = {"users": get_user_model().objects.count()}
    for label in ("payments", "cases", "notifications"):
        for model in apps.get_app_config(label).get_models():
            counts[model._meta.label] = model.objects.count()
    return counts


def load_demo() -> str:
    out = StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def test_demo_loaded_twice_second_run_changes_nothing():
    """The first run loads the README's demo logins and a case in every state; running the demo
    command again (every `make run`) adds, changes and removes nothing."""
    first_output = load_demo()
    after_first = row_counts()
    second_output = load_demo()
    assert row_counts() == after_first
    assert "Demo data loaded." in first_output
    assert "already loaded; nothing changed" in second_output
    logins = set(get_user_model().objects.values_list("email", flat=True))
    assert logins >= DEMO_LOGINS
    assert set(Case.objects.values_list("status", flat=True)) == set(CaseStatus.values)


def test_demo_holds_a_case_in_every_state_and_every_final_outcome():
    """Every screen has something real to show: each state of the table and each way a case closes."""
    load_demo()
    assert set(Case.objects.values_list("status", flat=True)) == set(CaseStatus.values)
    final_outcomes = set(Case.objects.filter(status=CaseStatus.FINAL).values_list("outcome", flat=True))
    assert final_outcomes == set(CaseOutcome.values)
    assert Case.objects.filter(auto_refunded=True).exists()


def test_demo_has_payments_of_every_method_and_the_ineligible_kinds():
    """There are payments of every method, one older than 120 days and one already refunded in full."""
    load_demo()
    assert set(Payment.objects.values_list("method", flat=True)) == set(PaymentMethod.values)
    assert set(Payment.objects.filter(method__in=FINANCING_METHODS).values_list("method", flat=True)) == set(
        FINANCING_METHODS
    )
    assert Payment.objects.filter(paid_at__lt=timezone.now() - timedelta(days=120)).exists()
    fully_refunded = [p for p in Payment.objects.filter(case__isnull=True) if p.is_fully_refunded]
    assert fully_refunded


def test_demo_timelines_and_money_are_consistent():
    """The demo is built through the services: each case's state-change events chain up to its state, and
    every refunded case has exactly one refund."""
    load_demo()
    cases = list(Case.objects.all())
    assert {case.status for case in cases} == set(CaseStatus.values)
    assert any(case.outcome == CaseOutcome.REFUNDED for case in cases)
    for case in cases:
        moves = [(e.from_state, e.to_state) for e in CaseEvent.objects.filter(case=case) if e.from_state != e.to_state]
        assert moves[0] == ("", "open")
        assert all(a[1] == b[0] for a, b in zip(moves, moves[1:], strict=False))
        assert moves[-1][1] == case.status
        expected_refunds = 1 if case.outcome == CaseOutcome.REFUNDED else 0
        assert Refund.objects.filter(case=case).count() == expected_refunds
    for payment in Payment.objects.all():
        assert payment.refunded_cents <= payment.amount_cents
        assert payment.refunded_cents == sum(r.amount_cents for r in payment.refunds.all())


def test_demo_prints_the_logins():
    """`make run` ends by printing the demo logins so a person can sign in."""
    output = load_demo()
    assert "Demo logins (password for all: demo-pass-2026)" in output
    assert "owner@acme.test" in output
    assert "reviewer@platform.test" in output


def test_demo_has_a_pending_offer_and_a_partially_refunded_case():
    """Issue #12: Carol has an offer waiting for her answer; Dave accepted one and was refunded part
    of his payment (the rest stays with the merchant)."""
    from cases.models import CaseOffer

    load_demo()
    pending = CaseOffer.objects.get(status=CaseOffer.Status.PENDING)
    assert pending.case.customer.email == "carol@customer.test"
    assert (pending.case.status, pending.case.offer_pending) == (CaseStatus.INFO_REQUESTED, True)
    accepted = CaseOffer.objects.get(status=CaseOffer.Status.ACCEPTED)
    case = accepted.case
    assert (case.status, case.outcome) == (CaseStatus.FINAL, CaseOutcome.REFUNDED)
    [refund] = Refund.objects.filter(case=case)
    assert refund.amount_cents == accepted.amount_cents < case.payment.amount_cents


def test_demo_has_a_denial_with_reason_and_files_and_acme_policies():
    """Issue 12: a denial carrying a reason and a file, an appeal carrying a file, and Acme Courses'
    refund policy and terms link, kept by the cases opened under them."""
    from cases.models import Attachment, CasePolicySnapshot
    from payments.models import Company

    load_demo()
    denied = Case.objects.filter(status=CaseStatus.DENIED).exclude(denial_reason="").first()
    assert denied is not None
    assert Attachment.objects.filter(case=denied, uploaded_by_kind="merchant", content_type="image/png").exists()
    assert Attachment.objects.filter(case__status=CaseStatus.APPEALED, uploaded_by_kind="customer").exists()
    acme = Company.objects.get(name="Acme Courses")
    assert acme.refund_policy_text and acme.terms_url.startswith("https://")
    assert CasePolicySnapshot.objects.filter(case__company=acme).count() == Case.objects.filter(company=acme).count()
