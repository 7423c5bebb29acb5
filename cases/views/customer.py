"""The customer's side: their orders, the claim form, their cases and the case page.

Thin views: authorise (the scoped selectors answer 404 for anything not theirs) -> form ->
service -> message + redirect. A refused action re-draws the page with what was typed, the
reason on the page, and a 4xx status.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from payments.models import ActorKind
from payments.selectors import payment_list_for_customer
from resolution_center.exceptions import ApplicationError, http_status_for
from resolution_center.formatting import DATE, ISO, format_local, format_money

from .. import services
from ..expiry_rules import days_text
from ..forms import AppealForm, ClaimForm, ConfirmForm, MessageForm, OfferDeclineForm, ReplyForm
from ..models import Case
from ..policy import CaseAction, case_actions_for
from ..presentation import (
    case_timeline_entries,
    denial_summary,
    info_question,
    offer_lines,
    refund_lines,
    status_text,
    url_with_id,
)
from ..selectors import case_get_for_customer, case_list_for_customer, payment_get_for_customer, with_unseen
from .common import submission_claim, submission_release

PAGE_SIZE = 20
CUSTOMER = ActorKind.CUSTOMER


def _case_of(payment) -> Case | None:
    try:
        return payment.case
    except Case.DoesNotExist:
        return None


@login_required
def orders(request):
    """Every payment of the signed-in customer, newest first, with its case or why none can open."""
    now = timezone.now()
    page = Paginator(payment_list_for_customer(customer=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    # Each cell built here once rather than through {% url %}, the money tag and date filters per row.
    case_url = url_with_id("cases:case-detail", "case_id")
    open_url = url_with_id("cases:case-open", "payment_id")
    rows = []
    for payment in page:
        case = _case_of(payment)
        rows.append(
            {
                "payment": payment,
                "case": case,
                "amount": format_money(payment.amount_cents, payment.currency),
                "refunded": format_money(payment.refunded_cents, payment.currency) if payment.refunded_cents else "",
                "paid_iso": format_local(payment.paid_at, ISO),
                "paid_text": format_local(payment.paid_at, DATE),
                "url": case_url(case.pk) if case else open_url(payment.pk),
                "status": status_text(case, CUSTOMER) if case else None,
                "refusal": None
                if case
                else services.case_open_refusal(payment=payment, customer=request.user, now=now),
            }
        )
    return render(request, "cases/customer/orders.html", {"page": page, "rows": rows})


@login_required
def case_open(request, payment_id: int):
    payment = payment_get_for_customer(user=request.user, payment_id=payment_id)
    existing = _case_of(payment)
    if request.method == "GET" and existing is not None:
        return redirect("cases:case-detail", case_id=existing.pk)
    refusal = services.case_open_refusal(payment=payment, customer=request.user)
    status = 200
    if request.method == "POST":
        form = ClaimForm(request.POST, request.FILES)
        if not form.is_valid():
            status = 409 if refusal else 400
        elif not submission_claim(request):
            return _already_sent(request, payment)
        else:
            try:
                case = services.case_open(
                    customer=request.user,
                    payment=payment,
                    reason=form.cleaned_data["reason"],
                    description=form.cleaned_data["description"],
                    files=form.cleaned_data["files"],
                )
            except ApplicationError as error:
                submission_release(request)
                form.add_error(None, error.message)
                refusal = services.case_open_refusal(payment=payment, customer=request.user)
                existing = Case.objects.filter(payment_id=payment.pk).first()
                status = http_status_for(error)
            else:
                messages.success(request, _opened_message(case))
                return redirect("cases:case-detail", case_id=case.pk)
    else:
        form = ClaimForm()
    context = {"payment": payment, "form": form, "refusal": refusal, "existing_case": existing}
    return render(request, "cases/customer/case_open.html", context, status=status)


def _opened_message(case: Case) -> str:
    if case.auto_refunded:
        return "Your refund request was approved at once; the refund is on its way to your original payment method."
    return f"{case.company.name} has your refund request and {days_text('respond_by')} to answer it."


def _already_sent(request, payment):
    """The same form arrived twice; the first one did the work."""
    messages.info(request, "That request was already sent.")
    case = Case.objects.filter(payment_id=payment.pk, customer_id=request.user.pk).first()
    if case is not None:
        return redirect("cases:case-detail", case_id=case.pk)
    return redirect("cases:orders")


@login_required
def case_list(request):
    cases = with_unseen(case_list_for_customer(user=request.user), user_id=request.user.pk, side=CUSTOMER)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"case": case, "status": status_text(case, CUSTOMER)} for case in page]
    return render(request, "cases/customer/case_list.html", {"page": page, "rows": rows})


def _case_actions(case: Case, user, now) -> dict:
    """Which forms the page offers: exactly what the action policy allows (the services ask it again)."""
    can = case_actions_for(case=case, user=user, now=now).can_as(CUSTOMER)
    return {
        "can_reply": can[CaseAction.REPLY],
        "can_message": can[CaseAction.MESSAGE],
        "can_withdraw": can[CaseAction.WITHDRAW],
        "can_appeal": can[CaseAction.APPEAL],
        "can_waive": can[CaseAction.WAIVE_APPEAL],
        "can_accept_offer": can[CaseAction.ACCEPT_OFFER],
        "can_decline_offer": can[CaseAction.DECLINE_OFFER],
    }


# Which flag shows each form, and the text field a person typed into.
FORMS = {
    "reply_form": ("can_reply", "message"),
    "message_form": ("can_message", "body"),
    "appeal_form": ("can_appeal", "statement"),
    "withdraw_form": ("can_withdraw", None),
    "waive_form": ("can_waive", None),
    "accept_offer_form": ("can_accept_offer", None),
    "decline_offer_form": ("can_decline_offer", "message"),
}


def _render_case(request, case: Case, *, status: int = 200, error: str = "", failed: str = "", form=None):
    now = timezone.now()
    actions = _case_actions(case, request.user, now)
    forms = {
        "reply_form": ReplyForm(),
        "message_form": MessageForm(),
        "appeal_form": AppealForm(),
        "withdraw_form": ConfirmForm(auto_id="withdraw_%s"),
        "waive_form": ConfirmForm(auto_id="waive_%s"),
        "accept_offer_form": ConfirmForm(auto_id="accept_offer_%s"),
        "decline_offer_form": OfferDeclineForm(),
    }
    refunds = list(case.payment.refunds.order_by("created_at"))
    unsent_text = ""
    if form is not None:
        forms[failed] = form
        shown_by, text_field = FORMS[failed]
        # The case moved on and this form is no longer offered: still hand back what was typed.
        if not actions[shown_by] and text_field:
            unsent_text = form.data.get(text_field, "")
    offers = offer_lines(case)
    context = {
        "case": case,
        "payment": case.payment,
        # The offer waiting on the customer, shown at the top of the page (None when there is none).
        "pending_offer": next((line for line in offers if line.pending), None),
        "accepted_offer": next((line for line in offers if line.status == "accepted"), None),
        "status": status_text(case, CUSTOMER),
        "entries": case_timeline_entries(case=case, viewer=CUSTOMER, user=request.user, refunds=refunds),
        "refunds": refund_lines(refunds, viewer=CUSTOMER, now=now),
        "credits": case.balance_credits.order_by("created_at"),
        # The merchant's question, shown above the reply box.
        "question": info_question(case) if actions.get("can_reply") else "",
        "denial": denial_summary(case),
        "error": error,
        "unsent_text": unsent_text,
        **forms,
        **actions,
    }
    return render(request, "cases/customer/case_detail.html", context, status=status)


@login_required
def case_detail(request, case_id: int):
    case = case_get_for_customer(user=request.user, case_id=case_id)
    services.case_mark_seen(case=case, user=request.user)
    return _render_case(request, case)


def _case_action(request, case_id: int, *, form_class, form_name: str, run, done: str):
    """The shape every action on the case page shares: validate, act once, redirect; or re-draw
    the case page with the form as typed, the reason and a 4xx."""
    case = case_get_for_customer(user=request.user, case_id=case_id)
    form = form_class(request.POST, request.FILES, auto_id=f"{form_name.removesuffix('_form')}_%s")
    if not form.is_valid():
        return _render_case(request, case, status=400, failed=form_name, form=form)
    if not submission_claim(request):
        messages.info(request, "That was already sent.")
        return redirect("cases:case-detail", case_id=case.pk)
    try:
        result = run(case, form.cleaned_data)
    except ApplicationError as error:
        submission_release(request)
        case.refresh_from_db()
        return _render_case(
            request, case, status=http_status_for(error), error=error.message, failed=form_name, form=form
        )
    messages.success(request, done(result) if callable(done) else done)
    return redirect("cases:case-detail", case_id=case.pk)


@login_required
@require_POST
def case_reply(request, case_id: int):
    return _case_action(
        request,
        case_id,
        form_class=ReplyForm,
        form_name="reply_form",
        run=lambda case, data: services.case_reply(
            case=case, actor=request.user, message=data["message"], files=data["files"]
        ),
        done=f"Your reply was sent. The merchant has {days_text('respond_by')} to answer.",
    )


@login_required
@require_POST
def case_message(request, case_id: int):
    return _case_action(
        request,
        case_id,
        form_class=MessageForm,
        form_name="message_form",
        run=lambda case, data: services.case_message_post(
            case=case, actor=request.user, body=data["body"], files=data["files"]
        ),
        done="Your message was added to the case.",
    )


@login_required
@require_POST
def case_withdraw(request, case_id: int):
    return _case_action(
        request,
        case_id,
        form_class=ConfirmForm,
        form_name="withdraw_form",
        run=lambda case, data: services.case_withdraw(case=case, actor=request.user),
        done="You withdrew your request. The case is closed.",
    )


def _accepted_message(case: Case) -> str:
    refund = case.refunds.first()
    amount = f"{format_money(refund.amount_cents, refund.currency)} " if refund else ""
    return f"You accepted the offer: the {amount}refund is on its way to your original payment method."


@login_required
@require_POST
def case_offer_accept(request, case_id: int):
    return _case_action(
        request,
        case_id,
        form_class=ConfirmForm,
        form_name="accept_offer_form",
        run=lambda case, data: services.case_offer_accept(case=case, actor=request.user),
        done=_accepted_message,
    )


@login_required
@require_POST
def case_offer_decline(request, case_id: int):
    return _case_action(
        request,
        case_id,
        form_class=OfferDeclineForm,
        form_name="decline_offer_form",
        run=lambda case, data: services.case_offer_decline(case=case, actor=request.user, message=data["message"]),
        done=f"You declined the offer. The merchant has {days_text('respond_by')} to answer your message.",
    )


@login_required
@require_POST
def case_appeal(request, case_id: int):
    return _case_action(
        request,
        case_id,
        form_class=AppealForm,
        form_name="appeal_form",
        run=lambda case, data: services.case_appeal(
            case=case, actor=request.user, statement=data["statement"], files=data["files"]
        ),
        done="Your appeal was sent to the platform's reviewers. Their decision will be final.",
    )


@login_required
@require_POST
def case_appeal_waive(request, case_id: int):
    return _case_action(
        request,
        case_id,
        form_class=ConfirmForm,
        form_name="waive_form",
        run=lambda case, data: services.case_appeal_waive(case=case, actor=request.user),
        done="You accepted the decision. The case is closed.",
    )
