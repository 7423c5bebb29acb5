"""What a case's state means in plain words, for each party, and which deadline applies.

The one vocabulary of the product: every page (status tabs, filter dropdowns, list badges, case
pages, admin) names a state with ``status_name``; a state where one party waits on the other reads
"Waiting for you" to the party who must act.
"""

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse

from payments.models import ActorKind
from resolution_center.formatting import DATE, DATE_TIME, ISO, format_local, format_money

from .expiry_rules import days_text
from .models import Case, CaseEvent, CaseOutcome, CaseStatus

CUSTOMER, MERCHANT, REVIEWER, SYSTEM = ActorKind.CUSTOMER, ActorKind.MERCHANT, ActorKind.REVIEWER, ActorKind.SYSTEM

# Each state's name for the party who must act now ("you"); everyone else reads the model's label
# (CaseStatus, migration 0013_status_vocabulary), which the admin shows too.
_YOUR_TURN = {
    CaseStatus.OPEN: (MERCHANT, "Waiting for you"),
    CaseStatus.INFO_REQUESTED: (CUSTOMER, "Waiting for you"),
}


def status_name(status: str, viewer: str) -> str:
    """The short name of a state as ``viewer`` (an ActorKind) reads it: the words of the merchant's
    status tabs, the filter dropdown, the list badges and the case page's headline."""
    party, words = _YOUR_TURN.get(status, (None, ""))
    if party is not None and party == viewer:
        return words
    return CaseStatus(status).label


def status_choices(viewer: str) -> list[tuple[str, str]]:
    """(value, name) of every state, in the order of the lifecycle, as ``viewer`` reads them."""
    return [(status, status_name(status, viewer)) for status in CaseStatus.values]


def payment_label(payment_id: int) -> str:
    """A payment's number, never confusable with a case's ("Case #2"): "pay-15"."""
    return f"pay-{payment_id}"


@dataclass(frozen=True)
class StatusText:
    headline: str
    meaning: str
    next_step: str
    deadline: datetime | None
    deadline_label: str


_OUTCOME_WORDS = {
    CaseOutcome.REFUNDED: "refunded",
    CaseOutcome.CREDITED: "credited",
    CaseOutcome.DENIED: "refund denied",
    CaseOutcome.WITHDRAWN: "withdrawn",
}


def decided_by_text(case: Case, viewer: str) -> str:
    """Who decided the case's last decision, from ``viewer``'s side, as a sentence (no query: the
    case keeps who decided, whether it was appealed and whether it was refunded automatically)."""
    customer = viewer == CUSTOMER
    kind = case.decided_by_kind
    if case.auto_refunded:
        return "It was refunded automatically when the request was made."
    if kind == MERCHANT:
        return "The merchant decided it." if customer else "Your company decided it."
    if kind == REVIEWER:
        on_appeal = case.appealed and case.status in (CaseStatus.FINAL, CaseStatus.APPEALED)
        return "A platform reviewer decided it, on appeal." if on_appeal else "A platform reviewer decided it."
    if kind == CUSTOMER:
        if case.outcome == CaseOutcome.WITHDRAWN:
            return "You withdrew the request." if customer else "The customer withdrew the request."
        return "You accepted the merchant's offer." if customer else "The customer accepted your offer."
    if kind == SYSTEM:
        if case.outcome == CaseOutcome.DENIED or case.status == CaseStatus.DENIED:
            return (
                "It was decided by the deadline: you did not reply in time."
                if customer
                else "It was decided by the deadline: the customer did not reply in time."
            )
        return "It was decided automatically."
    return ""


def _final_text(case: Case, viewer: str) -> tuple[str, str]:
    meaning = {
        CaseOutcome.REFUNDED: "The case is closed with a refund of the payment.",
        CaseOutcome.CREDITED: "The amount was credited to the customer's platform balance.",
        CaseOutcome.DENIED: "The refund was denied and the case is closed.",
        CaseOutcome.WITHDRAWN: "The request was withdrawn. The case is closed.",
    }.get(case.outcome, "The case is closed.")
    words = _OUTCOME_WORDS.get(case.outcome)
    headline = f"{CaseStatus.FINAL.label}: {words}" if words else CaseStatus.FINAL.label
    return headline, " ".join(filter(None, [meaning, decided_by_text(case, viewer)]))


