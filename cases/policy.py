"""Who may do what on a case, now: the one rulebook.

``case_actions_for`` answers, for any person, any case and any moment, every action of
``CaseAction``: allowed, or refused with the plain-words reason and the kind of refusal (the wrong
person is a ``NotAllowedError``, the wrong moment an ``InvalidTransitionError``). The services call
``case_action_require`` as their guard, so a refusal raised by a service is the same sentence the
page would have shown; the customer's, the merchant's and the reviewers' pages render exactly the
allowed actions, and the API will publish them as ``available_actions``.

Why a plain function and not django-fsm's ``conditions=``/``permission=``: the FSM graph answers
"may this state move to that one", while a person also needs *why not* ("the deadline passed on …",
"you already asked 3 times"), and several actions (messages, a reviewer's question) change no
state at all. The graph in models.py stays the last line of defence inside ``services.base.move``.

Each rule checks, in this order: who the person is on the case, the state, the clock, then counts.

Partial refund offers (DOMAIN.md, "Settling faster"), decided here:

* While an offer waits on the customer, the customer answers *the offer*: Accept it, or Decline it
  with a message (which also answers any question the merchant asked before). Reply is refused
  then, so the customer's words always come with an answer to the money on the table, and the
  merchant never has to guess whether a reply meant "no".
* The merchant's Accept, Deny and Refund in full, and the customer's Withdraw, stay allowed while
  an offer is pending: each ends the waiting, and the services mark the offer lapsed.
* A merchant offers on an open or info-requested case before its running deadline, at most
  ``RESOLUTION["MAX_OFFERS"]`` times, one at a time, and only while something is left to refund.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.conf import settings

from payments.models import ActorKind
from payments.selectors import is_member
from resolution_center.exceptions import ApplicationError, InvalidTransitionError, NotAllowedError
from resolution_center.formatting import format_deadline_utc

from .models import Case, CaseStatus

S = CaseStatus


class CaseAction(StrEnum):
    ACCEPT = "accept"
    REFUND_IN_FULL = "refund_in_full"
    DENY = "deny"
    REQUEST_INFO = "request_info"
    REPLY = "reply"
    MESSAGE = "message"
    WITHDRAW = "withdraw"
    APPEAL = "appeal"
    WAIVE_APPEAL = "waive_appeal"
    DECIDE = "decide"
    DECIDE_APPEAL = "decide_appeal"
    ASK_PARTY = "ask_party"
    OFFER = "offer_partial_refund"
    ACCEPT_OFFER = "accept_offer"
    DECLINE_OFFER = "decline_offer"


# What each action is called in a refusal ("… so you can no longer <doing>").
DOING = {
    CaseAction.ACCEPT: "accept it",
    CaseAction.REFUND_IN_FULL: "refund it in full",
    CaseAction.DENY: "deny it",
    CaseAction.REQUEST_INFO: "request more information",
    CaseAction.REPLY: "reply to an information request",
    CaseAction.MESSAGE: "add a message",
    CaseAction.WITHDRAW: "withdraw it",
    CaseAction.APPEAL: "appeal",
    CaseAction.WAIVE_APPEAL: "waive the appeal",
    CaseAction.DECIDE: "decide it as an escalated case",
    CaseAction.DECIDE_APPEAL: "decide it as an appeal",
    CaseAction.ASK_PARTY: "ask a party for information",
    CaseAction.OFFER: "offer a partial refund",
    CaseAction.ACCEPT_OFFER: "accept the offer",
    CaseAction.DECLINE_OFFER: "decline the offer",
}


@dataclass(frozen=True)
class CaseActionAnswer:
    action: CaseAction
    allowed: bool
    reason: str = ""
    # The refusal's kind, raised by case_action_require: NotAllowedError or InvalidTransitionError.
    refusal: type[ApplicationError] | None = None


def user_is_reviewer(user) -> bool:
    """A platform reviewer: active staff holding the decide permission (the Reviewers group)."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm("cases.decide_case")
    )


@dataclass(frozen=True)
class _Person:
    """Who the user is on this case, worked out once per answer (one membership query)."""

    is_customer: bool
    is_member: bool
    is_reviewer: bool

    @property
    def party(self) -> str | None:
        # A member who opened the case as a customer acts as that case's customer, never its judge.
        if self.is_customer:
            return ActorKind.CUSTOMER
        if self.is_member:
            return ActorKind.MERCHANT
        if self.is_reviewer:
            return ActorKind.REVIEWER
        return None

    @property
    def impartial_reviewer(self) -> bool:
        return self.is_reviewer and not self.is_customer and not self.is_member


