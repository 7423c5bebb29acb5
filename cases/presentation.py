"""What a case's state means in plain words, for each party, and which deadline applies."""

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse

from payments.models import ActorKind
from resolution_center.formatting import DATE, DATE_TIME, ISO, format_local, format_money

from .expiry_rules import days_text
from .models import Case, CaseOutcome, CaseStatus


@dataclass(frozen=True)
class StatusText:
    headline: str
    meaning: str
    next_step: str
    deadline: datetime | None
    deadline_label: str


def _final_text(case: Case) -> tuple[str, str]:
    return {
        CaseOutcome.REFUNDED: ("Refunded", "The case is closed with a refund of the payment."),
        CaseOutcome.CREDITED: ("Credited", "The amount was credited to the customer's platform balance."),
        CaseOutcome.DENIED: ("Closed: refund denied", "The refund was denied and the case is closed."),
        CaseOutcome.WITHDRAWN: ("Withdrawn", "The customer withdrew the request. The case is closed."),
    }.get(case.outcome, ("Closed", "The case is closed."))


def status_text(case: Case, viewer: str) -> StatusText:
    """``viewer`` is an ActorKind: customer, merchant or reviewer."""
    s = case.status
    customer = viewer == ActorKind.CUSTOMER
    if s == CaseStatus.OPEN:
        return StatusText(
            "Waiting for the merchant",
            f"The merchant has {days_text('respond_by')} to accept, deny or ask for more information.",
            "You can add a message or withdraw the request."
            if customer
            else "Accept, deny or request more information before the deadline, or the platform decides.",
            case.respond_by,
            "Merchant must answer by",
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
            "More information requested",
            "The merchant asked for more information.",
            "Reply with the details (and files) before the deadline, or the case closes in the merchant's favour."
            if customer
            else f"The customer has {days_text('reply_by')} to reply; without a reply the case is denied.",
            case.reply_by,
            "Customer must reply by",
        )
    if s == CaseStatus.ESCALATED:
        return StatusText(
            "With the platform's reviewers",
            "The case was escalated to the platform's reviewers.",
            "A reviewer will decide from everything in the case. Both parties will be notified.",
            None,
            "",
        )
    if s == CaseStatus.ACCEPTED:
        return StatusText(
            "Refund decided by the platform",
            "A reviewer decided the customer should be refunded.",
            "The merchant may appeal once before the deadline; otherwise the refund is made."
            if customer
            else "You may appeal once before the deadline; otherwise the refund is made automatically.",
            case.appeal_by,
            "Appeal possible until",
        )
    if s == CaseStatus.DENIED:
        return StatusText(
            "Refund denied",
            "The refund was denied.",
            "You may appeal once to the platform before the deadline; otherwise the decision becomes final."
            if customer
            else "The customer may appeal once before the deadline; otherwise the decision becomes final.",
            case.appeal_by,
            "Appeal possible until",
        )
    if s == CaseStatus.APPEALED:
        return StatusText(
            "Appealed",
            "The decision was appealed; a reviewer is looking at the case again.",
            "The reviewer's next decision is final.",
            None,
            "",
        )
    headline, meaning = _final_text(case)
    return StatusText(headline, meaning, "Nothing more to do.", None, "")


@dataclass(frozen=True)
class TimelineEntry:
    """One row of the case timeline as a party sees it: a state change or decision, or a message
    with its files. Used by the customer's and the merchant's case pages (cases/_timeline.html)."""

    at: datetime
    actor_kind: str
    actor_label: str
    title: str
    body: str
    from_label: str
    to_label: str
    is_message: bool
    attachments: tuple = ()
    # Notifications and reminders: part of the record, shown small so the case itself stands out.
    quiet: bool = False


def _actor_label(*, case: Case, kind: str, actor, viewer: str, user) -> str:
    if kind == ActorKind.SYSTEM:
        return "Resolution Center"
    if kind == ActorKind.REVIEWER:
        return "Platform reviewer" if viewer != ActorKind.REVIEWER or actor is None else _person(actor)
    if kind == ActorKind.CUSTOMER:
        return "You" if viewer == ActorKind.CUSTOMER else f"Customer {_person(case.customer)}"
    # The customer deals with the company, not with the member who answered.
    if viewer == ActorKind.CUSTOMER or actor is None:
        return case.company.name
    if user is not None and actor.pk == user.pk:
        return "You"
    return f"{_person(actor)} ({case.company.name})"


def _person(user) -> str:
    return user.get_full_name() or user.email or user.get_username()


def _state_label(state: str) -> str:
    return CaseStatus(state).label if state in CaseStatus.values else ""


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
    """The state changes, decisions and messages this party may see, oldest first.

    Messages carry their files. The "message" and "file" events only repeat what the messages
    show, so they are left out; an event whose note repeats the message posted with it (a
    request for information) shows the message once.
    """
    from resolution_center.formatting import format_money

    from .models import CaseEvent
    from .selectors import case_messages, case_timeline

    messages = list(case_messages(case=case, viewer=viewer))
    message_keys = {(m.created_at, m.author_kind, m.body) for m in messages}
    events = list(case_timeline(case=case, viewer=viewer))
    # The money rows are read only for a timeline that shows them (most cases have none).
    refund = credit = None
    REFUND_NOTES = {
        CaseEvent.Action.REFUND_REQUESTED: "{amount} refund requested from the payment processor.",
        CaseEvent.Action.REFUND_ISSUED: "{amount} refunded to the original payment method.",
        CaseEvent.Action.REFUND_FAILED: (
            "The payment processor has not sent the {amount} refund yet; it is tried again automatically."
        ),
    }
    if any(event.action in REFUND_NOTES for event in events):
        # The page read the payment's refunds already (``refunds``): the case's own is among them.
        if refunds is not None:
            refund = next((r for r in refunds if r.case_id == case.pk), None)
        else:
            refund = case.refunds.order_by("created_at").first()
    if any(event.action == CaseEvent.Action.CREDIT_GRANTED for event in events):
        credit = case.balance_credits.order_by("created_at").first()
    rows: list[tuple[tuple, TimelineEntry]] = []
    for event in events:
        if event.action in (CaseEvent.Action.MESSAGE, CaseEvent.Action.FILE):
            continue
        note = event.note
        if (event.created_at, event.actor_kind, note) in message_keys:
            note = ""
        if event.action in REFUND_NOTES and refund is not None:
            note = REFUND_NOTES[event.action].format(amount=format_money(refund.amount_cents, refund.currency))
        elif event.action == CaseEvent.Action.CREDIT_GRANTED and credit is not None:
            note = f"{format_money(credit.amount_cents, credit.currency)} credited to the customer's platform balance."
        moved = event.from_state != event.to_state
        entry = TimelineEntry(
            at=event.created_at,
            actor_kind=event.actor_kind,
            actor_label=_actor_label(case=case, kind=event.actor_kind, actor=event.actor, viewer=viewer, user=user),
            title=event.get_action_display(),
            body=note,
            from_label=_state_label(event.from_state) if moved else "",
            to_label=_state_label(event.to_state) if moved else "",
            is_message=False,
            quiet=event.action in (CaseEvent.Action.NOTIFICATION, CaseEvent.Action.REMINDER),
        )
        rows.append(((event.created_at, 0, event.pk), entry))
    for message in messages:
        entry = TimelineEntry(
            at=message.created_at,
            actor_kind=message.author_kind,
            actor_label=_actor_label(
                case=case, kind=message.author_kind, actor=message.author, viewer=viewer, user=user
            ),
            title="Message",
            body=message.body,
            from_label="",
            to_label="",
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