def status_text(case: Case, viewer: str) -> StatusText:
    """``viewer`` is an ActorKind: customer, merchant or reviewer. Every line reads from their side."""
    s = case.status
    customer, merchant = viewer == CUSTOMER, viewer == MERCHANT
    name = status_name(s, viewer)
    if s == CaseStatus.OPEN:
        return StatusText(
            name,
            f"You have {days_text('respond_by')} to accept, deny or ask for more information."
            if merchant
            else f"The merchant has {days_text('respond_by')} to accept, deny or ask for more information.",
            "You can add a message or withdraw the request."
            if customer
            else "Accept, deny or request more information before the deadline, or the platform decides.",
            case.respond_by,
            "You must answer by" if merchant else "The merchant must answer by",
        )
    if s == CaseStatus.INFO_REQUESTED and case.offer_pending:
        # A partial refund offer waits on the customer (the offer itself is shown above this panel).
        return StatusText(
            "An offer is waiting for your answer" if customer else "Waiting for the customer's answer to your offer",
            f"{case.company.name} offered a partial refund."
            if viewer != ActorKind.MERCHANT
            else "You offered a partial refund.",
            "Accept the offer, or decline it with a message, before the deadline; without an answer the offer "
            "lapses and the case closes in the merchant's favour."
            if customer
            else "The customer may accept it (the amount is refunded at once) or decline it; without an answer "
            "by the deadline the offer lapses and the case is denied.",
            case.reply_by,
            "Answer the offer by" if customer else "The customer must answer by",
        )
    if s == CaseStatus.INFO_REQUESTED:
        return StatusText(
            name,
            "The merchant asked you for more information."
            if customer
            else (
                "You asked the customer for more information."
                if merchant
                else "The merchant asked for more information."
            ),
            "Reply with the details (and files) before the deadline, or the case closes in the merchant's favour."
            if customer
            else f"The customer has {days_text('reply_by')} to reply; without a reply the case is denied.",
            case.reply_by,
            "You must reply by" if customer else "The customer must reply by",
        )
    if s == CaseStatus.ESCALATED:
        return StatusText(
            name,
            "The case was escalated to the platform's reviewers.",
            "A reviewer will decide from everything in the case. Both parties will be notified.",
            None,
            "",
        )
    if s == CaseStatus.ACCEPTED:
        return StatusText(
            name,
            "A platform reviewer decided you should be refunded."
            if customer
            else "A platform reviewer decided the customer should be refunded.",
            "The merchant may appeal once before the deadline; otherwise the refund is made."
            if not merchant
            else "You may appeal once before the deadline; otherwise the refund is made automatically.",
            case.appeal_by,
            "You may appeal until" if merchant else "The merchant may appeal until",
        )
    if s == CaseStatus.DENIED:
        return StatusText(
            name,
            " ".join(filter(None, ["The refund was denied.", decided_by_text(case, viewer)])),
            "You may appeal once to the platform before the deadline; otherwise the decision becomes final."
            if customer
            else "The customer may appeal once before the deadline; otherwise the decision becomes final.",
            case.appeal_by,
            "You may appeal until" if customer else "The customer may appeal until",
        )
    if s == CaseStatus.APPEALED:
        return StatusText(
            name,
            "The decision was appealed; a reviewer is looking at the case again.",
            "The reviewer's next decision is final.",
            None,
            "",
        )
    headline, meaning = _final_text(case, viewer)
    return StatusText(headline, meaning, "Nothing more to do.", None, "")


@dataclass(frozen=True)
class TimelineEntry:
    """One row of the case timeline as a party sees it: an event in a sentence from the reader's
    side ("You replied", "The customer replied"), or a message with its files. Used by the
    customer's and the merchant's case pages (cases/_timeline.html)."""

    at: datetime
    actor_kind: str
    actor_label: str
    title: str
    body: str
    is_message: bool
    attachments: tuple = ()
    # Reminders: part of the record, shown small so the case itself stands out.
    quiet: bool = False


def _who(*, case: Case, kind: str, actor, viewer: str, user) -> str:
    """Who did something, as ``viewer`` names them: "You", "The customer", the company, a reviewer."""
    if kind == SYSTEM:
        return "Resolution Center"
    if kind == REVIEWER:
        return _person(actor) if viewer == REVIEWER and actor is not None else "A platform reviewer"
    if kind == CUSTOMER:
        return "You" if viewer == CUSTOMER else "The customer"
    # The customer deals with the company, not with the member who answered.
    if viewer == CUSTOMER or actor is None:
        return case.company.name
    if user is not None and actor.pk == user.pk:
        return "You"
    return f"{_person(actor)} ({case.company.name})"


def _person(user) -> str:
    return user.get_full_name() or user.email or user.get_username()