def _person(case: Case, user, member: bool | None = None) -> _Person:
    if user is None or not user.is_authenticated:
        return _Person(False, False, False)
    return _Person(
        is_customer=case.customer_id == user.pk,
        is_member=is_member(user=user, company_id=case.company_id) if member is None else member,
        is_reviewer=user_is_reviewer(user),
    )


def appellant_kind(case: Case) -> str | None:
    """Who may appeal in the current state: the customer a denial, the merchant a reviewer's refund."""
    if case.appealed:
        return None
    if case.status == S.DENIED:
        return ActorKind.CUSTOMER
    if case.status == S.ACCEPTED:
        return ActorKind.MERCHANT
    return None


# How a refusal names the state: "This case is {words}, so you can no longer …".
_STATUS_WORDS = {
    CaseStatus.OPEN: "waiting for the merchant's answer",
    CaseStatus.INFO_REQUESTED: "waiting for the customer's reply",
    CaseStatus.ESCALATED: "with the reviewers",
    CaseStatus.ACCEPTED: "decided by a reviewer (a refund)",
    CaseStatus.DENIED: "denied",
    CaseStatus.APPEALED: "under appeal with the reviewers",
    CaseStatus.FINAL: "closed",
}


def status_words(status: str) -> str:
    return _STATUS_WORDS.get(status) or CaseStatus(status).label.lower()


# --- the rules ---------------------------------------------------------------------------------


def _yes(action: CaseAction) -> CaseActionAnswer:
    return CaseActionAnswer(action, True)


def _not_you(action: CaseAction, reason: str) -> CaseActionAnswer:
    return CaseActionAnswer(action, False, reason, NotAllowedError)


def _not_now(action: CaseAction, reason: str) -> CaseActionAnswer:
    return CaseActionAnswer(action, False, reason, InvalidTransitionError)


def _wrong_state(action: CaseAction, case: Case) -> CaseActionAnswer:
    return _not_now(action, f"This case is {status_words(case.status)}, so you can no longer {DOING[action]}.")


def _past(deadline: datetime | None, now: datetime) -> bool:
    return deadline is not None and now > deadline


def _clock_passed(action: CaseAction, deadline: datetime, doing: str) -> CaseActionAnswer:
    return _not_now(
        action,
        f"The deadline to {doing} passed on {format_deadline_utc(deadline)}; the case is moving on without it.",
    )


def _customer_only(action: CaseAction, person: _Person) -> CaseActionAnswer | None:
    if not person.is_customer:
        return _not_you(action, f"Only the customer who opened this case can {DOING[action]}.")
    return None


def _merchant_only(action: CaseAction, case: Case, person: _Person, doing: str) -> CaseActionAnswer | None:
    if not person.is_member:
        return _not_you(action, f"Only a member of {case.company.name} can {doing}.")
    if person.is_customer:
        return _not_you(
            action, f"You opened this case yourself, so another member of {case.company.name} must answer it."
        )
    return None


def _reviewer_only(action: CaseAction, person: _Person, doing: str) -> CaseActionAnswer | None:
    if not person.is_reviewer:
        return _not_you(action, f"Only a platform reviewer can {doing}.")
    if not person.impartial_reviewer:
        return _not_you(action, "You are a party to this case, so another reviewer must decide it.")
    return None


def _answer(action: CaseAction, case: Case, person: _Person, now: datetime) -> CaseActionAnswer:
    """The merchant's Accept and Deny: an open or info-requested case, before its clock runs out."""
    doing = "accept this case" if action == CaseAction.ACCEPT else "deny this case"
    refused = _merchant_only(action, case, person, doing)
    if refused:
        return refused
    if case.status not in (S.OPEN, S.INFO_REQUESTED):
        return _wrong_state(action, case)
    deadline = case.respond_by if case.status == S.OPEN else case.reply_by
    if _past(deadline, now):
        return _clock_passed(action, deadline, "answer")
    return _yes(action)


def _refund_in_full(case: Case, person: _Person) -> CaseActionAnswer:
    """The merchant gives up and refunds what is left, at any stage until the case is final: no clock
    stops them (a passed deadline only means the case is about to move on without them)."""
    action = CaseAction.REFUND_IN_FULL
    refused = _merchant_only(action, case, person, "refund this case in full")
    if refused:
        return refused
    if case.status == S.FINAL:
        return _wrong_state(action, case)
    return _yes(action)


