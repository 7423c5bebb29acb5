"""A platform-scale dataset: companies, merchants, customers, payments, and cases in every state
with the timelines, messages and money rows the real services would have left.

Everything is generated as plain rows with explicit ids and written with ``bench.bulk`` (COPY on
PostgreSQL, big executemany transactions on SQLite). Each case is a "story": the events the
services append, in order, with times that keep every rule of DOMAIN.md (each deadline as long as
settings.RESOLUTION says after the move that set it; every clock that runs out moves as its
declaration in cases/expiry_rules.py says; ``next_deadline_at`` equal to the running one, outcomes only on final
cases, a refund row and a refunded payment for every refunded case — settled at the processor's
first answer, its timeline "refund requested" with the decision and "refund issued" when sent — a
credit row for every credited one). Deterministic for a given seed and clock.
"""

import hashlib
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from django.utils import timezone

from cases.expiry_rules import DENY_UNANSWERED, ESCALATE, FINALIZE_DENIAL, FINALIZE_REFUND, ExpiryRule, deadline_days
from cases.models import Case, CaseEvent, CaseOutcome, CaseReason, CaseStatus, DenialReason, Message, Visibility
from cases.services.answers import denial_note
from cases.services.settlement import REFUND_REQUESTED_NOTE, REFUND_SENT_NOTE
from notifications.models import UserPreferences
from payments.models import ActorKind, BalanceCredit, Company, Membership, Payment, Product, Refund

from .bulk import BulkWriter, next_id, sequences_reset

BENCH_PASSWORD = "bench-pass-2026"
BUSY_COMPANY_NAME = "Busy Merchant Ltd"
BUSY_OWNER_EMAIL = "owner@busy.bench.test"
ORDERS_CUSTOMER_EMAIL = "orders@bench.test"
REVIEWER_EMAIL = "reviewer@bench.test"
SWEEP_COMPANY_NAME = "Sweep Bench Co"
CLAIMS_COMPANY_NAME = "Claims Bench Co"

DEFAULTS = {"payments": 1_000_000, "cases": 100_000, "companies": 5_000, "customers": 200_000, "busy_cases": 20_000}
# How many payments the busy company has besides its cases' own (a busy merchant sells a lot).
BUSY_PAYMENT_SHARE = 0.04
ORDERS_CUSTOMER_PAYMENTS = 50
ORDERS_CUSTOMER_CASES = 10

S = CaseStatus
A = CaseEvent.Action
EVERYONE, CUSTOMER_ONLY, MERCHANT_ONLY = Visibility.EVERYONE, Visibility.CUSTOMER, Visibility.MERCHANT
SYSTEM, CUSTOMER, MERCHANT, REVIEWER = ActorKind.SYSTEM, ActorKind.CUSTOMER, ActorKind.MERCHANT, ActorKind.REVIEWER
FINANCING = ["splitit", "sezzle", "klarna", "afterpay", "zip"]
DAY = 86_400.0
HOUR = 3_600.0

# Where the 100,000 cases sit (weights); final cases are split by how they ended.
STATE_WEIGHTS = {
    S.OPEN: 15,
    S.INFO_REQUESTED: 8,
    S.ESCALATED: 10,
    S.ACCEPTED: 4,
    S.DENIED: 8,
    S.APPEALED: 5,
    S.FINAL: 50,
}
FINAL_PATHS = {
    "merchant_accepted": 30,
    "auto_refunded": 15,
    "withdrawn": 10,
    "denied_final": 20,
    "credited": 8,
    "reviewer_refund_final": 7,
    "appeal_decided": 10,
}
MESSAGES = [
    "Could you tell me when the order shipped?",
    "It arrived broken, photos attached earlier.",
    "We shipped it on time; here is the tracking reference.",
    "The course content did not match the description on the sales page.",
    "Please check again, I never received a confirmation.",
    "We have forwarded this to our fulfilment team.",
    "I cancelled before the renewal date.",
    "Our records show the subscription was active.",
]
DESCRIPTIONS = {
    CaseReason.FORGOT_TO_CANCEL: "I meant to cancel before the renewal and forgot; I have not used it since.",
    CaseReason.NOT_RECEIVED: "The order never arrived and the tracking has not moved for weeks.",
    CaseReason.NOT_AS_DESCRIBED: "What I received is not what the product page described.",
    CaseReason.UNAUTHORIZED: "I do not recognise this payment.",
    CaseReason.POOR_QUALITY: "The quality is far below what was promised.",
}


