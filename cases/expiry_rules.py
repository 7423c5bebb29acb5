"""Every clock that runs out, declared once (DOMAIN.md, "States").

Each ``ExpiryRule`` says which state's deadline it watches, what the case becomes, with which
outcome, what the timeline says, who is told, and who gets the "24 hours left" reminder before
it fires. Read by:

* the per-case service (``cases.services.deadlines.case_expire``), which runs the rule's FSM
  transition and writes ``rule.fields(now)``;
* the set-based sweep (``cases.sweeps``), which writes the same ``rule.fields(now)`` by UPDATE;
* a party waiving the appeal (``cases.services.appeals``): the same move as the appeal window closing;
* notifications' routing (who is told) and the benchmark's dataset writer.

Durations come from ``settings.RESOLUTION`` when a rule is applied, never from this file.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from payments.models import ActorKind

from .models import CaseEvent, CaseOutcome, CaseStatus

S = CaseStatus
A = CaseEvent.Action
CUSTOMER, MERCHANT = ActorKind.CUSTOMER, ActorKind.MERCHANT
DEADLINE_FIELDS = ("respond_by", "reply_by", "appeal_by")
# The setting that gives each deadline's length in days.
DEADLINE_DAYS = {"respond_by": "RESPONSE_DAYS", "reply_by": "REPLY_DAYS", "appeal_by": "APPEAL_DAYS"}
REMINDER_WINDOW = timedelta(hours=24)


def deadline_days(field: str) -> int:
    return settings.RESOLUTION[DEADLINE_DAYS[field]]


def days_text(field: str) -> str:
    """'7 days' (or '1 day') for a deadline's length, as pages and messages say it."""
    days = deadline_days(field)
    return f"{days} day{'s' if days != 1 else ''}"


def deadline_from(now: datetime, field: str) -> datetime:
    """When a deadline started at ``now`` runs out (respond_by, reply_by or appeal_by)."""
    return now + timedelta(days=deadline_days(field))


@dataclass(frozen=True)
class ExpiryRule:
    name: str
    from_status: str
    deadline_field: str
    # The FSM transition on Case (models.py) the per-case path runs.
    transition: str
    to_status: str
    action: str
    outcome: str
    # Who must act before the deadline: they get the "24 hours left" reminder.
    reminded: str
    # Who hears that the clock ran out.
    notified: tuple[str, ...]
    # The deadline the move starts, if any (the appeal window after a denial).
    starts: str | None = None
    escalates: bool = False
    decided_by_system: bool = False
    # A reviewer's refund is requested when its appeal window closes (and sent after commit).
    settles_refund: bool = False
    note_template: str = ""
    # What the reminded party has left to do ("to answer"), in the reminder and its timeline note.
    to_do: str = ""
    # A partial refund offer pending in this state lapses with the move (an OFFER_LAPSED row first).
    lapses_offer: bool = False

    def note(self) -> str:
        return self.note_template.format(days=days_text(self.deadline_field))

    def reminder_note(self) -> str:
        hours = int(REMINDER_WINDOW.total_seconds() // 3600)
        return f"Reminder sent: less than {hours} hours left {self.to_do}."

    def fields(self, now: datetime) -> dict:
        """Every column the move writes (the status included), for both the per-case and the bulk path."""
        fields = dict.fromkeys((*DEADLINE_FIELDS, "next_deadline_at"))
        fields.update(status=self.to_status, updated_at=now)
        if self.starts:
            fields[self.starts] = fields["next_deadline_at"] = deadline_from(now, self.starts)
        if self.escalates:
            fields["escalated_at"] = now
        if self.decided_by_system:
            fields["decided_by_kind"] = ActorKind.SYSTEM
        if self.outcome:
            fields.update(outcome=self.outcome, closed_at=now)
        if self.lapses_offer:
            fields["offer_pending"] = False
        return fields


ESCALATE = ExpiryRule(
    name="escalated",
    from_status=S.OPEN,
    deadline_field="respond_by",
    transition="escalate",
    to_status=S.ESCALATED,
    action=A.ESCALATED,
    outcome="",
    reminded=MERCHANT,
    notified=(CUSTOMER, MERCHANT),
    escalates=True,
    note_template="The merchant did not answer within {days}.",
    to_do="to answer",
)
DENY_UNANSWERED = ExpiryRule(
    name="denied",
    from_status=S.INFO_REQUESTED,
    deadline_field="reply_by",
    transition="expire_reply",
    to_status=S.DENIED,
    action=A.REPLY_EXPIRED,
    outcome="",
    reminded=CUSTOMER,
    notified=(CUSTOMER, MERCHANT),
    starts="appeal_by",
    decided_by_system=True,
    note_template="The customer did not reply within {days}.",
    to_do="to reply",
    lapses_offer=True,
)
FINALIZE_DENIAL = ExpiryRule(
    name="finalized",
    from_status=S.DENIED,
    deadline_field="appeal_by",
    transition="finalize",
    to_status=S.FINAL,
    action=A.FINALIZED,
    outcome=CaseOutcome.DENIED,
    reminded=CUSTOMER,
    notified=(CUSTOMER, MERCHANT),
    to_do="to appeal",
)
FINALIZE_REFUND = ExpiryRule(
    name="refunded",
    from_status=S.ACCEPTED,
    deadline_field="appeal_by",
    transition="finalize",
    to_status=S.FINAL,
    action=A.FINALIZED,
    outcome=CaseOutcome.REFUNDED,
    reminded=MERCHANT,
    notified=(CUSTOMER, MERCHANT),
    settles_refund=True,
    to_do="to appeal",
)

EXPIRY_RULES = (ESCALATE, DENY_UNANSWERED, FINALIZE_DENIAL, FINALIZE_REFUND)
RULE_BY_STATUS = {rule.from_status: rule for rule in EXPIRY_RULES}
# The rules the sweep applies with one UPDATE per batch: all of them (a reviewer's refund is
# requested set-based in the same transaction and sent to the processor after commit).
SET_BASED_RULES = EXPIRY_RULES
# Who gets the "24 hours left" reminder in each state whose clock runs.
REMINDED_PARTY = {rule.from_status: rule.reminded for rule in EXPIRY_RULES}