def _request_info(case: Case, person: _Person, now: datetime) -> CaseActionAnswer:
    action = CaseAction.REQUEST_INFO
    refused = _merchant_only(action, case, person, "request more information")
    if refused:
        return refused
    if case.offer_pending:
        return _not_now(action, "Your offer is waiting for the customer's answer; you can ask once they decline it.")
    if case.status == S.INFO_REQUESTED:
        return _not_now(action, "You are waiting for the customer's reply; you can ask again once they have answered.")
    if case.status != S.OPEN:
        return _wrong_state(action, case)
    if _past(case.respond_by, now):
        return _clock_passed(action, case.respond_by, "answer")
    limit = settings.RESOLUTION["MAX_INFO_REQUESTS"]
    if case.info_requests_count >= limit:
        return _not_now(
            action, f"You have already asked for more information {limit} times; please accept or deny the case."
        )
    return _yes(action)


def _reply(case: Case, person: _Person, now: datetime) -> CaseActionAnswer:
    action = CaseAction.REPLY
    refused = _customer_only(action, person)
    if refused:
        return refused
    if case.status != S.INFO_REQUESTED:
        return _wrong_state(action, case)
    if _past(case.reply_by, now):
        return _clock_passed(action, case.reply_by, "reply")
    if case.offer_pending:
        return _not_now(action, "Answer the offer: accept it, or decline it with your message.")
    return _yes(action)


def _offer(case: Case, person: _Person, now: datetime) -> CaseActionAnswer:
    action = CaseAction.OFFER
    refused = _merchant_only(action, case, person, "offer a partial refund")
    if refused:
        return refused
    if case.status not in (S.OPEN, S.INFO_REQUESTED):
        return _wrong_state(action, case)
    deadline = case.respond_by if case.status == S.OPEN else case.reply_by
    if _past(deadline, now):
        return _clock_passed(action, deadline, "answer")
    if case.offer_pending:
        return _not_now(
            action, "Your offer is waiting for the customer's answer; you can offer again once they decline."
        )
    limit = settings.RESOLUTION["MAX_OFFERS"]
    if case.offers_count >= limit:
        return _not_now(action, f"You have already made {limit} offers on this case; please accept or deny it.")
    if case.payment.refundable_cents <= 0:
        return _not_now(action, "Nothing is left to refund on this payment.")
    return _yes(action)


def _answer_offer(action: CaseAction, case: Case, person: _Person, now: datetime) -> CaseActionAnswer:
    refused = _customer_only(action, person)
    if refused:
        return refused
    if case.status != S.INFO_REQUESTED or not case.offer_pending:
        return _not_now(action, f"There is no offer waiting for your answer, so you cannot {DOING[action]}.")
    if _past(case.reply_by, now):
        return _clock_passed(action, case.reply_by, "answer the offer")
    return _yes(action)


def _withdraw(case: Case, person: _Person) -> CaseActionAnswer:
    action = CaseAction.WITHDRAW
    refused = _customer_only(action, person)
    if refused:
        return refused
    if case.status not in (S.OPEN, S.INFO_REQUESTED):
        return _wrong_state(action, case)
    return _yes(action)


def _message(case: Case, person: _Person) -> CaseActionAnswer:
    action = CaseAction.MESSAGE
    if person.party is None:
        return _not_you(action, "You are not a party to this case.")
    if case.status == S.FINAL:
        return _not_now(action, "This case is closed, so no more messages can be added.")
    if case.status == S.INFO_REQUESTED and person.party == ActorKind.CUSTOMER and case.offer_pending:
        return _not_now(action, "Answer the offer: accept it, or decline it with your message.")
    if case.status == S.INFO_REQUESTED and person.party == ActorKind.CUSTOMER:
        # Decided (README, "Where each kind of rule lives"): while the merchant waits for the
        # customer's answer, the customer's words go through Reply, which answers the request and
        # restarts the merchant's clock; a plain message would leave it unanswered until reply_by.
        return _not_now(action, "The merchant asked you for information: please send it as your reply.")
    return _yes(action)


def _appeal(action: CaseAction, case: Case, person: _Person, now: datetime) -> CaseActionAnswer:
    """Appeal or waive it: once per case, by the side the decision went against, before appeal_by."""
    kind = appellant_kind(case)
    if kind is None:
        # Who first, as in every rule: only the two sides ever appeal (and nobody else learns the state).
        if person.party not in (ActorKind.CUSTOMER, ActorKind.MERCHANT):
            return _not_you(action, f"Only the customer or the merchant on this case can {DOING[action]}.")
        if case.appealed:
            return _not_now(action, "This case has already been appealed once; the decision is final.")
        return _not_now(action, f"This case is {status_words(case.status)}, so you cannot {DOING[action]}.")
    if kind == ActorKind.CUSTOMER:
        refused = _customer_only(action, person)
    else:
        refused = _merchant_only(action, case, person, DOING[action])
    if refused:
        return refused
    if _past(case.appeal_by, now):
        return _clock_passed(action, case.appeal_by, DOING[action])
    return _yes(action)