A = CaseEvent.Action
# "{who}" is the actor as the reader names them (_who).
_DID = {
    A.OPENED: "{who} opened the case",
    A.INFO_REQUESTED: "{who} asked for more information",
    A.REPLIED: "{who} replied",
    A.ACCEPTED: "{who} accepted the request and refunded the payment",
    A.REFUNDED_IN_FULL: "{who} refunded the payment in full",
    A.DENIED: "{who} denied the refund",
    A.WITHDRAWN: "{who} withdrew the request",
    A.AUTO_REFUNDED: "Refunded automatically",
    A.APPEALED: "{who} appealed the decision",
    A.APPEAL_WAIVED: "{who} accepted the decision",
    A.FINALIZED: "The time to appeal ran out: the decision is final",
    A.OFFER_MADE: "{who} offered a partial refund",
    A.OFFER_ACCEPTED: "{who} accepted the offer",
    A.OFFER_DECLINED: "{who} declined the offer",
    A.OFFER_LAPSED: "The offer lapsed",
    A.REFUND_REQUESTED: "Refund requested",
    A.REFUND_ISSUED: "Refund sent",
    A.REFUND_FAILED: "Refund delayed",
    A.CREDIT_GRANTED: "Balance credited",
    A.REMINDER: "Deadline reminder",
}
_DECISIONS = {
    CaseStatus.ACCEPTED: "{who} decided the customer should be refunded",
    CaseStatus.DENIED: "{who} decided against a refund",
}
_FINAL_DECISIONS = {
    CaseOutcome.REFUNDED: "{who} decided the appeal: a refund",
    CaseOutcome.CREDITED: "{who} decided on a credit to the customer's platform balance",
    CaseOutcome.DENIED: "{who} decided the appeal: no refund",
}


def event_title(event: CaseEvent, *, case: Case, viewer: str, user=None) -> str:
    """One event in plain words from ``viewer``'s side (no internal state names)."""
    who = _who(case=case, kind=event.actor_kind, actor=event.actor, viewer=viewer, user=user)
    action = event.action
    if action == A.ESCALATED:
        return "The case went to the platform's reviewers"
    if action == A.REPLY_EXPIRED:
        return "The refund was denied: no reply in time"
    if action == A.DECIDED:
        if event.to_state == CaseStatus.FINAL:
            template = _FINAL_DECISIONS.get(case.outcome, "{who} decided the appeal")
        else:
            template = _DECISIONS.get(event.to_state, "{who} decided")
        text = template.format(who=who)
        return text.replace("the customer should", "you should") if viewer == CUSTOMER else text
    template = _DID.get(action)
    if template is None:
        return event.get_action_display()
    return template.format(who=who)


_REFUND_NOTES = {
    A.REFUND_REQUESTED: "{amount} refund requested from the payment processor.",
    A.REFUND_ISSUED: "{amount} refunded to the original payment method.",
    A.REFUND_FAILED: "The payment processor has not sent the {amount} refund yet; it is tried again automatically.",
}
# The deadline rules' notes name the late party; the late party reads "You".
_LATE_PARTY = {A.ESCALATED: ("The merchant did not", MERCHANT), A.REPLY_EXPIRED: ("The customer did not", CUSTOMER)}


def _note_for(event: CaseEvent, note: str, viewer: str) -> str:
    late = _LATE_PARTY.get(event.action)
    if late is not None and late[1] == viewer:
        return note.replace(late[0], "You did not")
    return note


def event_notes(events, *, case: Case, refunds=None) -> dict[int, str]:
    """Each money event's note with its amount as money ("$59.00 refunded …"), from the refund or
    credit row, by event id (rows written before the notes carried amounts read the same)."""
    events = [e for e in events if e.action in _REFUND_NOTES or e.action == A.CREDIT_GRANTED]
    if not events:
        return {}
    refund = credit = None
    if any(e.action in _REFUND_NOTES for e in events):
        # The page read the payment's refunds already (``refunds``): the case's own is among them.
        if refunds is not None:
            refund = next((r for r in refunds if r.case_id == case.pk), None)
        else:
            refund = case.refunds.order_by("created_at").first()
    if any(e.action == A.CREDIT_GRANTED for e in events):
        credit = case.balance_credits.order_by("created_at").first()
    notes = {}
    for event in events:
        if event.action in _REFUND_NOTES and refund is not None:
            notes[event.pk] = _REFUND_NOTES[event.action].format(
                amount=format_money(refund.amount_cents, refund.currency)
            )
        elif event.action == A.CREDIT_GRANTED and credit is not None:
            amount = format_money(credit.amount_cents, credit.currency)
            notes[event.pk] = f"{amount} credited to the customer's platform balance."
    return notes


