"""Webhook events are recorded in the same transaction as the case change they report: one outbox
row per subscribed endpoint, delivered after the commit (delivery.py). A change rolled back leaves
no event; a change committed always leaves its events, even if the process dies before queueing
them (the every-minute safety net, ``webhook_events_deliver_due``, picks them up).

One service call may append several timeline rows (a denial: the move, the message, its files), each
reported by its own signal. They are folded into one event per case and type per transaction: the
first row records the events, later rows of the same transaction re-render their body, so it shows
the case as committed. Which events:

- ``.created``: the case was opened;
- ``.updated``: any state change or message the merchant can see (DOMAIN.md), unless the case was
  opened in the same transaction (``.created`` already shows it);
- ``.decided``: the case became final (the outcome is settled); its state change is also ``.updated``.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from cases.models import Case, CaseEvent, CaseStatus, Visibility

from .models import EventType, WebhookEndpoint, WebhookEvent, new_event_id
from .payload import body_for, case_data, previous_attributes

A = CaseEvent.Action
# Timeline rows that change what the case shows without moving it.
UPDATE_ACTIONS = {
    A.MESSAGE,
    A.FILE,
    A.REPLIED,
    A.INFO_REQUESTED,
    A.APPEAL_WAIVED,
    A.OFFER_MADE,
    A.OFFER_ACCEPTED,
    A.OFFER_DECLINED,
    A.OFFER_LAPSED,
    A.REFUND_REQUESTED,
    A.REFUND_ISSUED,
    A.REFUND_FAILED,
    A.CREDIT_GRANTED,
}
MERCHANT_VISIBLE = {Visibility.EVERYONE, Visibility.MERCHANT}


def event_types_for(*, action: str, from_state: str, to_state: str, visibility: str) -> set[str]:
    """What one timeline row calls for, before folding (``.updated`` after ``.created`` is dropped later)."""
    if visibility not in MERCHANT_VISIBLE:
        return set()
    if action == A.OPENED:
        return {EventType.CREATED}
    types = set()
    if from_state != to_state or action in UPDATE_ACTIONS:
        types.add(EventType.UPDATED)
    if to_state == CaseStatus.FINAL and from_state != CaseStatus.FINAL:
        types.add(EventType.DECIDED)
    return types


def retry_window() -> timedelta:
    return timedelta(seconds=settings.WEBHOOKS["RETRY_WINDOW_SECONDS"])


@dataclass
class _CaseEvents:
    first_from_state: str
    types: set[str] = field(default_factory=set)
    rows: list[WebhookEvent] = field(default_factory=list)


@dataclass
class _Batch:
    """The events recorded in one transaction; called on commit to queue their delivery."""

    cases: dict[int, _CaseEvents] = field(default_factory=dict)

    def ids(self) -> list[int]:
        return [row.pk for case_events in self.cases.values() for row in case_events.rows]

    def __call__(self) -> None:
        from .delivery import webhook_events_enqueue

        ids = self.ids()
        if ids:
            webhook_events_enqueue(ids=ids)


def _batch() -> _Batch:
    """This transaction's batch. It is registered as an on-commit callback, and Django drops the
    callbacks of a transaction (or savepoint) that rolls back, so a batch whose callback is gone
    belongs to a transaction that no longer exists."""
    connection = transaction.get_connection()
    batch = getattr(connection, "webhooks_batch", None)
    if batch is None or not any(callback is batch for _, callback, _ in connection.run_on_commit):
        batch = _Batch()
        connection.webhooks_batch = batch
        transaction.on_commit(batch, robust=True)
    return batch


def _endpoints_of(company_ids: set[int]) -> dict[int, list[WebhookEndpoint]]:
    """The enabled endpoints of these companies, read afresh for every signal (one indexed query):
    an endpoint added or enabled a moment ago gets the very next change."""
    endpoints: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in WebhookEndpoint.objects.filter(company_id__in=company_ids, enabled=True).order_by("pk"):
        endpoints.setdefault(endpoint.company_id, []).append(endpoint)
    return endpoints


def _record(
    batch: _Batch, case: Case, found: list[tuple[str, set[str]]], now: datetime, endpoints: list[WebhookEndpoint]
) -> None:
    """Fold one case's new timeline rows into the batch, write the rows it now needs, re-render them."""
    if not endpoints:
        return
    state = batch.cases.get(case.pk)
    if state is None:
        state = batch.cases[case.pk] = _CaseEvents(first_from_state=found[0][0])
    for _, types in found:
        state.types |= types
    if EventType.CREATED in state.types:
        state.types.discard(EventType.UPDATED)
    at = now
    data = case_data(case, now=now)
    previous = previous_attributes(case=case, from_state=state.first_from_state)
    have = {(row.endpoint_id, row.type) for row in state.rows}
    # An .updated recorded before the .created (cannot happen in one service, but keep the rule whole).
    stale = [row for row in state.rows if row.type not in state.types]
    if stale:
        WebhookEvent.objects.filter(pk__in=[row.pk for row in stale]).delete()
        state.rows = [row for row in state.rows if row.type in state.types]
    new_rows, changed = [], []
    for row in state.rows:
        at = row.created_at
        row.body = body_for(
            event_id=row.public_id,
            type=row.type,
            case=case,
            at=row.created_at,
            data=data,
            previous=previous if row.type == EventType.UPDATED else None,
        )
        changed.append(row)
    for endpoint in endpoints:
        for type in sorted(state.types):
            if (endpoint.pk, type) in have or type not in endpoint.events:
                continue
            event_id = new_event_id()
            new_rows.append(
                WebhookEvent(
                    public_id=event_id,
                    endpoint=endpoint,
                    case_id=case.pk,
                    type=type,
                    body=body_for(
                        event_id=event_id,
                        type=type,
                        case=case,
                        at=at,
                        data=data,
                        previous=previous if type == EventType.UPDATED else None,
                    ),
                    created_at=at,
                    retry_until=at + retry_window(),
                    next_attempt_at=at,
                )
            )
    if changed:
        WebhookEvent.objects.bulk_update(changed, ["body"])
    if new_rows:
        WebhookEvent.objects.bulk_create(new_rows)
        state.rows.extend(new_rows)