def _decide(action: CaseAction, case: Case, person: _Person) -> CaseActionAnswer:
    state = S.ESCALATED if action == CaseAction.DECIDE else S.APPEALED
    refused = _reviewer_only(action, person, "decide a case" if action == CaseAction.DECIDE else "decide an appeal")
    if refused:
        return refused
    if case.status != state:
        return _wrong_state(action, case)
    return _yes(action)


def _ask_party(case: Case, person: _Person) -> CaseActionAnswer:
    action = CaseAction.ASK_PARTY
    refused = _reviewer_only(action, person, "ask a party for information")
    if refused:
        return refused
    if case.status not in (S.ESCALATED, S.APPEALED):
        return _not_now(action, "Reviewers ask for information only on escalated or appealed cases.")
    return _yes(action)


def _answer_for(action: CaseAction, case: Case, person: _Person, now: datetime) -> CaseActionAnswer:
    if action in (CaseAction.ACCEPT, CaseAction.DENY):
        return _answer(action, case, person, now)
    if action == CaseAction.REFUND_IN_FULL:
        return _refund_in_full(case, person)
    if action == CaseAction.REQUEST_INFO:
        return _request_info(case, person, now)
    if action == CaseAction.REPLY:
        return _reply(case, person, now)
    if action == CaseAction.WITHDRAW:
        return _withdraw(case, person)
    if action == CaseAction.MESSAGE:
        return _message(case, person)
    if action in (CaseAction.APPEAL, CaseAction.WAIVE_APPEAL):
        return _appeal(action, case, person, now)
    if action in (CaseAction.DECIDE, CaseAction.DECIDE_APPEAL):
        return _decide(action, case, person)
    if action == CaseAction.OFFER:
        return _offer(case, person, now)
    if action in (CaseAction.ACCEPT_OFFER, CaseAction.DECLINE_OFFER):
        return _answer_offer(action, case, person, now)
    return _ask_party(case, person)


# --- the public answers ------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseActions:
    """Every action's answer for one person, case and moment; ``can.<action>`` reads in templates."""

    answers: tuple[CaseActionAnswer, ...]
    # The side the person acts on for this case (customer, merchant, reviewer), or None for a stranger.
    party: str | None = None

    def __iter__(self):
        return iter(self.answers)

    def answer(self, action: CaseAction) -> CaseActionAnswer:
        return next(a for a in self.answers if a.action == action)

    @property
    def allowed(self) -> list[CaseAction]:
        return [a.action for a in self.answers if a.allowed]

    @property
    def can(self) -> dict[str, bool]:
        return {a.action.value: a.allowed for a in self.answers}

    def can_as(self, party: str) -> dict[str, bool]:
        """What the person may do on a page that speaks for ``party`` (the customer's page, the
        merchant's page, the reviewers' admin): nothing there when they act on this case as another
        side (a member who opened the case acts as its customer, on the customer's page)."""
        return {a.action.value: a.allowed and self.party == party for a in self.answers}

    @property
    def why_not(self) -> dict[str, str]:
        return {a.action.value: a.reason for a in self.answers}

    @property
    def not_yours(self) -> dict[str, str]:
        """The reasons of the actions refused because of who the person is (not because of the moment)."""
        return {a.action.value: a.reason for a in self.answers if a.refusal is NotAllowedError}


def case_actions_for(*, case: Case, user, now: datetime, member: bool | None = None) -> CaseActions:
    """Every action and whether ``user`` may take it on ``case`` at ``now`` (with the reason if not).

    ``member``: whether the user is a member of the case's company, when the caller has already
    read it (the merchant pages load the membership first); otherwise it is looked up."""
    person = _person(case, user, member)
    return CaseActions(tuple(_answer_for(action, case, person, now) for action in CaseAction), person.party)


def case_action_require(*, case: Case, user, action: CaseAction, now: datetime) -> str:
    """The services' guard: raise the policy's refusal, or return the party ``user`` acts as."""
    person = _person(case, user)
    answer = _answer_for(action, case, person, now)
    if not answer.allowed:
        raise answer.refusal(answer.reason)
    if action in (CaseAction.DECIDE, CaseAction.DECIDE_APPEAL, CaseAction.ASK_PARTY):
        return ActorKind.REVIEWER
    return person.party
