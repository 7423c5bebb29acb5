"""The deadline sweep (run every minute by the task cluster, see cases/tasks.py).

It applies every clock declared in cases/expiry_rules.py to the cases whose deadline passed, and
sends each "24 hours left" reminder once.

Why it is safe to run anywhere, any number of times, at once:

* Each batch is one transaction. On PostgreSQL it picks its cases with ``SELECT … FOR UPDATE SKIP
  LOCKED``, so several sweeps (several clusters) share the work instead of queueing on each other's
  rows; on SQLite the IMMEDIATE transaction holds the write lock for the batch.
* Every write is a compare-and-set (``WHERE status = <old> AND <deadline> < now``, or for reminders
  ``reminder_sent_for`` differing from the deadline), so a party's action that committed first wins
  and the sweep leaves that case alone; a task retried after a crash redoes only what was not
  committed, with the same result.
* The state change, its timeline event and its notifications commit together, or not at all.

The non-money moves are set-based (per batch: one UPDATE of ``rule.fields(now)``, one INSERT … SELECT
of timeline rows, and the notifications recorded by the notifications app from
``case_events_appended_in_bulk``; no model object per case) and write exactly the rows the per-case
``cases.services.deadlines.case_expire`` writes from the same rule
(tests/deadlines/test_bulk_equals_per_case.py holds them equal). Reviewer refunds made final are
requested set-based in the same transaction (one INSERT of refund rows, one UPDATE reserving the
money, cases.services.settlement.refunds_request_for_cases); after commit the processor is asked for
the whole batch concurrently, outside any lock, and the answers are recorded set-based.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from payments.models import ActorKind

from .expiry_rules import REMINDED_PARTY, REMINDER_WINDOW, RULE_BY_STATUS, SET_BASED_RULES, ExpiryRule
from .models import Case, CaseEvent, Visibility
from .services.base import events_append_bulk, system_event
from .services.deadlines import case_expire
from .services.offers import offers_lapse_for_cases
from .services.settlement import refunds_request_for_cases, refunds_send_claimed

log = logging.getLogger(__name__)
# The reminder is a timeline row only the reminded side sees.
PARTY_VISIBILITY = {ActorKind.CUSTOMER: Visibility.CUSTOMER, ActorKind.MERCHANT: Visibility.MERCHANT}

DEFAULTS = {
    "BATCH_SIZE": 1000,
    # Stop starting new batches after this long, well inside the task cluster's timeout; the next
    # minute's sweep carries on.
    "TIME_BUDGET_SECONDS": 40,
    # When a backlog is found, the scheduled sweep queues this many more sweeps so that every
    # worker of every cluster can take batches of it.
    "FAN_OUT": 4,
}


def conf(key: str):
    return {**DEFAULTS, **getattr(settings, "DEADLINE_SWEEP", {})}[key]


@dataclass
class SweepResult:
    escalated: int = 0
    denied: int = 0
    finalized: int = 0
    refunded: int = 0
    reminded: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


class _ChangedUnderUs(Exception):
    """The compare-and-set moved fewer rows than were locked (cannot happen while the locks hold;
    handled anyway, by rolling the batch back and redoing those cases one by one)."""

    def __init__(self, case_ids: list[int]):
        super().__init__(f"{len(case_ids)} cases changed during the batch")
        self.case_ids = case_ids


def _lock_due(queryset, limit: int) -> list:
    """The first ``limit`` rows, locked; rows another sweep has locked are skipped, not waited for."""
    if connection.features.has_select_for_update_skip_locked:
        queryset = queryset.select_for_update(skip_locked=True)
    return list(queryset[:limit])


def _still_due(rule: ExpiryRule, now: datetime):
    """The compare-and-set condition: still in the rule's state, its deadline passed."""
    return Case.objects.filter(status=rule.from_status, **{f"{rule.deadline_field}__lt": now})


def _expired(rule: ExpiryRule, now: datetime):
    # next_deadline_at equals the running deadline; filtering on it uses the partial index.
    return _still_due(rule, now).filter(next_deadline_at__lt=now)


