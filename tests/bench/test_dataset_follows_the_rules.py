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
