"""The sweep's set-based batches write exactly the rows the per-case services write.

What a passing deadline does is declared once, in cases/expiry_rules.py; the per-case service
(cases.services.deadlines.case_expire) applies a rule to one case, and the sweep applies the same
rule to a thousand cases with one UPDATE and bulk inserts. These tests run both on
twin cases and compare every column a person could see: the case, its new timeline rows, and the
notifications with their wording.
"""

from datetime import UTC, datetime, timedelta

import pytest

from cases import services, sweeps
from cases.expiry_rules import REMINDED_PARTY, RULE_BY_STATUS, SET_BASED_RULES
from cases.models import Case, CaseEvent, CaseOffer, Visibility
from cases.services import case_expire, refunds_send_due
from notifications.models import Notification, UserPreferences
from notifications.services import notifications_for_events
from payments.models import Membership
from tests.factories import case_in_state, merchant_of

pytestmark = pytest.mark.django_db
START = datetime(2026, 5, 4, 8, 30, tzinfo=UTC)
CASE_FIELDS = [
    f.attname
    for f in Case._meta.concrete_fields
    if f.attname not in {"id", "payment_id", "company_id", "customer_id", "decided_by_id"}
]


def with_everyone(scene):
    """Around the case: a member with emails off, an inactive member, and a customer who is also a
    member of the company (each changes who is told, or how)."""
    quiet = merchant_of(scene.case.company, role=Membership.Role.SUPPORT)
    UserPreferences.objects.create(user=quiet, resolution_center_emails=False)
    gone = merchant_of(scene.case.company, role=Membership.Role.SUPPORT)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    Membership.objects.create(company=scene.case.company, user=scene.customer, role=Membership.Role.SUPPORT)
    scene.extra = {quiet.pk: "quiet member", gone.pk: "inactive member"}
    return scene


def _people(scene) -> dict[int | None, str]:
    return {
        None: None,
        scene.customer.pk: "customer",
        scene.merchant.pk: "merchant",
        scene.reviewer.pk: "reviewer",
        **getattr(scene, "extra", {}),
    }


def _normalise(text: str, scene) -> str:
    case = scene.case
    return (
        text.replace(f"#{case.pk}", "#N")
        .replace(case.payment.product.name, "<product>")
        .replace(case.company.name, "<company>")
    )


def snapshot(scene, since_event_id: int, since_notification_id: int) -> dict:
    """Everything the deadline wrote on this case, with ids and names made comparable."""
    case = Case.objects.get(pk=scene.case.pk)
    people = _people(scene)
    events = [
        (people[e.actor_id], e.actor_kind, e.action, e.from_state, e.to_state, e.visibility, e.note, e.created_at)
        for e in case.events.filter(id__gt=since_event_id).order_by("id")
    ]
    notifications = sorted(
        (
            people[n.recipient_id],
            n.party,
            n.kind,
            _normalise(n.subject, scene),
            _normalise(n.what_happened, scene),
            _normalise(n.next_step, scene),
            n.deadline,
            n.created_at,
            n.email_status,
            n.email_next_attempt_at,
            n.read_at,
        )
        for n in Notification.objects.filter(case=case, id__gt=since_notification_id)
    )
    refunds = [
        (r.amount_cents, r.currency, r.status, r.initiated_by_kind, people[r.initiated_by_id], r.attempts)
        for r in case.refunds.all()
    ]
    return {
        "case": {name: getattr(case, name) for name in CASE_FIELDS} | {"decided_by": people[case.decided_by_id]},
        "events": events,
        "notifications": notifications,
        "refunds": refunds,
    }


def last_ids() -> tuple[int, int]:
    return (
        CaseEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0,
        Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0,
    )


@pytest.mark.parametrize("rule", SET_BASED_RULES, ids=lambda rule: rule.name)
def test_bulk_batch_writes_the_same_rows_as_the_per_case_service(rule):
    """For each deadline the sweep handles in bulk, a case moved by the batch looks exactly like its
    twin moved by the per-case service: same fields, same timeline rows, same notifications, and
    for a reviewer's refund the same refund row, requested and then sent to the processor."""
    status = rule.from_status
    by_service = with_everyone(case_in_state(status, now=START))
    by_batch = with_everyone(case_in_state(status, now=START))
    after = getattr(by_service.case, rule.deadline_field) + timedelta(seconds=5)
    assert getattr(by_batch.case, rule.deadline_field) == getattr(by_service.case, rule.deadline_field)

    marks = last_ids()
    assert case_expire(case=by_service.case.pk, now=after, only=(rule,)) is True
    # The per-case service's refund is sent after its commit (never run inside a test's transaction);
    # the retry task sends it at the same clock as the sweep's batch.
    refunds_send_due(now=after)
    service_rows = snapshot(by_service, *marks)
    marks = last_ids()
    assert sweeps.expire_batch(rule, now=after, limit=10) == (1, 1)
    batch_rows = snapshot(by_batch, *marks)

    assert batch_rows == service_rows
    assert service_rows["case"]["status"] == rule.to_status
    actions = [event[2] for event in service_rows["events"]]
    assert actions == ([rule.action, "refund_requested", "refund_issued"] if rule.settles_refund else [rule.action])
    assert service_rows["refunds"] == (
        [(5000, "USD", "succeeded", "reviewer", "reviewer", 1)] if rule.settles_refund else []
    )
    assert service_rows["notifications"]


