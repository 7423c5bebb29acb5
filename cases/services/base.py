"""The building blocks every case action uses: the clock, the row lock, the timeline row and the
FSM move saved by compare-and-set."""

from datetime import datetime

from django.db import connection
from django.utils import timezone
from django_fsm import ConcurrentTransition, can_proceed

from payments.models import ActorKind
from resolution_center.exceptions import ApplicationError, ConcurrentUpdateError, InvalidTransitionError

from ..expiry_rules import DEADLINE_FIELDS
from ..models import Case, CaseEvent, CaseStatus, Visibility
from ..policy import status_words
from ..signals import case_events_appended, case_events_appended_in_bulk

MAX_DESCRIPTION = 5000
MAX_MESSAGE = 5000


def now_or(now: datetime | None) -> datetime:
    if now is None:
        return timezone.now()
    if timezone.is_naive(now):
        raise ValueError("now must be timezone-aware")
    return now


def lock(case: Case | int) -> Case:
    # Lock only the case row: FOR UPDATE on the joined company would serialise a whole company.
    case_id = case if isinstance(case, int) else case.pk
    try:
        return Case.objects.select_for_update(of=("self",)).select_related("company", "payment").get(pk=case_id)
    except Case.DoesNotExist:
        raise ApplicationError("This case does not exist.") from None


def event_append(
    *,
    case: Case,
    actor_kind: str,
    actor,
    action: str,
    now: datetime,
    from_state: str | None = None,
    to_state: str | None = None,
    note: str = "",
    visibility: str = Visibility.EVERYONE,
    told_by_change: bool = False,
) -> CaseEvent:
    """Append one timeline row; from/to default to the current state (an event without a move).
    ``told_by_change``: a message's row whose news the state change posted with it carries."""
    event = CaseEvent.objects.create(
        case=case,
        actor_kind=actor_kind,
        actor=actor if actor_kind != ActorKind.SYSTEM else None,
        action=action,
        from_state=case.status if from_state is None else from_state,
        to_state=case.status if to_state is None else to_state,
        visibility=visibility,
        note=note,
        created_at=now,
    )
    case_events_appended.send(sender=CaseEvent, events=[event], told_by_change=told_by_change)
    return event


def move(
    case: Case,
    transition_name: str,
    *,
    actor_kind: str,
    actor,
    action: str,
    now: datetime,
    doing: str,
    note: str = "",
    deadline: tuple[str, datetime] | None = None,
    **fields,
) -> CaseEvent:
    """Run one FSM transition on a locked case, save it by compare-and-set, append its event.

    Every running deadline stops (the new state starts its own: ``deadline``); ``fields`` are written
    as given. The policy has already said yes; the FSM graph is the last line of defence."""
    method = getattr(case, transition_name)
    if not can_proceed(method):
        raise InvalidTransitionError(f"This case is {status_words(case.status)}, so you can no longer {doing}.")
    from_state = case.status
    method()
    for name in (*DEADLINE_FIELDS, "next_deadline_at"):
        setattr(case, name, None)
    if deadline is not None:
        setattr(case, deadline[0], deadline[1])
        case.next_deadline_at = deadline[1]
    for name, value in fields.items():
        if name != "status":  # the transition set it
            setattr(case, name, value)
    case.updated_at = now
    if case.status == CaseStatus.FINAL:
        case.closed_at = now
    try:
        case.save()
    except ConcurrentTransition:
        raise ConcurrentUpdateError("Someone else changed this case at the same moment. Please reload it.") from None
    return event_append(
        case=case,
        actor_kind=actor_kind,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=case.status,
        note=note,
        now=now,
    )


def clean_text(text: str | None, *, what: str, limit: int, required: bool = True) -> str:
    text = (text or "").strip()
    if required and not text:
        raise ApplicationError(f"Please write {what}.")
    if len(text) > limit:
        raise ApplicationError(f"{what[0].upper()}{what[1:]} can be at most {limit} characters.")
    return text


def events_append_bulk(*, template: CaseEvent, case_ids: list[int], outcome: str = "") -> None:
    """One timeline row like ``template`` for each case, in one INSERT … SELECT (no model per row),
    and the notifications it calls for (``case_events_appended_in_bulk``)."""
    placeholders = ", ".join(["%s"] * len(case_ids))
    sql = f"""
        INSERT INTO {connection.ops.quote_name(CaseEvent._meta.db_table)}
            (case_id, actor_kind, actor_id, action, from_state, to_state, visibility, note, created_at)
        SELECT id, %s, NULL, %s, %s, %s, %s, %s, %s FROM {connection.ops.quote_name(Case._meta.db_table)}
        WHERE id IN ({placeholders})
    """
    params = [
        template.actor_kind,
        template.action,
        template.from_state,
        template.to_state,
        template.visibility,
        template.note,
        connection.ops.adapt_datetimefield_value(template.created_at),
        *case_ids,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    case_events_appended_in_bulk.send(sender=CaseEvent, event=template, case_ids=case_ids, outcome=outcome)


def system_event(*, action: str, from_state: str, to_state: str, visibility: str, note: str, now: datetime):
    return CaseEvent(
        actor_kind=ActorKind.SYSTEM,
        action=action,
        from_state=from_state,
        to_state=to_state,
        visibility=visibility,
        note=note,
        created_at=now,
    )
