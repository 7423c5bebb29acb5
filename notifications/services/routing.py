"""Who hears about what (DOMAIN.md, Notifications): one (party, kind) pair per notified side of a
timeline event. The parties are "customer" and "merchant" (every active member of the company).

Platform reviewers are not notified of the case's events: they work from the reviewer queue in the
admin, which shows how long each case has waited, and one email per escalation to every reviewer
would drown them. The one exception is messages ("Messages reach people"): while a case is with the
reviewers (escalated or appealed), the reviewers "holding" it hear of every new message in the app
only. Until reviewers claim cases (issue 14), the reviewers holding a case are those who acted on
it (decided it, asked a party, wrote in it): recording.py finds them.
"""

from cases.expiry_rules import EXPIRY_RULES
from cases.models import CaseEvent, CaseStatus, Visibility
from cases.services import auto_refund_terms
from payments.models import ActorKind

from ..models import NotificationKind as Kind

Action = CaseEvent.Action
CUSTOMER = ActorKind.CUSTOMER
MERCHANT = ActorKind.MERCHANT
REVIEWER = ActorKind.REVIEWER
# The states in which the reviewers hold a case and hear of its messages.
WITH_REVIEWERS = (CaseStatus.ESCALATED, CaseStatus.APPEALED)

BOTH = (CUSTOMER, MERCHANT)
_BY_ACTION = {
    Action.OPENED: BOTH,
    Action.INFO_REQUESTED: (CUSTOMER,),
    Action.REPLIED: (MERCHANT,),
    # A partial refund offer waits on the customer; their answer goes back to the merchant.
    Action.OFFER_MADE: (CUSTOMER,),
    Action.OFFER_ACCEPTED: (MERCHANT,),
    Action.OFFER_DECLINED: (MERCHANT,),
    Action.ACCEPTED: (CUSTOMER,),
    # The merchant gave up; reviewers holding the case see it leave their queue, unnotified (above).
    Action.REFUNDED_IN_FULL: (CUSTOMER,),
    Action.DENIED: (CUSTOMER,),
    Action.WITHDRAWN: (MERCHANT,),
    Action.AUTO_REFUNDED: BOTH,
    Action.DECIDED: BOTH,
    # The clocks running out: who is told is declared with each rule.
    **{rule.action: rule.notified for rule in EXPIRY_RULES},
}
_VISIBLE_TO = {
    Visibility.EVERYONE: (CUSTOMER, MERCHANT),
    Visibility.CUSTOMER: (CUSTOMER,),
    Visibility.MERCHANT: (MERCHANT,),
    Visibility.REVIEWERS: (),
}


def _other_party(actor_kind: str) -> tuple[str, ...]:
    return (MERCHANT,) if actor_kind == CUSTOMER else (CUSTOMER,) if actor_kind == MERCHANT else ()


def parties_for(event: CaseEvent) -> list[tuple[str, str]]:
    """(party, notification kind) pairs this timeline event notifies; [] for most events."""
    action = event.action
    if action in _BY_ACTION:
        return [(party, action) for party in _BY_ACTION[action]]
    if action in (Action.APPEALED, Action.APPEAL_WAIVED):
        # The appellant knows what they did; the other side needs to hear it.
        return [(party, action) for party in _other_party(event.actor_kind)]
    if action == Action.MESSAGE:
        return _message_parties(event)
    if action == Action.REMINDER:
        return [(party, Kind.REMINDER) for party in _VISIBLE_TO[event.visibility]]
    # Files, money rows and notification records notify nobody: DOMAIN.md lists the events that do.
    return []


def _message_parties(event: CaseEvent) -> list[tuple[str, str]]:
    """A message tells the other side at once in the app; its email waits for the hourly digest
    (recording.py). A message posted with a state change (a reply to an info request, a request
    itself) is told by that change's own notice: recording.py drops these duplicates."""
    if event.actor_kind == REVIEWER:
        # A reviewer's message (often a question to one party) keeps its own wording and its email
        # at once: it is rare, and a question from the platform should not wait an hour.
        parties = [(party, Kind.REVIEWER_MESSAGE) for party in _VISIBLE_TO[event.visibility]]
    else:
        parties = [(party, Kind.MESSAGE) for party in _other_party(event.actor_kind)]
    if event.to_state in WITH_REVIEWERS:
        parties.append((REVIEWER, Kind.MESSAGE))
    return parties


def auto_refund_follows(event: CaseEvent) -> bool:
    """A case opened under an automatic refund is settled in the same transaction; its one
    notification is the "refunded automatically" one, not a "please answer" to the merchant."""
    # case_open's case holds the payment (with its company) it just locked.
    return auto_refund_terms(event.case.payment)[0]
