"""Hypothesis drives random sequences of actions by random actors (the customer, the company's
merchant, another company's merchant, a reviewer, the clock) and compares the services with a small
model of DOMAIN.md's transition table. After every step, for every case opened so far:

- the state is one of DOMAIN.md's, and the one the table says;
- a case never leaves `final`;
- at most one refund per case (exactly one when it ends refunded), at most one credit, and the
  payment's refunded total never exceeds its amount;
- exactly one timeline event per state change, the events forming one unbroken chain of states, and
  exactly one "24 hours left" reminder per deadline the sweep found less than 24 hours away;
- the case and its twin (below) wrote the same rows.

Every case has a twin in a second world (another company, another customer, the same reviewer and
the same other company's merchant). Every action is done in both worlds alike, at the same time; only
the clock differs. When time passes and the deadline sweep runs (cases.sweeps.deadlines_sweep, the
real one, over the whole database), the twins in the second world have first been moved one by one by
the per-case service (cases.services.case_expire), so the sweep finds nothing due there and moves
only the first world's cases. The twins must then look alike: the same case fields, the same
timeline rows (actor, action, states, visibility, note, time), the same notifications (recipient,
kind, wording, deadline) and the same refunds and credits, with ids and names made comparable.

Every refusal must be a clean ApplicationError that writes nothing. When the current case closes,
the customer opens another one (on a new payment; a second case on the old one is refused).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from cases import services
from cases.models import Case, CaseEvent, CaseStatus
from cases.sweeps import deadlines_sweep
from notifications.models import Notification
from payments.models import FINANCING_METHODS, BalanceCredit, Company, Payment, Refund
from resolution_center.exceptions import ApplicationError, NotEligibleError
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, merchant_of, reviewer

S = CaseStatus
WEEK = timedelta(days=7)
AMOUNT = 5000
# A partial refund offer (DOMAIN.md, "Settling faster"): above zero, below what is left; 2 a case.
OFFER_AMOUNT = 2000
MAX_OFFERS = 2
DECISIONS = ["refund", "credit", "merchant_wins"]
UNDECIDED = {S.OPEN, S.INFO_REQUESTED}
# The states each action of the transition table starts from.
ACTION_SOURCES = {
    "request_info": {S.OPEN},
    "reply": {S.INFO_REQUESTED},
    "accept": UNDECIDED,
    "deny": UNDECIDED,
    "withdraw": UNDECIDED,
    "message": set(S) - {S.FINAL},
    "appeal": {S.ACCEPTED, S.DENIED},
    "waive_appeal": {S.ACCEPTED, S.DENIED},
    "decide": {S.ESCALATED},
    "decide_appeal": {S.APPEALED},
    "refund_in_full": set(S) - {S.FINAL},
    "offer": UNDECIDED,
    "accept_offer": {S.INFO_REQUESTED},
    "decline_offer": {S.INFO_REQUESTED},
}
# What each actor may ever do (another company's merchant: nothing to this case). Moves that keep the
# case going come first, because Hypothesis favours the first choices while it explores and shrinks.
ACTOR_ACTIONS = {
    "customer": ["message", "reply", "decline_offer", "appeal", "withdraw", "waive_appeal", "accept_offer"],
    "merchant": ["message", "offer", "request_info", "deny", "appeal", "accept", "waive_appeal", "refund_in_full"],
    "reviewer": ["message", "decide", "decide_appeal"],
    "other_merchant": [],
}
# Decided (cases/policy.py): while a request for information waits on the customer, their words go
# through Reply (which answers it); a plain message is refused.
ANSWERED_WITH_REPLY = {("customer", "message", S.INFO_REQUESTED)}
# The customer's answers to a pending offer, offered only while one waits (when Reply is not).
ANSWERS_AN_OFFER = {"accept_offer", "decline_offer"}
CLOSES_THE_CASE = {"accept", "withdraw", "waive_appeal", "refund_in_full", "accept_offer"}
WHO = ["merchant", "customer", "clock", "reviewer", "other_merchant"]
# The worlds: the sweep moves the first one's cases, case_expire the second one's.
SWEPT, PER_CASE = 0, 1
# Where the clock may land around a deadline (or the moment its reminder falls due): a deadline is
# inclusive, so "at" moves nothing and one microsecond later moves the case.
AROUND = [
    -timedelta(minutes=1),
    -timedelta(microseconds=1),
    timedelta(0),
    timedelta(microseconds=1),
    timedelta(seconds=1),
    timedelta(minutes=1),
]
# DOMAIN.md: the party a running deadline waits on is reminded when it is 24 hours away.
REMINDER_WINDOW = timedelta(hours=24)
# How far the clock moves when it is not aimed at a deadline: minutes, hours or days (up to 10).
STEPS = st.one_of(
    st.integers(1, 59).map(lambda n: timedelta(minutes=n)),
    st.integers(1, 47).map(lambda n: timedelta(hours=n)),
    st.integers(2 * 24 * 60, 10 * 24 * 60).map(lambda n: timedelta(minutes=n)),
)
# What the clock's sweep may write on a case, by the state the case was in (the rule of that state).
SWEEP_COUNTERS = {"open": "escalated", "info_requested": "denied", "denied": "finalized", "accepted": "refunded"}


@dataclass
class World:
    """A company, its merchant and its customer, with the reviewer and the other company's merchant
    both worlds share."""

    company: Company
    actors: dict

    def people(self) -> dict[int | None, str | None]:
        """Each user's role, to compare the two worlds' rows."""
        return {None: None} | {user.pk: role for role, user in self.actors.items()}


@dataclass
class Expected:
    """What DOMAIN.md says one case (and its twin, in the other world) should look like now."""

    case_ids: tuple[int, int]
    payment_ids: tuple[int, int]
    status: str
    outcome: str = ""
    deadline: datetime | None = None
    state_changes: int = 1  # "" -> open
    info_requests: int = 0
    appealed: bool = False
    was_final: bool = False
    offers: int = 0
    offer_pending: bool = False
    # What a refunded outcome refunds: what is left of the payment, or an accepted offer's amount.
    refund_amount: int = AMOUNT
    # The deadlines the sweep sent a "24 hours left" reminder for.
    reminded: list[datetime] = field(default_factory=list)


class CaseLifecycle(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Each example runs in its own savepoint, rolled back in teardown, so examples never meet.
        self._atomic = transaction.atomic()
        # It stands for the test's own transaction (as pytest-django's does): code that must run
        # outside any transaction, like sending refunds to the processor, may run inside it.
        self._atomic._from_testcase = True
        self._atomic.__enter__()
        self.cases: list[Expected] = []

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @property
    def current(self) -> Expected:
        return self.cases[-1]

    def _all_case_ids(self) -> list[int]:
        return [pk for expected in self.cases for pk in expected.case_ids]

    # --- opening cases ----------------------------------------------------------------------------

    @initialize()
    def meet_the_people(self):
        shared = {"other_merchant": merchant_of(CompanyFactory()), "reviewer": reviewer()}
        self.worlds = []
        for _ in (SWEPT, PER_CASE):
            company = CompanyFactory(auto_refund_message="Refunded automatically.")
            actors = {"customer": UserFactory(), "merchant": merchant_of(company), **shared}
            self.worlds.append(World(company=company, actors=actors))
        self.now = timezone.now()
        self._open(method="card", threshold=0)

    def _open(self, *, method: str, threshold: int) -> None:
        """The customer opens a case on a new payment, in both worlds."""
        case_ids, payment_ids = [], []
        for world in self.worlds:
            world.company.auto_refund_card_below_cents = world.company.auto_refund_paypal_below_cents = threshold
            world.company.save()
            customer = world.actors["customer"]
            payment = PaymentFactory(
                company=world.company, customer=customer, method=method, amount_cents=AMOUNT, paid_at=self.now
            )
            case = services.case_open(
                customer=customer, payment=payment, reason="not_received", description="Lost", now=self.now
            )
            case_ids.append(case.pk)
            payment_ids.append(payment.pk)
        self.cases.append(
            Expected(case_ids=tuple(case_ids), payment_ids=tuple(payment_ids), status=S.OPEN, deadline=self.now + WEEK)
        )
        if method in FINANCING_METHODS or threshold > AMOUNT:
            self._moved(S.FINAL, outcome="refunded")

    @precondition(lambda self: self.current.status == S.FINAL)
    @rule(
        # Mostly cases that wait on the merchant; automatic refunds now and then (tested in full elsewhere).
        method=st.sampled_from(["card", "paypal", "card", "paypal", "klarna", "zip"]),
        threshold_offset=st.sampled_from([None, None, None, -1, 0, 1]),
        again_on_the_old_payment=st.booleans(),
    )
    def customer_opens_another_case(self, method, threshold_offset, again_on_the_old_payment):
        """The current case is closed; the customer first may try the same payment again (refused: one
        case per payment, ever), then opens a case on a new payment."""
        if again_on_the_old_payment:
            count = Case.objects.count()
            for world, payment_id in zip(self.worlds, self.current.payment_ids, strict=True):
                with pytest.raises(NotEligibleError):
                    services.case_open(
                        customer=world.actors["customer"],
                        payment=payment_id,
                        reason="poor_quality",
                        description="Again",
                        now=self.now,
                    )
            assert Case.objects.count() == count
        # An hour later, so the claim rate limit (a few cases per customer per hour) never applies.
        # Every case so far is final, so no deadline sweep is skipped.
        self.now += timedelta(hours=1, minutes=1)
        self._open(method=method, threshold=0 if threshold_offset is None else AMOUNT + threshold_offset)

    # --- the model ------------------------------------------------------------------------------

    def _moved(self, status, *, outcome="", deadline=None, expected: Expected | None = None):
        """Record in the model that a case (the current one unless named) moved to ``status``."""
        expected = expected or self.current
        if expected.status != status:  # an offer on an info-requested case changes no state
            expected.state_changes += 1
        expected.status, expected.outcome, expected.deadline = status, outcome, deadline
        # Every move of the table ends a pending offer's wait (accepted, declined or lapsed), but a new offer.
        expected.offer_pending = False
        event(f"reached {status} {outcome}".strip())  # shown by --hypothesis-show-statistics

    def _expire(self, expected: Expected) -> None:
        """Record in the model that a case's running deadline passed (DOMAIN.md's clock)."""
        if expected.status == S.OPEN:
            self._moved(S.ESCALATED, expected=expected)
        elif expected.status == S.INFO_REQUESTED:
            self._moved(S.DENIED, deadline=self.now + WEEK, expected=expected)
        else:
            outcome = "refunded" if expected.status == S.ACCEPTED else "denied"
            self._moved(S.FINAL, outcome=outcome, expected=expected)

    def _attempt(self, allowed: bool, actor: str, call: Callable[[int, object], object]) -> bool:
        """Run a service as ``actor`` on the current case in each world (``call(case_id, user)``); it
        must succeed exactly when the model allows it, and refuse cleanly otherwise."""
        for world, case_id in zip(self.worlds, self.current.case_ids, strict=True):
            events_before = CaseEvent.objects.count()
            try:
                call(case_id, world.actors[actor])
            except ApplicationError as refusal:
                assert not allowed, f"refused although DOMAIN.md allows it: {refusal.message}"
                assert refusal.message.strip(), "a refusal must say why"
                assert CaseEvent.objects.count() == events_before, "a refusal wrote to the timeline"
                continue
            assert allowed, f"allowed although DOMAIN.md refuses it (the case was {self.current.status})"
        return allowed

    def _do(self, name: str, actor: str, decision: str) -> None:
        """Attempt one action of the transition table as ``actor`` on the current case (in both worlds)."""
        now, expected = self.now, self.current
        status = expected.status
        appellant = None if expected.appealed else {S.DENIED: "customer", S.ACCEPTED: "merchant"}.get(status)
        if name == "request_info":
            # The fourth request is refused.
            allowed = actor == "merchant" and status == S.OPEN and expected.info_requests < 3
            if self._attempt(
                allowed,
                actor,
                lambda case, user: services.case_request_info(case=case, actor=user, message="Details?", now=now),
            ):
                expected.info_requests += 1
                self._moved(S.INFO_REQUESTED, deadline=now + WEEK)
        elif name == "reply":
            # While an offer waits, the customer answers the offer instead (cases/policy.py).
            allowed = actor == "customer" and status == S.INFO_REQUESTED and not expected.offer_pending
            if self._attempt(
                allowed, actor, lambda case, user: services.case_reply(case=case, actor=user, message="Here.", now=now)
            ):
                self._moved(S.OPEN, deadline=now + WEEK)
        elif name == "offer":
            allowed = (
                actor == "merchant"
                and status in UNDECIDED
                and not expected.offer_pending
                and expected.offers < MAX_OFFERS
            )
            if self._attempt(
                allowed,
                actor,
                lambda case, user: services.case_offer(
                    case=case, actor=user, amount_cents=OFFER_AMOUNT, message="Would $20 do?", now=now
                ),
            ):
                expected.offers += 1
                self._moved(S.INFO_REQUESTED, deadline=now + WEEK)
                expected.offer_pending = True
        elif name == "accept_offer":
            allowed = actor == "customer" and expected.offer_pending
            if self._attempt(
                allowed, actor, lambda case, user: services.case_offer_accept(case=case, actor=user, now=now)
            ):
                expected.refund_amount = OFFER_AMOUNT
                self._moved(S.FINAL, outcome="refunded")
        elif name == "decline_offer":
            allowed = actor == "customer" and expected.offer_pending
            if self._attempt(
                allowed,
                actor,
                lambda case, user: services.case_offer_decline(case=case, actor=user, message="No, thanks.", now=now),
            ):
                self._moved(S.OPEN, deadline=now + WEEK)
        elif name == "accept":
            allowed = actor == "merchant" and status in UNDECIDED
            if self._attempt(allowed, actor, lambda case, user: services.case_accept(case=case, actor=user, now=now)):
                self._moved(S.FINAL, outcome="refunded")
        elif name == "refund_in_full":
            # DOMAIN.md, "Refund in full at any stage": the merchant, in any state but final.
            allowed = actor == "merchant" and status != S.FINAL
            if self._attempt(
                allowed, actor, lambda case, user: services.case_refund_in_full(case=case, actor=user, now=now)
            ):
                self._moved(S.FINAL, outcome="refunded")
        elif name == "deny":
            allowed = actor == "merchant" and status in UNDECIDED
            if self._attempt(
                allowed,
                actor,
                lambda case, user: services.case_deny(
                    case=case, actor=user, now=now, reason="delivered_as_described", message="It was delivered."
                ),
            ):
                self._moved(S.DENIED, deadline=now + WEEK)
        elif name == "withdraw":
            allowed = actor == "customer" and status in UNDECIDED
            if self._attempt(allowed, actor, lambda case, user: services.case_withdraw(case=case, actor=user, now=now)):
                self._moved(S.FINAL, outcome="withdrawn")
        elif name == "message":
            allowed = (
                actor != "other_merchant" and status != S.FINAL and (actor, name, status) not in ANSWERED_WITH_REPLY
            )
            self._attempt(
                allowed, actor, lambda case, user: services.case_message_post(case=case, actor=user, body="Hi", now=now)
            )
        elif name == "appeal":
            # The customer appeals a denial, the merchant a reviewer's refund; once per case.
            if self._attempt(
                appellant == actor,
                actor,
                lambda case, user: services.case_appeal(case=case, actor=user, statement="Unfair", now=now),
            ):
                expected.appealed = True
                self._moved(S.APPEALED)
        elif name == "waive_appeal":
            if self._attempt(
                appellant == actor, actor, lambda case, user: services.case_appeal_waive(case=case, actor=user, now=now)
            ):
                self._moved(S.FINAL, outcome="refunded" if status == S.ACCEPTED else "denied")
        elif name == "decide":
            allowed = actor == "reviewer" and status == S.ESCALATED
            if self._attempt(
                allowed,
                actor,
                lambda case, user: services.case_decide(
                    case=case, actor=user, decision=decision, note="Decided.", now=now
                ),
            ):
                if decision == "refund":
                    self._moved(S.ACCEPTED, deadline=now + WEEK)
                elif decision == "credit":
                    self._moved(S.FINAL, outcome="credited")
                else:
                    self._moved(S.DENIED, deadline=now + WEEK)
        elif name == "decide_appeal":
            allowed = actor == "reviewer" and status == S.APPEALED
            if self._attempt(
                allowed,
                actor,
                lambda case, user: services.case_decide_appeal(
                    case=case, actor=user, decision=decision, note="Final.", now=now
                ),
            ):
                self._moved(S.FINAL, outcome={"refund": "refunded", "credit": "credited"}.get(decision, "denied"))
        else:
            raise AssertionError(f"unknown action {name}")

    def _time_passes(self, hours: int) -> None:
        """The clock moves on and the system runs the three per-case deadline services over every case
        (in both worlds). Deadlines are inclusive: a service acts only once one has passed."""
        self.now += timedelta(hours=hours)
        for expected in list(self.cases):
            overdue = expected.deadline is not None and expected.deadline < self.now
            for case_id in expected.case_ids:
                moved = [
                    services.case_escalate_overdue(case=case_id, now=self.now),
                    services.case_deny_unanswered(case=case_id, now=self.now),
                    services.case_finalize_expired(case=case_id, now=self.now),
                ]
                if not overdue:
                    assert moved == [False, False, False], f"a service moved a {expected.status} case too early"
                else:
                    assert moved.count(True) == 1, f"services {moved} on an overdue {expected.status} case"
            if overdue:
                self._expire(expected)

    @rule(data=st.data())
    def someone_acts_or_time_passes(self, data):
        """One of the parties, another company's merchant or the clock moves. A party mostly picks an
        action the current case's state offers it, sometimes any action at all (to be refused)."""
        who = data.draw(st.sampled_from(WHO), label="who")
        if who == "clock":
            self._time_passes(data.draw(st.integers(min_value=1, max_value=8 * 24), label="hours"))
            return
        status, pending = self.current.status, self.current.offer_pending
        offered = [
            name
            for name in ACTOR_ACTIONS[who]
            if status in ACTION_SOURCES[name]
            and (who, name, status) not in ANSWERED_WITH_REPLY
            and (name not in ANSWERS_AN_OFFER or pending)
            and not (name == "reply" and pending)
        ]
        # Moves that keep the case going count twice, so cases often live long enough to be appealed.
        offered += [name for name in offered if name not in CLOSES_THE_CASE]
        anything = not offered or data.draw(st.integers(0, 3), label="anything") == 0
        name = data.draw(st.sampled_from(sorted(ACTION_SOURCES) if anything else offered), label="action")
        self._do(name, who, data.draw(st.sampled_from(DECISIONS), label="decision"))

    def _landmarks(self) -> list[datetime]:
        """The moments ahead where the sweep's answer changes: every running deadline of the first
        world's cases, as the model and the database hold it, and the moment its reminder falls due."""
        deadlines = {expected.deadline for expected in self.cases if expected.status != S.FINAL}
        for row in (
            Case.objects.filter(pk__in=[e.case_ids[SWEPT] for e in self.cases])
            .exclude(status=S.FINAL)
            .values("respond_by", "reply_by", "appeal_by", "next_deadline_at")
        ):
            deadlines.update(row.values())
        deadlines.discard(None)
        return sorted(moment for d in deadlines for moment in (d, d - REMINDER_WINDOW) if moment > self.now)

    @rule(data=st.data(), batch_size=st.sampled_from([1000, 1, 2]))
    def time_passes_and_the_deadline_sweep_runs(self, data, batch_size):
        """The clock moves on, by minutes to 10 days, often to just before, at or just after a running
        deadline (or the moment its reminder falls due). The second world's cases are moved one by one
        by case_expire; then the real deadline sweep runs over the whole database, in batches of
        ``batch_size``, and must move exactly the first world's cases the model says are overdue and
        remind exactly those whose deadline is less than 24 hours away."""
        landmarks = self._landmarks()
        if landmarks and data.draw(st.integers(0, 2), label="near a deadline") == 0:
            landmark = data.draw(st.sampled_from(landmarks), label="landmark")
            now = landmark + data.draw(st.sampled_from(AROUND), label="offset")
            if now <= self.now:
                now = landmark
        else:
            now = self.now + data.draw(STEPS, label="step")
        assert now > self.now
        self.now = now

        for expected in self.cases:
            # The per-case path: one move at most (every move starts a deadline at least a week out).
            overdue = expected.deadline is not None and expected.deadline < now
            assert services.case_expire(case=expected.case_ids[PER_CASE], now=now) is overdue, expected
            assert services.case_expire(case=expected.case_ids[PER_CASE], now=now) is False

        result = deadlines_sweep(now=now, batch_size=batch_size).as_dict()

        counts = dict.fromkeys(result, 0)
        for expected in self.cases:
            if expected.deadline is not None and expected.deadline < now:
                counts[SWEEP_COUNTERS[expected.status]] += 1
                event(f"sweep moved {expected.status}")
                self._expire(expected)
            # Every state with a deadline in the model waits on a party, who is reminded.
            if (
                expected.deadline is not None
                and now < expected.deadline <= now + REMINDER_WINDOW
                and expected.deadline not in expected.reminded
            ):
                expected.reminded.append(expected.deadline)
                counts["reminded"] += 2  # the sweep reminds in both worlds
                event(f"sweep reminded {expected.status}")
        assert result == counts
        # The refunds requested since (by either world's decisions and clocks) are sent, as the task
        # cluster does after each commit; with the built-in gateway none is left waiting.
        services.refunds_send_due(now=now)
        assert not Refund.objects.filter(case_id__in=self._all_case_ids()).exclude(status="succeeded").exists()

    # --- what must hold after every step (a handful of queries for all cases together) ------------

    @invariant()
    def every_case_is_where_domain_says(self):
        rows = {
            pk: (status, outcome)
            for pk, status, outcome in Case.objects.filter(pk__in=self._all_case_ids()).values_list(
                "pk", "status", "outcome"
            )
        }
        for expected in self.cases:
            for case_id in expected.case_ids:
                status, outcome = rows[case_id]
                assert status in S.values
                assert not expected.was_final or status == S.FINAL, "a case left final"
                assert (status, outcome) == (expected.status, expected.outcome)
            expected.was_final = expected.status == S.FINAL

    @invariant()
    def money_moves_at_most_once_and_never_past_the_amount(self):
        payment_ids = [pk for e in self.cases for pk in e.payment_ids]
        refunds: dict[int, list] = {pk: [] for pk in payment_ids}
        for payment_id, case_id, amount in Refund.objects.filter(payment_id__in=payment_ids).values_list(
            "payment_id", "case_id", "amount_cents"
        ):
            refunds[payment_id].append((case_id, amount))
        refunded = dict(Payment.objects.filter(pk__in=payment_ids).values_list("pk", "refunded_cents"))
        credited = list(BalanceCredit.objects.filter(case_id__in=self._all_case_ids()).values_list("case_id"))
        for expected in self.cases:
            for case_id, payment_id in zip(expected.case_ids, expected.payment_ids, strict=True):
                made = refunds[payment_id]
                assert len(made) <= 1, "a case was refunded twice"
                assert refunded[payment_id] <= AMOUNT
                assert refunded[payment_id] == sum(amount for _, amount in made)
                assert made == ([(case_id, expected.refund_amount)] if expected.outcome == "refunded" else [])
                assert credited.count((case_id,)) == (1 if expected.outcome == "credited" else 0)

    @invariant()
    def one_timeline_event_per_state_change(self):
        moves: dict[int, list] = {pk: [] for pk in self._all_case_ids()}
        reminders: dict[int, list] = {pk: [] for pk in moves}
        for case_id, action, from_state, to_state in (
            CaseEvent.objects.filter(case_id__in=moves)
            .order_by("created_at", "id")
            .values_list("case_id", "action", "from_state", "to_state")
        ):
            if from_state != to_state:
                moves[case_id].append((from_state, to_state))
            elif action == CaseEvent.Action.REMINDER:
                reminders[case_id].append(from_state)
        for expected in self.cases:
            for case_id in expected.case_ids:
                chain = moves[case_id]
                assert len(chain) == expected.state_changes, f"{len(chain)} state-change events for {expected}"
                assert chain[0][0] == ""
                assert all(a[1] == b[0] for a, b in zip(chain, chain[1:], strict=False)), f"broken chain {chain}"
                assert chain[-1][1] == expected.status
                assert len(reminders[case_id]) == len(expected.reminded), f"reminders {reminders[case_id]}"

    def _written(self, world: World, case_ids: list[int]) -> dict[int, dict]:
        """Every row one world wrote for its cases, by case, with ids and names made comparable."""
        people = world.people()
        cases, names = {}, {}
        rows = list(Case.objects.filter(pk__in=case_ids).values())
        # One query for every case's product name (this invariant runs after every step).
        products = dict(
            Payment.objects.filter(pk__in=[row["payment_id"] for row in rows]).values_list("pk", "product__name")
        )
        for row in rows:
            pk = row.pop("id")
            names[pk] = {
                f"#{pk}": "#N",
                products[row["payment_id"]]: "<product>",
                world.company.name: "<company>",
            }
            assert row.pop("company_id") == world.company.pk
            assert row.pop("customer_id") == world.actors["customer"].pk
            del row["payment_id"]
            row["decided_by_id"] = people[row["decided_by_id"]]
            cases[pk] = {"case": row, "events": [], "notifications": [], "refunds": [], "credits": []}

        refunds = list(Refund.objects.filter(case_id__in=case_ids))
        for r in refunds:
            # The gateway's reference is a digest of the refund's key (it names the case): the
            # timeline note quotes it.
            names[r.case_id][r.processor_reference] = "<reference>"
            cases[r.case_id]["refunds"].append(
                (
                    r.amount_cents,
                    r.currency,
                    r.status,
                    bool(r.processor_reference),
                    r.initiated_by_kind,
                    people[r.initiated_by_id],
                    r.created_at,
                )
            )

        def comparable(text: str, case_id: int) -> str:
            for name, placeholder in names[case_id].items():
                text = text.replace(name, placeholder)
            return text

        for e in CaseEvent.objects.filter(case_id__in=case_ids).order_by("created_at", "id"):
            cases[e.case_id]["events"].append(
                (
                    people[e.actor_id],
                    e.actor_kind,
                    e.action,
                    e.from_state,
                    e.to_state,
                    e.visibility,
                    comparable(e.note, e.case_id),
                    e.created_at,
                )
            )
        for n in Notification.objects.filter(case_id__in=case_ids).select_related("event"):
            cases[n.case_id]["notifications"].append(
                (
                    n.event.created_at,
                    n.event.action,
                    people[n.recipient_id],
                    n.party,
                    n.kind,
                    comparable(n.subject, n.case_id),
                    comparable(n.what_happened, n.case_id),
                    comparable(n.next_step, n.case_id),
                    n.deadline,
                    n.created_at,
                    n.email_status,
                    n.email_next_attempt_at,
                    n.read_at,
                )
            )
        for c in BalanceCredit.objects.filter(case_id__in=case_ids):
            cases[c.case_id]["credits"].append((c.amount_cents, c.currency, people[c.granted_by_id], c.created_at))
        for rows in cases.values():
            # In a fixed order (repr: a deadline may be None).
            rows["notifications"].sort(key=repr)
        return cases

    @invariant()
    def the_sweep_and_the_per_case_service_wrote_the_same_rows(self):
        """Each case of the first world (its clock: the sweep) and its twin in the second (its clock:
        case_expire) wrote the same rows: case fields, timeline, notifications, refunds, credits."""
        swept = self._written(self.worlds[SWEPT], [e.case_ids[SWEPT] for e in self.cases])
        per_case = self._written(self.worlds[PER_CASE], [e.case_ids[PER_CASE] for e in self.cases])
        for expected in self.cases:
            by_sweep, by_service = swept[expected.case_ids[SWEPT]], per_case[expected.case_ids[PER_CASE]]
            for part in by_service:
                assert by_sweep[part] == by_service[part], f"{part} differ for {expected}"
            assert by_service["events"], "a case without a timeline"
            assert by_service["notifications"], "a case nobody was told about"


@pytest.mark.django_db
def test_case_lifecycle_random_actions_keep_domain_invariants():
    """Random actions by random actors (customer, its merchant, another company's merchant, a reviewer,
    the clock and the deadline sweep) never break DOMAIN.md's rules, the money or the timeline, and the
    sweep writes what the per-case service writes."""
    run_state_machine_as_test(
        CaseLifecycle,
        settings=settings(
            max_examples=50,
            stateful_step_count=40,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
