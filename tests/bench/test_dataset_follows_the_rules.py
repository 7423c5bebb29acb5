"""The benchmark's dataset writes cases as the product would have: every clock that ran out moved its
case as its declaration in cases/expiry_rules.py says (move, note, fields), and every running deadline
is as long as settings.RESOLUTION says. A drift between the generator and the rules fails here."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings

from bench.dataset import Scale, generate
from cases.expiry_rules import DEADLINE_DAYS, EXPIRY_RULES
from cases.models import Case, CaseEvent

pytestmark = pytest.mark.django_db(transaction=True)


def _generate():
    generate(scale=Scale.of(0.0005), seed=11, log=lambda *args: None)


def _expiry_rows():
    actions = {rule.action for rule in EXPIRY_RULES}
    return list(
        CaseEvent.objects.filter(action__in=actions, actor_kind="system").values_list(
            "case_id", "action", "from_state", "to_state", "note", "created_at"
        )
    )


def test_dataset_expiry_events_are_the_declared_moves():
    """Each escalation, unanswered-reply denial and finalisation in the dataset is one of the
    declared rules with its exact states and note, and each rule appears."""
    _generate()
    declared = {(r.action, r.from_status, r.to_status): r.note() for r in EXPIRY_RULES}
    rows = _expiry_rows()
    assert rows
    for _, action, from_state, to_state, note, _ in rows:
        assert (action, from_state, to_state) in declared
        assert note == declared[(action, from_state, to_state)]
    seen = {(action, from_state, to_state) for _, action, from_state, to_state, _, _ in rows}
    assert seen == set(declared)


@pytest.mark.parametrize("days", [3, 7])
def test_dataset_running_deadlines_are_as_long_as_settings_say(days):
    """Every running deadline is ``days`` after the move that started it, and every clock that ran out
    did so after its full length: with 3-day settings the dataset is a 3-day world."""
    resolution = {**settings.RESOLUTION, **dict.fromkeys(DEADLINE_DAYS.values(), days)}
    with override_settings(RESOLUTION=resolution):
        _generate()
    length = timedelta(days=days)
    running = Case.objects.exclude(next_deadline_at=None)
    assert running.exists()
    for case in running:
        started_by = case.events.filter(to_state=case.status).exclude(action__in=["message", "notification", "file"])
        started_at = started_by.order_by("-created_at", "-id").values_list("created_at", flat=True).first()
        assert case.next_deadline_at - started_at == length, (case.pk, case.status)
        for field in DEADLINE_DAYS:
            expected = (
                case.next_deadline_at
                if field == {"open": "respond_by", "info_requested": "reply_by"}.get(case.status, "appeal_by")
                else None
            )
            assert getattr(case, field) == expected
    for case_id, _, from_state, _, _, expired_at in _expiry_rows():
        started = (
            CaseEvent.objects.filter(case_id=case_id, to_state=from_state, created_at__lt=expired_at)
            .exclude(action__in=["message", "notification", "file"])
            .order_by("-created_at", "-id")
            .values_list("created_at", flat=True)
            .first()
        )
        assert expired_at - started > length


# --- money rows: the dataset's refunded cases are what the services leave ----------------------

MONEY_ACTIONS = ("refund_requested", "refund_issued", "refund_failed")
# The refund columns that describe where a refund is (not whose or how much).
REFUND_STATE = ("status", "attempts", "claim_token", "failure_message", "key_generation")


def _money_timeline(case_id):
    """The case's money rows in the order written: (actor kind, action, from, to, visibility, note)."""
    return [
        tuple(row)
        for row in CaseEvent.objects.filter(case_id=case_id, action__in=MONEY_ACTIONS)
        .order_by("id")
        .values_list("actor_kind", "action", "from_state", "to_state", "visibility", "note")
    ]


def _refund_shape(refund):
    """A refund's state columns, which of its times are set, and the form of its reference. (The
    times themselves differ: the test's after-commit send runs on the real clock, not the scene's.)"""
    return {
        **{name: getattr(refund, name) for name in REFUND_STATE},
        "times set": tuple(
            getattr(refund, name) is not None
            for name in ("created_at", "last_attempt_at", "succeeded_at", "next_attempt_at")
        ),
        "reference like the gateway's": refund.processor_reference.startswith("db_")
        and len(refund.processor_reference) == 27,
    }


def _times_in_order(refund):
    return refund.created_at <= refund.last_attempt_at <= refund.succeeded_at


def test_refund_insert_lists_every_refund_column():
    """Django's defaults are not database defaults: every column of a refund is written explicitly,
    so a new refund column must be taught to the dataset (not silently filled with 'requested')."""
    from bench.dataset import CaseWriter
    from payments.models import Refund

    columns = {field.attname for field in Refund._meta.concrete_fields}
    assert columns == set(CaseWriter.REFUND_FIELDS)


def test_dataset_refunds_are_what_the_services_write():
    """A refunded story in the dataset has the money rows a case accepted through the services has
    once the processor answered: 'refund requested' then 'refund issued', and a settled refund."""
    from cases import services
    from payments.models import Refund
    from tests.factories import case_in_state

    _generate()
    refunded = list(Case.objects.filter(outcome="refunded").select_related("payment"))
    assert refunded
    scene = case_in_state("open")
    at = scene.later(hours=1)
    services.case_accept(case=scene.case, actor=scene.merchant, now=at)
    services.refunds_send_due(now=at + timedelta(seconds=1))
    expected_timeline = _money_timeline(scene.case.pk)
    expected_refund = _refund_shape(Refund.objects.get(case=scene.case))
    assert [row[1] for row in expected_timeline] == ["refund_requested", "refund_issued"]
    assert expected_refund["status"] == "succeeded"

    for case in refunded:
        assert _money_timeline(case.pk) == expected_timeline, case.pk
        refund = Refund.objects.get(case=case)
        assert _refund_shape(refund) == expected_refund, case.pk
        assert _times_in_order(refund), case.pk
        assert refund.amount_cents == case.payment.amount_cents == case.payment.refunded_cents
    # Refunds made outside any case are settled the same way.
    for refund in Refund.objects.filter(case=None):
        assert _refund_shape(refund) == expected_refund
        assert _times_in_order(refund)


def test_dataset_merchant_denials_say_why_as_the_service_writes_them():
    """Each denial by a merchant in the dataset is what cases.services.case_deny leaves: a reason on
    the case, noted on the DENIED event, and the merchant's message at the same moment; denials by a
    reviewer or by the customer's silence have no reason."""
    from cases.models import DenialReason, Message
    from cases.services.answers import denial_note

    _generate()
    denials = CaseEvent.objects.filter(action="denied").select_related("case")
    assert denials.exists()
    for event in denials:
        case = event.case
        assert case.denial_reason in DenialReason.values
        assert event.note == denial_note(case.denial_reason)
        assert Message.objects.filter(case=case, author_kind="merchant", created_at=event.created_at).exists()
    silent_or_reviewed = Case.objects.filter(decided_by_kind__in=["system", "reviewer"], status="denied")
    assert not silent_or_reviewed.exclude(denial_reason="").exists()