def test_bulk_batch_lapses_a_pending_offer_exactly_as_the_per_case_service():
    """reply_by passing on a case whose partial refund offer waits: both paths lapse the offer (same
    offer row, same "offer lapsed" timeline row before the denial) and clear the pending flag."""
    rule = RULE_BY_STATUS["info_requested"]
    scenes = []
    for _ in range(2):
        scene = with_everyone(case_in_state("open", now=START))
        services.case_offer(
            case=scene.case.pk, actor=scene.merchant, amount_cents=2000, message="Half?", now=START + timedelta(hours=1)
        )
        scenes.append(scene)
    by_service, by_batch = scenes
    after = by_service.refresh().reply_by + timedelta(seconds=5)

    marks = last_ids()
    assert case_expire(case=by_service.case.pk, now=after, only=(rule,)) is True
    service_rows = snapshot(by_service, *marks)
    marks = last_ids()
    assert sweeps.expire_batch(rule, now=after, limit=10) == (1, 1)
    batch_rows = snapshot(by_batch, *marks)

    assert batch_rows == service_rows
    assert [event[2] for event in service_rows["events"]] == ["offer_lapsed", rule.action]
    assert service_rows["case"]["offer_pending"] is False
    offers = [list(CaseOffer.objects.filter(case=scene.case).values_list("status", "answered_at")) for scene in scenes]
    assert offers[0] == offers[1] == [("lapsed", after)]


def test_bulk_batch_after_a_conflict_falls_back_to_the_per_case_service(monkeypatch, caplog):
    """If the compare-and-set ever moved fewer rows than were locked (someone else's change), the
    batch rolls back and each case goes through the per-case service: each still moves exactly once."""
    scenes = [case_in_state("open", now=START) for _ in range(3)]
    after = scenes[0].case.respond_by + timedelta(seconds=5)
    rule = RULE_BY_STATUS["open"]
    real_still_due = sweeps._still_due
    calls = []

    def one_case_gone_by_the_update(rule, now):
        calls.append(now)
        queryset = real_still_due(rule, now)
        return queryset if len(calls) == 1 else queryset.exclude(pk=scenes[0].case.pk)

    monkeypatch.setattr(sweeps, "_still_due", one_case_gone_by_the_update)

    assert sweeps.expire_batch(rule, now=after, limit=10) == (3, 3)

    assert "redoing them one by one" in caplog.text
    for scene in scenes:
        case = scene.refresh()
        assert case.status == "escalated"
        assert case.events.filter(action="escalated").count() == 1
        assert Notification.objects.filter(case=case, kind="escalated", recipient=scene.customer).count() == 1


@pytest.mark.parametrize("status", list(REMINDED_PARTY))
def test_bulk_reminders_write_the_same_rows_as_the_per_event_path(status):
    """A reminder written by the sweep's batch has the same timeline row and notifications as the
    same reminder event run through notifications_for_events (the path every service uses)."""
    by_events = with_everyone(case_in_state(status, now=START))
    by_batch = with_everyone(case_in_state(status, now=START))
    at = by_events.case.next_deadline_at - timedelta(hours=20)

    marks = last_ids()
    event = CaseEvent.objects.create(
        case=by_events.case,
        actor_kind="system",
        action=CaseEvent.Action.REMINDER,
        from_state=status,
        to_state=status,
        visibility=sweeps.PARTY_VISIBILITY[REMINDED_PARTY[status]],
        note=RULE_BY_STATUS[status].reminder_note(),
        created_at=at,
    )
    notifications_for_events(events=[event])
    Case.objects.filter(pk=by_events.case.pk).update(reminder_sent_for=by_events.case.next_deadline_at)
    event_rows = snapshot(by_events, *marks)
    marks = last_ids()
    assert sweeps.remind_batch(now=at, limit=10) == (1, 1)
    batch_rows = snapshot(by_batch, *marks)

    assert batch_rows == event_rows
    assert batch_rows["notifications"]
    assert {row[0] for row in batch_rows["notifications"]} <= {"customer", "merchant", "quiet member"}
    waiting_on = {
        "open": Visibility.MERCHANT,
        "info_requested": Visibility.CUSTOMER,
        "accepted": Visibility.MERCHANT,
        "denied": Visibility.CUSTOMER,
    }
    assert batch_rows["events"][0][5] == waiting_on[status]