def info_question(case: Case, *, viewer: str = CUSTOMER) -> str:
    """The latest question put to ``viewer`` (what the merchant, or a reviewer, asked): shown
    above the reply box."""
    from .selectors import case_timeline

    event = case_timeline(case=case, viewer=viewer).filter(action=A.INFO_REQUESTED).order_by("created_at", "id").last()
    return event.note if event is not None else ""


@dataclass(frozen=True)
class RefundLine:
    """One refund as one side reads it: the amount, where it is, and what it means for them."""

    amount: str
    progress: str  # Refund.Progress
    headline: str
    detail: str
    reference: str = ""

    @property
    def banner(self) -> str:
        """The sentence at the top of the case page while the money is not sent yet."""
        words = {"on_its_way": "is on its way", "delayed": "is delayed"}.get(self.progress)
        return f"The {self.amount} refund {words}." if words else ""


def refund_lines(refunds, *, viewer: str, now: datetime) -> list[RefundLine]:
    """The refunds of a case's payment in plain words for ``viewer`` (customer or merchant).

    The customer is told whether the money is on its way, delayed or sent, and that a delay needs
    nothing from them; the merchant also sees the processor's reason and what happens next.
    """
    from payments.models import Refund

    Progress = Refund.Progress
    lines = []
    for refund in refunds:
        amount = format_money(refund.amount_cents, refund.currency)
        progress = refund.progress(now)
        requested = format_local(refund.created_at, DATE_TIME)
        if progress == Progress.SENT:
            headline = f"{amount} refunded"
            sent_on = format_local(refund.succeeded_at or refund.created_at, DATE)
            detail = f"Sent to the original payment method on {sent_on}."
        elif progress == Progress.ON_ITS_WAY:
            headline = f"{amount} refund on its way"
            detail = f"Requested {requested}; the payment processor is sending it to the original payment method."
        elif viewer == ActorKind.CUSTOMER:
            headline = f"{amount} refund delayed"
            detail = (
                "The payment processor has not sent it yet. It is tried again automatically and the platform's "
                "reviewers are watching it: you do not need to do anything."
            )
        else:
            headline = f"{amount} refund delayed"
            said = refund.failure_message.strip().rstrip(".")
            why = f"The payment processor said: “{said}”. " if said else ""
            if refund.waits_for_a_reviewer:
                then = "The automatic attempts ran out; the platform's reviewers will retry it."
            else:
                then = f"Next attempt {format_local(refund.next_attempt_at, DATE_TIME)}."
            detail = f"{why}{then}"
        reference = refund.processor_reference if viewer != ActorKind.CUSTOMER else ""
        lines.append(
            RefundLine(amount=amount, progress=progress, headline=headline, detail=detail, reference=reference)
        )
    return lines


def case_timeline_entries(*, case: Case, viewer: str, user=None, refunds=None) -> list[TimelineEntry]:
    """The events and messages this party may see, oldest first, each from the reader's side.

    Messages carry their files. The "message" and "file" events only repeat what the messages
    show, so they are left out; an event whose note repeats the message posted with it (a
    request for information) shows the message once. Delivery records ("email sent to …") are
    the admin's: the parties never see them.
    """
    from .selectors import case_messages, case_timeline

    messages = list(case_messages(case=case, viewer=viewer))
    message_keys = {(m.created_at, m.author_kind, m.body) for m in messages}
    hidden = {A.MESSAGE, A.FILE}
    if viewer != REVIEWER:
        hidden.add(A.NOTIFICATION)
    events = [e for e in case_timeline(case=case, viewer=viewer) if e.action not in hidden]
    notes = event_notes(events, case=case, refunds=refunds)
    rows: list[tuple[tuple, TimelineEntry]] = []
    for event in events:
        note = _note_for(event, notes.get(event.pk, event.note), viewer)
        if (event.created_at, event.actor_kind, event.note) in message_keys:
            note = ""
        entry = TimelineEntry(
            at=event.created_at,
            actor_kind=event.actor_kind,
            actor_label=_who(case=case, kind=event.actor_kind, actor=event.actor, viewer=viewer, user=user),
            title=event_title(event, case=case, viewer=viewer, user=user),
            body=note,
            is_message=False,
            quiet=event.action in (A.NOTIFICATION, A.REMINDER),
        )
        rows.append(((event.created_at, 0, event.pk), entry))
    for message in messages:
        entry = TimelineEntry(
            at=message.created_at,
            actor_kind=message.author_kind,
            actor_label=_who(case=case, kind=message.author_kind, actor=message.author, viewer=viewer, user=user),
            title="Message",
            body=message.body,
            is_message=True,
            attachments=tuple(message.attachments.all()),
        )
        rows.append(((message.created_at, 1, message.pk), entry))
    rows.sort(key=lambda row: row[0])
    return [entry for _, entry in rows]


