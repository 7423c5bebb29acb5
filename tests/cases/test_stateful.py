"""Hypothesis drives random sequences of actions by random actors (the customer, the company's
merchant, another company's merchant, a reviewer, the clock) and compares the services with a small
model of DOMAIN.md's transition table. After every step, for every case opened so far:

- the state is one of DOMAIN.md's, and the one the table says;
- a case never leaves `final`;
- at most one refund per case (exactly one when it ends refunded), at most one credit, and the
  payment's refunded total never exceeds its amount;
- exactly one timeline event per state change, the events forming one unbroken chain of states.

Every refusal must be a clean ApplicationError that writes nothing. When the current case closes,
the customer opens another one (on a new payment; a second case on the old one is refused).
"""

from dataclasses import dataclass
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
from payments.models import FINANCING_METHODS, BalanceCredit, Payment, Refund
from resolution_center.exceptions import ApplicationError, NotEligibleError
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, merchant_of, reviewer

S = CaseStatus
WEEK = timedelta(days=7)
AMOUNT = 5000
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
}
# What each actor may ever do (another company's merchant: nothing to this case). Moves that keep the
# case going come first, because Hypothesis favours the first choices while it explores and shrinks.
ACTOR_ACTIONS = {
    "customer": ["message", "reply", "appeal", "withdraw", "waive_appeal"],
    "merchant": ["message", "request_info", "deny", "appeal", "accept", "waive_appeal"],
    "reviewer": ["message", "decide", "decide_appeal"],
    "other_merchant": [],
}
CLOSES_THE_CASE = {"accept", "withdraw", "waive_appeal"}
WHO = ["merchant", "customer", "clock", "reviewer", "other_merchant"]


@dataclass
class Expected:
    """What DOMAIN.md says one case should look like now."""

    case_id: int
    payment_id: int
    status: str
    outcome: str = ""
    deadline: datetime | None = None
    state_changes: int = 1  # "" -> open
    info_requests: int = 0
    appealed: bool = False
    was_final: bool = False