def _commit_without_waiting_for_disk() -> None:
    """PostgreSQL: this transaction's COMMIT returns before its WAL reaches the disk.

    Safe for the sweep: a crash of the database server (not of the sweep) can lose at most the last
    few hundred milliseconds of commits (wal_writer_delay x 3), and loses them whole — never part of a
    batch, never out of order, the database stays consistent. Such a lost batch is simply still due,
    and the next minute's sweep moves it with the same result (every write is a compare-and-set).
    Nobody can have been emailed about a lost batch: a delivery first commits its claim with the
    default (synchronous) commit, which flushes the WAL up to it, the sweep's earlier commit included.
    Only this transaction is affected (SET LOCAL), not the connection or anyone else's.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def expire_batch(rule: ExpiryRule, *, now: datetime, limit: int) -> tuple[int, int]:
    """Move up to ``limit`` overdue cases under one rule; returns (cases picked, cases moved)."""
    try:
        with transaction.atomic():
            _commit_without_waiting_for_disk()
            ids = _lock_due(_expired(rule, now).order_by("next_deadline_at", "pk").values_list("pk", flat=True), limit)
            if not ids:
                return 0, 0
            fields = rule.fields(now)
            # Read before the UPDATE clears the flag: these cases' pending offers lapse with the move.
            lapsing = (
                list(Case.objects.filter(pk__in=ids, offer_pending=True).values_list("pk", flat=True))
                if rule.lapses_offer
                else []
            )
            # By primary key (no next_deadline_at condition, so PostgreSQL does not wander through
            # the partial index's entries of rows moved a moment ago).
            moved = _still_due(rule, now).filter(pk__in=ids).update(**fields)
            if moved != len(ids):
                raise _ChangedUnderUs(ids)
            offers_lapse_for_cases(case_ids=lapsing, now=now)
            event = system_event(
                action=rule.action,
                from_state=rule.from_status,
                to_state=rule.to_status,
                visibility=Visibility.EVERYONE,
                note=rule.note(),
                now=now,
            )
            events_append_bulk(template=event, case_ids=ids, outcome=rule.outcome)
            refunds = (
                refunds_request_for_cases(case_ids=ids, state=rule.to_status, now=now) if rule.settles_refund else None
            )
    except _ChangedUnderUs as changed:
        log.warning("Deadline sweep: %s; redoing them one by one", changed)
        redone = sum(1 for case_id in changed.case_ids if case_expire(case=case_id, now=now, only=(rule,)))
        return len(changed.case_ids), redone
    if refunds is not None and refunds.orders:
        # After commit, outside any lock: the processor is asked for the whole batch concurrently
        # and the answers are recorded set-based. The refunds were born held by this sweep; if it
        # dies here, they fall due when the hold ends and the refund task sends them, same keys.
        refunds_send_claimed(claim=refunds, now=now)
    return len(ids), len(ids)


def _reminder_due(now: datetime):
    not_sent_for_this_deadline = Q(reminder_sent_for__isnull=True) | ~Q(reminder_sent_for=F("next_deadline_at"))
    return Case.objects.filter(
        not_sent_for_this_deadline,
        status__in=list(REMINDED_PARTY),
        next_deadline_at__gt=now,
        next_deadline_at__lte=now + REMINDER_WINDOW,
    )


def remind_batch(*, now: datetime, limit: int) -> tuple[int, int]:
    """Send up to ``limit`` "24 hours left" reminders, each once per deadline: ``reminder_sent_for``
    is set to the deadline by compare-and-set, and a new deadline (after a reply) earns a new one."""
    with transaction.atomic():
        _commit_without_waiting_for_disk()
        rows = _lock_due(_reminder_due(now).order_by("next_deadline_at", "pk").values_list("pk", "status"), limit)
        if not rows:
            return 0, 0
        ids = [case_id for case_id, _ in rows]
        sent = _reminder_due(now).filter(pk__in=ids).update(reminder_sent_for=F("next_deadline_at"))
        if sent != len(ids):
            # Cannot happen while the locks hold; roll back and let the next sweep send them.
            transaction.set_rollback(True)
            log.warning("Deadline sweep: reminders changed during the batch; left for the next sweep")
            return len(ids), 0
        by_status: dict[str, list[int]] = {}
        for case_id, status in rows:
            by_status.setdefault(status, []).append(case_id)
        for status, case_ids in by_status.items():
            event = system_event(
                action=CaseEvent.Action.REMINDER,
                from_state=status,
                to_state=status,
                visibility=PARTY_VISIBILITY[REMINDED_PARTY[status]],
                note=RULE_BY_STATUS[status].reminder_note(),
                now=now,
            )
            events_append_bulk(template=event, case_ids=case_ids)
        return len(ids), len(ids)


def deadlines_sweep(
    *,
    now: datetime | None = None,
    batch_size: int | None = None,
    time_budget: float | None = None,
    on_backlog: Callable[[], None] | None = None,
) -> SweepResult:
    """Run every rule in batches until nothing is due or the time budget is spent.

    ``now`` fixes the clock (tests); by default each batch reads it afresh. ``on_backlog`` is
    called once, the first time a batch comes back full, so the caller can bring in helpers.
    """
    batch_size = batch_size or conf("BATCH_SIZE")
    budget = conf("TIME_BUDGET_SECONDS") if time_budget is None else time_budget
    started = time.monotonic()
    result = SweepResult()
    backlog_reported = False

    def clock() -> datetime:
        return now or timezone.now()

    def keep_going(picked: int, limit: int) -> bool:
        nonlocal backlog_reported
        if picked < limit or time.monotonic() - started > budget:
            return False
        if on_backlog is not None and not backlog_reported:
            backlog_reported = True
            on_backlog()
        return True

    for rule in SET_BASED_RULES:
        while True:
            picked, moved = expire_batch(rule, now=clock(), limit=batch_size)
            setattr(result, rule.name, getattr(result, rule.name) + moved)
            if not keep_going(picked, batch_size):
                break
    while True:
        picked, sent = remind_batch(now=clock(), limit=batch_size)
        result.reminded += sent
        if not keep_going(picked, batch_size):
            break
    return result