# --- the Resolution Center list's rows ---------------------------------------------------------


@dataclass(frozen=True)
class MerchantCaseRow:
    """One row of the merchant's case list, every cell already a string: rendering 20 rows through
    {% url %}, the money tag and four date filters cost ~0.7 ms a row (most of the page's time)."""

    case: Case
    url: str
    amount: str
    reason: str
    headline: str
    deadline_iso: str
    deadline_text: str
    opened_iso: str
    opened_text: str


_URL_ID_PLACEHOLDER = 987654321987


def url_with_id(viewname: str, id_kwarg: str, **kwargs):
    """A function pk -> the URL of ``viewname`` for that pk, from ONE reverse() (a {% url %} per
    row costs more than the rest of the row)."""
    url = reverse(viewname, kwargs={**kwargs, id_kwarg: _URL_ID_PLACEHOLDER})
    head, _, tail = url.rpartition(str(_URL_ID_PLACEHOLDER))
    return lambda pk: f"{head}{pk}{tail}"


def merchant_case_rows(cases, *, company_id: int) -> list[MerchantCaseRow]:
    """The list's rows, with dates in the current time zone (as the template's date filter shows
    them) and each case's link built from one reversed URL."""
    url_template = reverse("merchant:case", kwargs={"company_id": company_id, "case_id": _URL_ID_PLACEHOLDER})
    url_head, _, url_tail = url_template.rpartition(str(_URL_ID_PLACEHOLDER))
    rows = []
    for case in cases:
        payment = case.payment
        rows.append(
            MerchantCaseRow(
                case=case,
                url=f"{url_head}{case.pk}{url_tail}",
                amount=format_money(payment.amount_cents, payment.currency),
                reason=case.get_reason_display(),
                headline=status_text(case, ActorKind.MERCHANT).headline,
                deadline_iso=format_local(case.next_deadline_at, ISO),
                deadline_text=format_local(case.next_deadline_at, DATE_TIME),
                opened_iso=format_local(case.opened_at, ISO),
                opened_text=format_local(case.opened_at, DATE),
            )
        )
    return rows


# --- partial refund offers ---------------------------------------------------------------------


@dataclass(frozen=True)
class OfferLine:
    """One partial refund offer as the case pages show it: the amount in words, where it stands."""

    offer: object  # CaseOffer
    amount: str
    status: str  # CaseOffer.Status
    status_label: str
    pending: bool


def offer_lines(case: Case) -> list[OfferLine]:
    """The case's offers, oldest first (at most MAX_OFFERS rows: one query, none for a case without)."""
    if not case.offers_count:
        return []
    return [
        OfferLine(
            offer=offer,
            amount=format_money(offer.amount_cents, offer.currency),
            status=offer.status,
            status_label=offer.get_status_display(),
            pending=offer.status == offer.Status.PENDING,
        )
        for offer in case.offers.all()
    ]


# --- a denial, at the top of the customer's case page ------------------------------------------


@dataclass(frozen=True)
class DenialSummary:
    """Why the refund was denied and who decided it: the merchant's reason and message (with its
    files), or a reviewer's decision, or the customer's silence (those leave no reason)."""

    headline: str
    reason: str
    message: object | None  # cases.models.Message, its attachments prefetched
    decided_by: str


def denial_summary(case: Case) -> DenialSummary | None:
    """For a denied case, and a case closed as denied after it; None for any other case."""
    from .models import DenialReason
    from .selectors import case_denial_message

    if not (
        case.status == CaseStatus.DENIED or (case.status == CaseStatus.FINAL and case.outcome == CaseOutcome.DENIED)
    ):
        return None
    company = case.company.name
    reason = DenialReason(case.denial_reason).label if case.denial_reason in DenialReason.values else ""
    message = case_denial_message(case=case) if case.denial_reason else None
    if case.decided_by_kind == ActorKind.REVIEWER:
        on_appeal = " on appeal" if case.appealed else ""
        headline = f"A platform reviewer decided{on_appeal} in {company}'s favour"
        decided_by = "a platform reviewer"
    elif case.decided_by_kind == ActorKind.SYSTEM:
        headline = f"Closed in {company}'s favour: you did not reply in time"
        decided_by = "the deadline (no reply)"
    else:
        headline = f"{company} denied your refund request"
        decided_by = company
    return DenialSummary(headline=headline, reason=reason, message=message, decided_by=decided_by)