class CaseLifecycle(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Each example runs in its own savepoint, rolled back in teardown, so examples never meet.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.cases: list[Expected] = []

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @property
    def current(self) -> Expected:
        return self.cases[-1]

    # --- opening cases ----------------------------------------------------------------------------

    @initialize()
    def meet_the_people(self):
        self.company = CompanyFactory(auto_refund_message="Refunded automatically.")
        self.customer = UserFactory()
        self.actors = {
            "customer": self.customer,
            "merchant": merchant_of(self.company),
            "other_merchant": merchant_of(CompanyFactory()),
            "reviewer": reviewer(),
        }
        self.now = timezone.now()
        self._open(method="card", threshold=0)

    def _open(self, *, method: str, threshold: int) -> None:
        self.company.auto_refund_card_below_cents = self.company.auto_refund_paypal_below_cents = threshold
        self.company.save()
        payment = PaymentFactory(
            company=self.company, customer=self.customer, method=method, amount_cents=AMOUNT, paid_at=self.now
        )
        case = services.case_open(
            customer=self.customer, payment=payment, reason="not_received", description="Lost", now=self.now
        )
        self.cases.append(Expected(case_id=case.pk, payment_id=payment.pk, status=S.OPEN, deadline=self.now + WEEK))
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
            with pytest.raises(NotEligibleError):
                services.case_open(
                    customer=self.customer,
                    payment=self.current.payment_id,
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
        expected.status, expected.outcome, expected.deadline = status, outcome, deadline
        expected.state_changes += 1
        event(f"reached {status} {outcome}".strip())  # shown by --hypothesis-show-statistics

    def _attempt(self, allowed: bool, call) -> bool:
        """Run a service; it must succeed exactly when the model allows it, and refuse cleanly otherwise."""
        events_before = CaseEvent.objects.count()
        try:
            call()
        except ApplicationError as refusal:
            assert not allowed, f"refused although DOMAIN.md allows it: {refusal.message}"
            assert refusal.message.strip(), "a refusal must say why"
            assert CaseEvent.objects.count() == events_before, "a refusal wrote to the timeline"
            return False
        assert allowed, f"allowed although DOMAIN.md refuses it (the case was {self.current.status})"
        return True

    def _do(self, name: str, actor: str, decision: str) -> None:
        """Attempt one action of the transition table as ``actor`` on the current case."""
        user, now, expected = self.actors[actor], self.now, self.current
        case, status = expected.case_id, expected.status
        appellant = None if expected.appealed else {S.DENIED: "customer", S.ACCEPTED: "merchant"}.get(status)
        if name == "request_info":
            # The fourth request is refused.
            allowed = actor == "merchant" and status == S.OPEN and expected.info_requests < 3
            if self._attempt(
                allowed, lambda: services.case_request_info(case=case, actor=user, message="Details?", now=now)
            ):
                expected.info_requests += 1
                self._moved(S.INFO_REQUESTED, deadline=now + WEEK)
        elif name == "reply":
            allowed = actor == "customer" and status == S.INFO_REQUESTED
            if self._attempt(allowed, lambda: services.case_reply(case=case, actor=user, message="Here.", now=now)):
                self._moved(S.OPEN, deadline=now + WEEK)
        elif name == "accept":
            allowed = actor == "merchant" and status in UNDECIDED
            if self._attempt(allowed, lambda: services.case_accept(case=case, actor=user, now=now)):
                self._moved(S.FINAL, outcome="refunded")
        elif name == "deny":
            allowed = actor == "merchant" and status in UNDECIDED
            if self._attempt(allowed, lambda: services.case_deny(case=case, actor=user, now=now)):
                self._moved(S.DENIED, deadline=now + WEEK)
        elif name == "withdraw":
            allowed = actor == "customer" and status in UNDECIDED
            if self._attempt(allowed, lambda: services.case_withdraw(case=case, actor=user, now=now)):
                self._moved(S.FINAL, outcome="withdrawn")
        elif name == "message":
            allowed = actor != "other_merchant" and status != S.FINAL
            self._attempt(allowed, lambda: services.case_message_post(case=case, actor=user, body="Hi", now=now))
        elif name == "appeal":
            # The customer appeals a denial, the merchant a reviewer's refund; once per case.
            if self._attempt(
                appellant == actor, lambda: services.case_appeal(case=case, actor=user, statement="Unfair", now=now)
            ):
                expected.appealed = True
                self._moved(S.APPEALED)
        elif name == "waive_appeal":
            if self._attempt(appellant == actor, lambda: services.case_appeal_waive(case=case, actor=user, now=now)):
                self._moved(S.FINAL, outcome="refunded" if status == S.ACCEPTED else "denied")
        elif name == "decide":
            allowed = actor == "reviewer" and status == S.ESCALATED
            if self._attempt(
                allowed,
                lambda: services.case_decide(case=case, actor=user, decision=decision, note="Decided.", now=now),
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
                lambda: services.case_decide_appeal(case=case, actor=user, decision=decision, note="Final.", now=now),
            ):
                self._moved(S.FINAL, outcome={"refund": "refunded", "credit": "credited"}.get(decision, "denied"))
        else:
            raise AssertionError(f"unknown action {name}")

    def _time_passes(self, hours: int) -> None:
        """The clock moves on and the system runs the three deadline sweeps over every case, as the
        scheduled task does. Deadlines are inclusive: a sweep acts only once one has passed."""
        self.now += timedelta(hours=hours)
        for expected in list(self.cases):
            moved = [
                services.case_escalate_overdue(case=expected.case_id, now=self.now),
                services.case_deny_unanswered(case=expected.case_id, now=self.now),
                services.case_finalize_expired(case=expected.case_id, now=self.now),
            ]
            overdue = expected.deadline is not None and expected.deadline < self.now
            if not overdue:
                assert moved == [False, False, False], f"a sweep moved a {expected.status} case before its deadline"
                continue
            assert moved.count(True) == 1, f"sweeps {moved} on an overdue {expected.status} case"
            if expected.status == S.OPEN:
                self._moved(S.ESCALATED, expected=expected)
            elif expected.status == S.INFO_REQUESTED:
                self._moved(S.DENIED, deadline=self.now + WEEK, expected=expected)
            else:
                outcome = "refunded" if expected.status == S.ACCEPTED else "denied"
                self._moved(S.FINAL, outcome=outcome, expected=expected)

    @rule(data=st.data())
    def someone_acts_or_time_passes(self, data):
        """One of the parties, another company's merchant or the clock moves. A party mostly picks an
        action the current case's state offers it, sometimes any action at all (to be refused)."""
        who = data.draw(st.sampled_from(WHO), label="who")
        if who == "clock":
            self._time_passes(data.draw(st.integers(min_value=1, max_value=8 * 24), label="hours"))
            return
        offered = [name for name in ACTOR_ACTIONS[who] if self.current.status in ACTION_SOURCES[name]]
        # Moves that keep the case going count twice, so cases often live long enough to be appealed.
        offered += [name for name in offered if name not in CLOSES_THE_CASE]
        anything = not offered or data.draw(st.integers(0, 3), label="anything") == 0
        name = data.draw(st.sampled_from(sorted(ACTION_SOURCES) if anything else offered), label="action")
        self._do(name, who, data.draw(st.sampled_from(DECISIONS), label="decision"))

    # --- what must hold after every step (a handful of queries for all cases together) ------------

    @invariant()
    def every_case_is_where_domain_says(self):
        rows = {
            pk: (status, outcome)
            for pk, status, outcome in Case.objects.filter(pk__in=[e.case_id for e in self.cases]).values_list(
                "pk", "status", "outcome"
            )
        }
        for expected in self.cases:
            status, outcome = rows[expected.case_id]
            assert status in S.values
            assert not expected.was_final or status == S.FINAL, "a case left final"
            assert (status, outcome) == (expected.status, expected.outcome)
            expected.was_final = status == S.FINAL

    @invariant()
    def money_moves_at_most_once_and_never_past_the_amount(self):
        payment_ids = [e.payment_id for e in self.cases]
        refunds: dict[int, list] = {pk: [] for pk in payment_ids}
        for payment_id, case_id, amount in Refund.objects.filter(payment_id__in=payment_ids).values_list(
            "payment_id", "case_id", "amount_cents"
        ):
            refunds[payment_id].append((case_id, amount))
        refunded = dict(Payment.objects.filter(pk__in=payment_ids).values_list("pk", "refunded_cents"))
        credited = list(
            BalanceCredit.objects.filter(case_id__in=[e.case_id for e in self.cases]).values_list("case_id")
        )
        for expected in self.cases:
            made = refunds[expected.payment_id]
            assert len(made) <= 1, "a case was refunded twice"
            assert refunded[expected.payment_id] <= AMOUNT
            assert refunded[expected.payment_id] == sum(amount for _, amount in made)
            assert made == ([(expected.case_id, AMOUNT)] if expected.outcome == "refunded" else [])
            assert credited.count((expected.case_id,)) == (1 if expected.outcome == "credited" else 0)

    @invariant()
    def one_timeline_event_per_state_change(self):
        moves: dict[int, list] = {e.case_id: [] for e in self.cases}
        for case_id, from_state, to_state in (
            CaseEvent.objects.filter(case_id__in=moves)
            .order_by("created_at", "id")
            .values_list("case_id", "from_state", "to_state")
        ):
            if from_state != to_state:
                moves[case_id].append((from_state, to_state))
        for expected in self.cases:
            chain = moves[expected.case_id]
            assert len(chain) == expected.state_changes, f"{len(chain)} state-change events for {expected}"
            assert chain[0][0] == ""
            assert all(a[1] == b[0] for a, b in zip(chain, chain[1:], strict=False)), f"broken chain {chain}"
            assert chain[-1][1] == expected.status


@pytest.mark.django_db
def test_case_lifecycle_random_actions_keep_domain_invariants():
    """Random actions by random actors (customer, its merchant, another company's merchant, a reviewer,
    the clock) never break DOMAIN.md's rules, the money or the timeline."""
    run_state_machine_as_test(
        CaseLifecycle,
        settings=settings(
            max_examples=20,
            stateful_step_count=30,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