def webhook_events_record(*, events: list[CaseEvent]) -> None:
    """Record the webhook events a list of timeline rows calls for, in the caller's transaction."""
    found: dict[int, list[tuple[str, set[str]]]] = {}
    cases: dict[int, Case] = {}
    for event in events:
        types = event_types_for(
            action=event.action, from_state=event.from_state, to_state=event.to_state, visibility=event.visibility
        )
        if types:
            found.setdefault(event.case_id, []).append((event.from_state, types))
            cases[event.case_id] = event.case
    if not found:
        return
    endpoints = _endpoints_of({case.company_id for case in cases.values()})
    if not endpoints:
        return
    with transaction.atomic(savepoint=False):
        batch = _batch()
        now = max(event.created_at for event in events)
        for case_id, case_found in found.items():
            case = cases[case_id]
            _record(batch, case, case_found, now, endpoints.get(case.company_id, []))


def webhook_events_record_bulk(*, event: CaseEvent, case_ids: list[int]) -> None:
    """The deadline sweep's twin: one timeline row like ``event`` on each of ``case_ids``. Only the
    cases of companies with an enabled endpoint are read (one query when none has)."""
    types = event_types_for(
        action=event.action, from_state=event.from_state, to_state=event.to_state, visibility=event.visibility
    )
    if not types or not case_ids:
        return
    with transaction.atomic(savepoint=False):
        subscribed = list(
            Case.objects.filter(pk__in=case_ids, company__webhook_endpoints__enabled=True)
            .distinct()
            .select_related("company", "customer", "payment__product")
        )
        if not subscribed:
            return
        batch = _batch()
        endpoints = _endpoints_of({case.company_id for case in subscribed})
        for case in subscribed:
            _record(batch, case, [(event.from_state, types)], event.created_at, endpoints.get(case.company_id, []))