@dataclass(frozen=True)
class Scale:
    payments: int
    cases: int
    companies: int
    customers: int
    busy_cases: int

    @classmethod
    def of(cls, factor: float) -> "Scale":
        def scaled(key: str, floor: int) -> int:
            return max(floor, round(DEFAULTS[key] * factor))

        cases = scaled("cases", 20)
        return cls(
            payments=max(scaled("payments", 100), cases * 2),
            cases=cases,
            companies=scaled("companies", 3),
            customers=scaled("customers", 20),
            busy_cases=min(cases // 2, scaled("busy_cases", 10)),
        )


@dataclass
class Story:
    """One case and the rows its history left, times in seconds from the story's start."""

    status: str
    path: str = ""
    events: list = field(default_factory=list)  # (t, action, actor_kind, actor_id, from, to, visibility, note)
    messages: list = field(default_factory=list)  # (t, author_kind, author_id, body, visibility)
    fields: dict = field(default_factory=dict)  # case fields; datetimes as story seconds until placed
    deadline_field: str = ""
    deadline_anchor: float = 0.0
    refund: tuple | None = None  # (t requested, t sent, initiated_by_kind, initiated_by_id)
    credit: tuple | None = None  # (t, granted_by_id)
    method: str = "card"
    t: float = 0.0


class StoryTeller:
    """Writes the timeline a case in a given state would have, move by move, as the services do."""

    def __init__(self, rng: random.Random, *, quiet: bool = False):
        self.rng = rng
        # quiet: only the moves that reach the state (the benchmark's pools need no chatter)
        self.quiet = quiet

    # --- steps ---
    def _step(self, story: Story, low_hours: float, high_hours: float) -> float:
        story.t += self.rng.uniform(low_hours, high_hours) * HOUR
        return story.t

    def _event(self, story, action, kind, actor, frm, to, note="", visibility=EVERYONE):
        story.events.append((story.t, action, kind, actor, frm, to, visibility, note))

    def _notify(self, story, state, who):
        visibility = {CUSTOMER: CUSTOMER_ONLY, MERCHANT: MERCHANT_ONLY}.get(who, EVERYONE)
        self._event(story, A.NOTIFICATION, SYSTEM, None, state, state, f"Email sent to the {who}.", visibility)

    def _message(self, story, state, kind, actor, body=None):
        body = body or self.rng.choice(MESSAGES)
        story.messages.append((story.t, kind, actor, body, EVERYONE))
        self._event(story, A.MESSAGE, kind, actor, state, state, body)

    def _chatter(self, story, state, customer, merchant, most=3):
        for _ in range(0 if self.quiet else self.rng.randint(0, most)):
            self._step(story, 1, 20)
            if self.rng.random() < 0.5:
                self._message(story, state, CUSTOMER, customer)
                self._notify(story, state, MERCHANT)
            else:
                self._message(story, state, MERCHANT, merchant)
                self._notify(story, state, CUSTOMER)

    def _opened(self, story, customer, merchant):
        story.t = 0.0
        self._event(story, A.OPENED, CUSTOMER, customer, "", S.OPEN)
        story.messages.append((0.0, CUSTOMER, customer, story.fields["description"], EVERYONE))
        self._notify(story, S.OPEN, MERCHANT)
        self._chatter(story, S.OPEN, customer, merchant)

    def _info_round(self, story, customer, merchant, reply: bool):
        self._step(story, 2, 60)
        body = "Please send a photo of the item and the delivery note."
        self._event(story, A.INFO_REQUESTED, MERCHANT, merchant, S.OPEN, S.INFO_REQUESTED, body)
        self._message(story, S.INFO_REQUESTED, MERCHANT, merchant, body)
        self._notify(story, S.INFO_REQUESTED, CUSTOMER)
        story.fields["info_requests_count"] += 1
        story.deadline_field, story.deadline_anchor = "reply_by", story.t
        if reply:
            self._step(story, 2, 100)
            self._event(story, A.REPLIED, CUSTOMER, customer, S.INFO_REQUESTED, S.OPEN)
            self._message(story, S.OPEN, CUSTOMER, customer, "Here is the photo you asked for.")
            self._notify(story, S.OPEN, MERCHANT)
            story.deadline_field, story.deadline_anchor = "respond_by", story.t

    def _expire(self, story, rule: ExpiryRule):
        """The running clock runs out a little after its deadline: the move, note, outcome and
        fields its ExpiryRule declares (cases/expiry_rules.py), as the sweep writes them."""
        story.t = story.deadline_anchor + deadline_days(rule.deadline_field) * DAY + self.rng.uniform(1, 120)
        self._event(story, rule.action, SYSTEM, None, rule.from_status, rule.to_status, rule.note())
        if rule.escalates:
            story.fields["escalated_at"] = story.t
        if rule.decided_by_system:
            story.fields["decided_by_kind"] = SYSTEM
        story.deadline_field, story.deadline_anchor = (rule.starts or ""), story.t

    def _escalate(self, story):
        self._expire(story, ESCALATE)
        self._notify(story, S.ESCALATED, MERCHANT)
        self._notify(story, S.ESCALATED, CUSTOMER)

    def _decide(self, story, reviewer, frm, to, note):
        self._step(story, 4, 150)
        self._event(story, A.DECIDED, REVIEWER, reviewer, frm, to, note)
        self._notify(story, to, MERCHANT)
        self._notify(story, to, CUSTOMER)
        story.fields.update(decided_by_kind=REVIEWER, decided_by_id=reviewer)

    def _deny(self, story, customer, merchant, reviewer) -> None:
        """Reach `denied` one of three ways; the customer's appeal window then runs."""
        how = self.rng.choices(["merchant", "reply_expired", "reviewer"], [6, 2, 2])[0]
        if how == "merchant":
            self._step(story, 2, 100)
            # As cases.services.case_deny writes it: the event notes the reason, the message is a
            # message of its own (no event of its own).
            reason = self.rng.choice(DenialReason.values)
            self._event(story, A.DENIED, MERCHANT, merchant, S.OPEN, S.DENIED, denial_note(reason))
            story.messages.append((story.t, MERCHANT, merchant, "We shipped as described.", EVERYONE))
            story.fields.update(decided_by_kind=MERCHANT, decided_by_id=merchant, denial_reason=reason)
        elif how == "reply_expired":
            self._info_round(story, customer, merchant, reply=False)
            self._expire(story, DENY_UNANSWERED)
        else:
            self._escalate(story)
            self._decide(story, reviewer, S.ESCALATED, S.DENIED, "The evidence supports the merchant.")
        self._notify(story, S.DENIED, CUSTOMER)
        story.deadline_field, story.deadline_anchor = "appeal_by", story.t

    def _appeal(self, story, kind, actor, frm):
        self._step(story, 2, 120)
        statement = "I disagree with this decision."
        self._event(story, A.APPEALED, kind, actor, frm, S.APPEALED, statement)
        # The statement is also a message for both parties (cases.services.case_appeal).
        story.messages.append((story.t, kind, actor, statement, EVERYONE))
        self._notify(story, S.APPEALED, MERCHANT if kind == CUSTOMER else CUSTOMER)
        story.fields.update(appealed=True, appealed_by_kind=kind, escalated_at=story.t)
        story.deadline_field = ""

    def _refund(self, story, kind, actor, state=S.FINAL):
        """What cases.services.settlement writes: the refund requested with the decision (same
        transaction, same time), then sent by the processor after commit, a moment later."""
        requested_at = story.t
        self._event(story, A.REFUND_REQUESTED, SYSTEM, None, state, state, REFUND_REQUESTED_NOTE)
        story.t += self.rng.uniform(0.05, 3.0)
        self._event(story, A.REFUND_ISSUED, SYSTEM, None, state, state, REFUND_SENT_NOTE)
        story.refund = (requested_at, story.t, kind, actor)
        return requested_at

    def _close(self, story, outcome, at: float | None = None):
        story.fields.update(outcome=outcome, closed_at=story.t if at is None else at)
        story.deadline_field = ""

    def tell(self, status: str, path: str, customer: int, merchant: int, reviewer: int) -> Story:
        story = Story(status=status, path=path)
        reason = self.rng.choice(CaseReason.values)
        story.fields = {
            "reason": reason,
            "description": DESCRIPTIONS[reason],
            "info_requests_count": 0,
            "outcome": "",
            "decided_by_kind": "",
            "decided_by_id": None,
            "appealed": False,
            "appealed_by_kind": "",
            "auto_refunded": False,
            "denial_reason": "",
            "escalated_at": None,
            "closed_at": None,
        }
        story.deadline_field, story.deadline_anchor = "respond_by", 0.0
        if path == "auto_refunded":
            story.method = self.rng.choice(FINANCING)
            story.t = 0.0
            self._event(story, A.OPENED, CUSTOMER, customer, "", S.OPEN)
            story.messages.append((0.0, CUSTOMER, customer, story.fields["description"], EVERYONE))
            note = "Purchases made with this provider are always refunded automatically."
            self._event(story, A.AUTO_REFUNDED, SYSTEM, None, S.OPEN, S.FINAL, note)
            decided_at = self._refund(story, SYSTEM, None)
            self._notify(story, S.FINAL, CUSTOMER)
            story.fields.update(decided_by_kind=SYSTEM, auto_refunded=True)
            self._close(story, CaseOutcome.REFUNDED, at=decided_at)
            return story
        story.method = "card" if self.rng.random() < 0.75 else "paypal"
        self._opened(story, customer, merchant)
        rounds = 0 if self.quiet else self.rng.choices([0, 1, 2], [6, 3, 1])[0]
        for _ in range(rounds):
            self._info_round(story, customer, merchant, reply=True)
        if status == S.OPEN:
            return story
        if status == S.INFO_REQUESTED:
            self._info_round(story, customer, merchant, reply=False)
            return story
        if status == S.ESCALATED:
            self._escalate(story)
            return story
        if status == S.ACCEPTED:
            self._escalate(story)
            self._decide(story, reviewer, S.ESCALATED, S.ACCEPTED, "The item was not as described.")
            story.deadline_field, story.deadline_anchor = "appeal_by", story.t
            return story
        if status == S.DENIED:
            self._deny(story, customer, merchant, reviewer)
            return story
        if status == S.APPEALED:
            if self.rng.random() < 0.8:
                self._deny(story, customer, merchant, reviewer)
                self._appeal(story, CUSTOMER, customer, S.DENIED)
            else:
                self._escalate(story)
                self._decide(story, reviewer, S.ESCALATED, S.ACCEPTED, "The item was not as described.")
                self._appeal(story, MERCHANT, merchant, S.ACCEPTED)
            return story
        # final
        if path == "merchant_accepted":
            self._step(story, 1, 100)
            self._event(story, A.ACCEPTED, MERCHANT, merchant, S.OPEN, S.FINAL)
            story.fields.update(decided_by_kind=MERCHANT, decided_by_id=merchant)
            decided_at = self._refund(story, MERCHANT, merchant)
            self._notify(story, S.FINAL, CUSTOMER)
            self._close(story, CaseOutcome.REFUNDED, at=decided_at)
        elif path == "withdrawn":
            self._step(story, 1, 100)
            self._event(story, A.WITHDRAWN, CUSTOMER, customer, S.OPEN, S.FINAL)
            story.fields.update(decided_by_kind=CUSTOMER, decided_by_id=customer)
            self._notify(story, S.FINAL, MERCHANT)
            self._close(story, CaseOutcome.WITHDRAWN)
        elif path == "denied_final":
            self._deny(story, customer, merchant, reviewer)
            self._expire(story, FINALIZE_DENIAL)
            self._notify(story, S.FINAL, CUSTOMER)
            self._close(story, CaseOutcome.DENIED)
        elif path == "credited":
            self._escalate(story)
            self._decide(story, reviewer, S.ESCALATED, S.FINAL, "A goodwill credit settles this.")
            self._event(story, A.CREDIT_GRANTED, SYSTEM, None, S.FINAL, S.FINAL, "Credited to the platform balance.")
            story.credit = (story.t, reviewer)
            self._close(story, CaseOutcome.CREDITED)
        elif path == "reviewer_refund_final":
            self._escalate(story)
            self._decide(story, reviewer, S.ESCALATED, S.ACCEPTED, "The item was not as described.")
            story.deadline_anchor = story.t
            self._expire(story, FINALIZE_REFUND)
            decided_at = self._refund(story, REVIEWER, reviewer)
            self._notify(story, S.FINAL, MERCHANT)
            self._close(story, CaseOutcome.REFUNDED, at=decided_at)
        else:  # appeal_decided
            self._deny(story, customer, merchant, reviewer)
            self._appeal(story, CUSTOMER, customer, S.DENIED)
            outcome = self.rng.choice([CaseOutcome.REFUNDED, CaseOutcome.CREDITED, CaseOutcome.DENIED])
            self._decide(story, reviewer, S.APPEALED, S.FINAL, "Final decision on the appeal.")
            decided_at = story.t
            if outcome == CaseOutcome.REFUNDED:
                self._refund(story, REVIEWER, reviewer)
            elif outcome == CaseOutcome.CREDITED:
                self._event(story, A.CREDIT_GRANTED, SYSTEM, None, S.FINAL, S.FINAL, "Credited to the balance.")
                story.credit = (story.t, reviewer)
            self._close(story, outcome, at=decided_at)
        return story


@dataclass
class PlacedCase:
    case_id: int
    payment_id: int
    company_id: int
    customer_id: int
    opened_at: datetime
    story: Story


# A refund the processor answered at its first call, as payments.services.refund_claim and
# refund_record leave it. Every NOT NULL column is listed: the models' defaults are Django's, not
# the database's, and COPY would not fill them.
SETTLED_REFUND_FIELDS = (
    "attempts",
    "next_attempt_at",
    "claim_token",
    "last_attempt_at",
    "failure_message",
    "succeeded_at",
    "key_generation",
)


def settled_refund_values(requested_at: datetime, sent_at: datetime) -> tuple:
    """Values of SETTLED_REFUND_FIELDS: one call (claimed when requested), succeeded when sent."""
    return (1, None, "", requested_at, "", sent_at, 0)


def processor_reference(idempotency_key: str) -> str:
    """The reference payments.gateways.DatabaseRefundGateway answers for this key."""
    return f"db_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]}"


class CaseWriter:
    """Places stories on the calendar and turns them into rows; shared by the dataset and the
    benchmark's pools (claims to file, overdue cases to sweep)."""

    def __init__(self, writer: BulkWriter, rng: random.Random, now: datetime):
        self.writer = writer
        self.rng = rng
        self.now = now
        self.next_event = next_id(CaseEvent)
        self.next_message = next_id(Message)
        self.next_refund = next_id(Refund)
        self.next_credit = next_id(BalanceCredit)

    def place(self, story: Story, *, deadline_between: tuple[datetime, datetime] | None = None) -> datetime:
        """Pick opened_at so the story ends in the past and a running deadline is still ahead
        (or, for the sweep's pools, falls between the two times given)."""
        end = story.events[-1][0]
        if story.deadline_field:
            deadline_offset = story.deadline_anchor + deadline_days(story.deadline_field) * DAY
            if deadline_between is not None:
                low, high = deadline_between
                target = low + timedelta(seconds=self.rng.uniform(0, (high - low).total_seconds()))
                start = target - timedelta(seconds=deadline_offset)
            else:
                # the running deadline is between half a day and its length ahead, the last move in the past
                length = deadline_days(story.deadline_field) * DAY
                ahead = self.rng.uniform(0.5 * DAY, length - (end - story.deadline_anchor) - 60)
                start = self.now + timedelta(seconds=ahead) - timedelta(seconds=deadline_offset)
        else:
            back = self.rng.uniform(HOUR, (100 if story.status == S.FINAL else 30) * DAY)
            start = self.now - timedelta(seconds=back + end)
        return start.replace(microsecond=0)

    def rows(self, placed: PlacedCase):
        story, start = placed.story, placed.opened_at
        at = lambda seconds: start + timedelta(seconds=seconds)  # noqa: E731
        f = story.fields
        deadlines = {"respond_by": None, "reply_by": None, "appeal_by": None}
        next_deadline = None
        if story.deadline_field:
            next_deadline = at(story.deadline_anchor + deadline_days(story.deadline_field) * DAY)
            deadlines[story.deadline_field] = next_deadline
        case_row = (
            placed.case_id,
            placed.payment_id,
            placed.company_id,
            placed.customer_id,
            f["reason"],
            f["description"],
            story.status,
            start,
            at(story.events[-1][0]),
            at(f["closed_at"]) if f["closed_at"] is not None else None,
            deadlines["respond_by"],
            deadlines["reply_by"],
            deadlines["appeal_by"],
            next_deadline,
            at(f["escalated_at"]) if f["escalated_at"] is not None else None,
            f["info_requests_count"],
            f["outcome"],
            f["decided_by_kind"],
            f["decided_by_id"],
            f["appealed"],
            f["appealed_by_kind"],
            f["auto_refunded"],
            f["denial_reason"],
        )
        event_rows = []
        for t, action, kind, actor, frm, to, visibility, note in story.events:
            event_rows.append((self.next_event, placed.case_id, kind, actor, action, frm, to, visibility, note, at(t)))
            self.next_event += 1
        message_rows = []
        for t, kind, author, body, visibility in story.messages:
            message_rows.append((self.next_message, placed.case_id, kind, author, body, visibility, at(t)))
            self.next_message += 1
        return case_row, event_rows, message_rows

    CASE_FIELDS = (
        "id",
        "payment_id",
        "company_id",
        "customer_id",
        "reason",
        "description",
        "status",
        "opened_at",
        "updated_at",
        "closed_at",
        "respond_by",
        "reply_by",
        "appeal_by",
        "next_deadline_at",
        "escalated_at",
        "info_requests_count",
        "outcome",
        "decided_by_kind",
        "decided_by_id",
        "appealed",
        "appealed_by_kind",
        "auto_refunded",
        "denial_reason",
    )
    EVENT_FIELDS = (
        "id",
        "case_id",
        "actor_kind",
        "actor_id",
        "action",
        "from_state",
        "to_state",
        "visibility",
        "note",
        "created_at",
    )
    MESSAGE_FIELDS = ("id", "case_id", "author_kind", "author_id", "body", "visibility", "created_at")
    REFUND_FIELDS = (
        "id",
        "payment_id",
        "case_id",
        "amount_cents",
        "currency",
        "idempotency_key",
        "processor_reference",
        "status",
        "initiated_by_kind",
        "initiated_by_id",
        "created_at",
        *SETTLED_REFUND_FIELDS,
    )
    CREDIT_FIELDS = (
        "id",
        "customer_id",
        "case_id",
        "amount_cents",
        "currency",
        "idempotency_key",
        "granted_by_id",
        "created_at",
    )

    def write(self, placed_cases: list[PlacedCase], payment_amounts: dict[int, tuple[int, str]]) -> None:
        """Cases, then their events, messages, refunds and credits, each table in one COPY."""
        case_rows, event_rows, message_rows, refund_rows, credit_rows = [], [], [], [], []
        for placed in placed_cases:
            case_row, events, messages = self.rows(placed)
            case_rows.append(case_row)
            event_rows.extend(events)
            message_rows.extend(messages)
            amount, currency = payment_amounts[placed.payment_id]
            story = placed.story
            if story.refund is not None:
                requested, sent, kind, actor = story.refund
                key = f"case-{placed.case_id}-refund"
                requested_at = placed.opened_at + timedelta(seconds=requested)
                refund_rows.append(
                    (
                        self.next_refund,
                        placed.payment_id,
                        placed.case_id,
                        amount,
                        currency,
                        key,
                        processor_reference(key),
                        Refund.Status.SUCCEEDED,
                        kind,
                        actor,
                        requested_at,
                        *settled_refund_values(requested_at, placed.opened_at + timedelta(seconds=sent)),
                    )
                )
                self.next_refund += 1
            if story.credit is not None:
                t, reviewer = story.credit
                key = f"case-{placed.case_id}-credit"
                created_at = placed.opened_at + timedelta(seconds=t)
                credit_rows.append(
                    (self.next_credit, placed.customer_id, placed.case_id, amount, currency, key, reviewer, created_at)
                )
                self.next_credit += 1
        self.writer.insert(Case, self.CASE_FIELDS, case_rows)
        self.writer.insert(CaseEvent, self.EVENT_FIELDS, event_rows)
        self.writer.insert(Message, self.MESSAGE_FIELDS, message_rows)
        self.writer.insert(Refund, self.REFUND_FIELDS, refund_rows)
        self.writer.insert(BalanceCredit, self.CREDIT_FIELDS, credit_rows)


def _choose(rng: random.Random, weights: dict) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _timed(log, label: str):
    class _Timer:
        def __enter__(self):
            self.start = time.perf_counter()

        def __exit__(self, *exc):
            if exc[0] is None:
                log(f"  {label}: {time.perf_counter() - self.start:.1f}s")

    return _Timer()


def dataset_exists() -> bool:
    return Company.objects.filter(name=BUSY_COMPANY_NAME).exists()


def reviewers_group() -> Group:
    """The Reviewers group (made by a migration); makes sure it can decide and see cases."""
    group, _ = Group.objects.get_or_create(name="Reviewers")
    needed = Permission.objects.filter(
        content_type__app_label="cases", codename__in=["decide_case", "view_case", "view_caseevent", "view_message"]
    )
    group.permissions.add(*needed)
    return group


def generate(*, scale: Scale, seed: int = 7, log=print) -> dict[str, int]:
    """Fill the database; returns rows written per table."""
    connection.ensure_connection()
    rng = random.Random(seed)
    now = timezone.now().replace(microsecond=0)
    writer = BulkWriter()
    User = get_user_model()
    password = make_password(BENCH_PASSWORD)
    teller = StoryTeller(rng)

    with transaction.atomic():
        _loading_mode_on()
        user_base, company_base, product_base = next_id(User), next_id(Company), next_id(Product)
        payment_base, case_base, membership_base = next_id(Payment), next_id(Case), next_id(Membership)

        # --- people: a reviewer, the busy company's staff, one owner per other company, customers
        reviewer_id = user_base
        busy_staff = [user_base + 1, user_base + 2, user_base + 3]
        merchant_of = {0: busy_staff[0]}
        first_merchant = user_base + 4
        for company in range(1, scale.companies):
            merchant_of[company] = first_merchant + company - 1
        first_customer = first_merchant + scale.companies - 1

        def customer_id(index: int) -> int:  # index 0 is the orders customer
            return first_customer + index

        def users():
            joined = now - timedelta(days=400)
            yield (reviewer_id, password, REVIEWER_EMAIL, REVIEWER_EMAIL, "Rita", True, True, joined)
            for number, uid in enumerate(busy_staff):
                email = BUSY_OWNER_EMAIL if number == 0 else f"support{number}@busy.bench.test"
                yield (uid, password, email, email, f"Busy{number}", False, True, joined)
            for company in range(1, scale.companies):
                email = f"merchant{company}@bench.test"
                yield (merchant_of[company], password, email, email, f"Merchant{company}", False, True, joined)
            for index in range(scale.customers):
                email = ORDERS_CUSTOMER_EMAIL if index == 0 else f"customer{index}@bench.test"
                yield (customer_id(index), password, email, email, f"Customer{index}", False, True, joined)

        user_fields = ("id", "password", "username", "email", "first_name", "is_staff", "is_active", "date_joined")
        with _timed(log, "users"):
            writer.insert(User, user_fields, users())
            preferences = [(reviewer_id, "UTC"), (busy_staff[0], "America/New_York"), (customer_id(0), "Europe/Berlin")]
            pref_base = next_id(UserPreferences)
            writer.insert(
                UserPreferences,
                ("id", "user_id", "time_zone", "resolution_center_emails"),
                [(pref_base + n, uid, tz, True) for n, (uid, tz) in enumerate(preferences)],
            )

        # --- companies, their products and members
        def company_id(index: int) -> int:
            return company_base + index

        with _timed(log, "companies"):
            companies = []
            for index in range(scale.companies):
                name = BUSY_COMPANY_NAME if index == 0 else f"Bench Company {index:05d}"
                # every tenth company auto-refunds small card payments; case amounts stay above it
                card_below = 1500 if index % 10 == 5 else 0
                message = "Refunded automatically: sorry it did not work out." if card_below else ""
                companies.append((company_id(index), name, card_below, 0, message, now - timedelta(days=500)))
            writer.insert(
                Company,
                (
                    "id",
                    "name",
                    "auto_refund_card_below_cents",
                    "auto_refund_paypal_below_cents",
                    "auto_refund_message",
                    "created_at",
                ),
                companies,
            )
            writer.insert(
                Product,
                ("id", "company_id", "name"),
                [
                    (product_base + 2 * index + k, company_id(index), f"Product {k + 1} of company {index}")
                    for index in range(scale.companies)
                    for k in range(2)
                ],
            )
            memberships = [
                (membership_base + n, company_id(0), uid, role)
                for n, (uid, role) in enumerate(zip(busy_staff, ["owner", "admin", "support"], strict=True))
            ]
            memberships += [
                (membership_base + 2 + company, company_id(company), merchant_of[company], "owner")
                for company in range(1, scale.companies)
            ]
            writer.insert(Membership, ("id", "company_id", "user_id", "role"), memberships)

        # --- case stories first: their payments must fit them (method, paid before opening)
        with _timed(log, "case stories"):
            case_payment_slots = sorted(rng.sample(range(scale.payments), scale.cases))
            rng.shuffle(case_payment_slots)
            case_by_slot: dict[int, PlacedCase] = {}
            case_writer = CaseWriter(writer, rng, now)
            orders_cases = range(scale.busy_cases, scale.busy_cases + min(ORDERS_CUSTOMER_CASES, scale.cases // 10))
            placed_cases = []
            for index in range(scale.cases):
                company = 0 if index < scale.busy_cases else rng.randrange(1, scale.companies)
                customer = 0 if index in orders_cases else rng.randrange(1, scale.customers)
                status = _choose(rng, STATE_WEIGHTS)
                path = _choose(rng, FINAL_PATHS) if status == S.FINAL else ""
                story = teller.tell(status, path, customer_id(customer), merchant_of[company], reviewer_id)
                slot = case_payment_slots[index]
                placed = PlacedCase(
                    case_id=case_base + index,
                    payment_id=payment_base + slot,
                    company_id=company_id(company),
                    customer_id=customer_id(customer),
                    opened_at=case_writer.place(story),
                    story=story,
                )
                case_by_slot[slot] = placed
                placed_cases.append(placed)

        # --- payments: a million of every method; those with a case fit its story
        payment_amounts: dict[int, tuple[int, str]] = {}

        def payments():
            orders_left = ORDERS_CUSTOMER_PAYMENTS
            currencies = ["USD"] * 8 + ["EUR", "GBP"]
            methods = ["card"] * 60 + ["paypal"] * 20 + ["crypto"] * 5 + FINANCING * 3
            for slot in range(scale.payments):
                pid = payment_base + slot
                placed = case_by_slot.get(slot)
                if placed is not None:
                    story = placed.story
                    company = placed.company_id - company_base
                    amount = rng.randrange(2_000, 50_000)
                    currency = rng.choice(currencies)
                    paid_at = placed.opened_at - timedelta(seconds=rng.uniform(HOUR, 110 * DAY))
                    refunded = amount if story.refund is not None else 0
                    payment_amounts[pid] = (amount, currency)
                    product = product_base + 2 * company + rng.randrange(2)
                    yield (
                        pid,
                        placed.company_id,
                        placed.customer_id,
                        product,
                        amount,
                        currency,
                        story.method,
                        paid_at,
                        refunded,
                    )
                    continue
                if orders_left > 0:
                    customer, orders_left = 0, orders_left - 1
                else:
                    customer = rng.randrange(1, scale.customers)
                company = 0 if rng.random() < BUSY_PAYMENT_SHARE else rng.randrange(1, scale.companies)
                amount = rng.randrange(500, 50_000)
                paid_at = now - timedelta(seconds=rng.uniform(HOUR, 400 * DAY))
                # a few old payments were refunded outside any case
                refunded = amount if rng.random() < 0.01 else 0
                yield (
                    pid,
                    company_id(company),
                    customer_id(customer),
                    product_base + 2 * company + rng.randrange(2),
                    amount,
                    rng.choice(currencies),
                    rng.choice(methods),
                    paid_at.replace(microsecond=0),
                    refunded,
                )

        with _timed(log, "payments"):
            writer.insert(Payment, PAYMENT_FIELDS, payments())
        with _timed(log, "cases, events, messages, refunds, credits"):
            case_writer.write(placed_cases, payment_amounts)
        with _timed(log, "refunds outside cases"):
            _refunds_outside_cases(writer, payment_base, scale.payments)
        sequences_reset([User, UserPreferences, Company, Product, Membership, Payment, Case, CaseEvent, Message])
        sequences_reset([Refund, BalanceCredit])
        _loading_mode_off()

    reviewer = User.objects.get(pk=reviewer_id)
    reviewer.groups.add(reviewers_group())
    with _timed(log, "analyze"):
        analyze()
    return dict(writer.counts)


def _refunds_outside_cases(writer: BulkWriter, payment_base: int, payments: int) -> None:
    """Payments marked refunded without a case get their refund row, so the ledger adds up."""
    start = next_id(Refund)
    # Read them all first: a COPY cannot run while a cursor on the same connection is still open.
    rows = list(
        Payment.objects.filter(
            pk__gte=payment_base, pk__lt=payment_base + payments, refunded_cents__gt=0, case__isnull=True
        ).values_list("pk", "amount_cents", "currency", "paid_at")
    )
    writer.insert(
        Refund,
        (
            "id",
            "payment_id",
            "amount_cents",
            "currency",
            "idempotency_key",
            "processor_reference",
            "status",
            "initiated_by_kind",
            "created_at",
            *SETTLED_REFUND_FIELDS,
        ),
        (
            (
                start + n,
                pk,
                amount,
                currency,
                f"bench-payment-{pk}-refund",
                processor_reference(f"bench-payment-{pk}-refund"),
                Refund.Status.SUCCEEDED,
                MERCHANT,
                paid_at + timedelta(days=3),
                *settled_refund_values(paid_at + timedelta(days=3), paid_at + timedelta(days=3, seconds=1)),
            )
            for n, (pk, amount, currency, paid_at) in enumerate(rows)
        ),
    )


def _loading_mode_on() -> None:
    """Skip per-row foreign-key triggers while loading (ids are consistent by construction) when
    the database role may; the timeline's append-only triggers only refuse UPDATE and DELETE."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # A large page cache: a million rows land in six indexes each, mostly in random order.
            cursor.execute("PRAGMA cache_size = -1000000")
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if cursor.fetchone()[0]:
                cursor.execute("SET LOCAL session_replication_role = replica")


def _loading_mode_off() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = origin")


def analyze() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for model in (Payment, Case, CaseEvent, Message, Refund, get_user_model(), Company, Membership):
                cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
        else:
            cursor.execute("ANALYZE")


# --- the benchmark's pools ---------------------------------------------------------------------


@dataclass(frozen=True)
class Cast:
    """Who the pools' rows belong to: the dataset's ordinary companies, their owners and products,
    its customers and its reviewer."""

    companies: list  # (company_id, owner_id, [product ids])
    customers: list
    reviewer_id: int

    @classmethod
    def load(cls) -> "Cast":
        products: dict[int, list[int]] = {}
        for company_id, product_id in Product.objects.filter(company__name__startswith="Bench Company").values_list(
            "company_id", "pk"
        ):
            products.setdefault(company_id, []).append(product_id)
        owners = Membership.objects.filter(role="owner", company_id__in=list(products)).values_list(
            "company_id", "user_id", "company__auto_refund_card_below_cents"
        )
        companies = [(company, owner, products[company]) for company, owner, card_below in owners if not card_below]
        customers = list(get_user_model().objects.filter(username__startswith="customer").values_list("pk", flat=True))
        reviewer_id = get_user_model().objects.get(username=REVIEWER_EMAIL).pk
        return cls(companies=sorted(companies), customers=customers, reviewer_id=reviewer_id)


def _pool_payment_rows(rng, payment_base, cases: list[PlacedCase], products: dict[int, list[int]]):
    for index, placed in enumerate(cases):
        amount = rng.randrange(2_000, 50_000)
        yield (
            payment_base + index,
            placed.company_id,
            placed.customer_id,
            rng.choice(products[placed.company_id]),
            amount,
            "USD",
            placed.story.method,
            placed.opened_at - timedelta(seconds=rng.uniform(HOUR, 60 * DAY)),
            0,
        )


PAYMENT_FIELDS = (
    "id",
    "company_id",
    "customer_id",
    "product_id",
    "amount_cents",
    "currency",
    "method",
    "paid_at",
    "refunded_cents",
)

# The sweep's work: merchants who did not answer, customers who did not reply, denials nobody
# appealed. Reviewer refunds awaiting their appeal window (requested set-based, then sent to the
# refund gateway after commit) are timed on a pool of their own.
OVERDUE_MIX = {S.OPEN: 70, S.INFO_REQUESTED: 20, S.DENIED: 10}


def overdue_pool_create(
    *, size: int, deadline_between: tuple[datetime, datetime], mix: dict | None = None, seed: int = 11
) -> int:
    """Add ``size`` cases whose running deadline falls between the two times (the sweep's work),
    with their payments and the short timelines that led there. Returns how many were added."""
    rng = random.Random(seed)
    cast = Cast.load()
    teller = StoryTeller(rng, quiet=True)
    writer = BulkWriter()
    mix = mix or OVERDUE_MIX
    with transaction.atomic():
        _loading_mode_on()
        payment_base, case_base = next_id(Payment), next_id(Case)
        case_writer = CaseWriter(writer, rng, deadline_between[1])
        placed_cases = []
        for index in range(size):
            company_id, owner_id, _ = rng.choice(cast.companies)
            customer = rng.choice(cast.customers)
            story = teller.tell(_choose(rng, mix), "", customer, owner_id, cast.reviewer_id)
            placed_cases.append(
                PlacedCase(
                    case_id=case_base + index,
                    payment_id=payment_base + index,
                    company_id=company_id,
                    customer_id=customer,
                    opened_at=case_writer.place(story, deadline_between=deadline_between),
                    story=story,
                )
            )
        products = {company: product_ids for company, _, product_ids in cast.companies}
        payment_rows = list(_pool_payment_rows(rng, payment_base, placed_cases, products))
        writer.insert(Payment, PAYMENT_FIELDS, payment_rows)
        case_writer.write(placed_cases, {row[0]: (row[4], row[5]) for row in payment_rows})
        sequences_reset([Payment, Case, CaseEvent, Message, Refund, BalanceCredit])
        _loading_mode_off()
    return size


def claim_pool_create(*, size: int, label: str, seed: int = 13) -> list[tuple[int, int]]:
    """``size`` new customers, each with one card payment made two days ago that no case was
    opened for: the claims the benchmark files. Returns (customer id, payment id) pairs."""
    rng = random.Random(seed)
    cast = Cast.load()
    User = get_user_model()
    writer = BulkWriter()
    now = timezone.now().replace(microsecond=0)
    password = User.objects.filter(username=REVIEWER_EMAIL).values_list("password", flat=True).first()
    with transaction.atomic():
        _loading_mode_on()
        user_base, payment_base = next_id(User), next_id(Payment)
        users, payments = [], []
        for index in range(size):
            email = f"claimant-{label}-{index}@bench.test"
            users.append((user_base + index, password, email, email, f"Claimant{index}", False, True, now))
            company_id, _, product_ids = rng.choice(cast.companies)
            paid_at = now - timedelta(days=2, seconds=rng.uniform(0, DAY))
            amount = rng.randrange(5_000, 20_000)
            payments.append(
                (payment_base + index, company_id, user_base + index, product_ids[0], amount, "USD", "card", paid_at, 0)
            )
        writer.insert(
            User, ("id", "password", "username", "email", "first_name", "is_staff", "is_active", "date_joined"), users
        )
        writer.insert(Payment, PAYMENT_FIELDS, payments)
        sequences_reset([User, Payment])
        _loading_mode_off()
    return [(user_base + index, payment_base + index) for index in range(size)]
