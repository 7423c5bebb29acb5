"""The merchant's pages, per company: the Resolution Center list (and its CSV export), a case,
the Payments tab, the auto respond settings and the refund policy and terms.

Every view: signed in, a member of the company in the URL (else 404, logged), state changes by
POST only (else 405), each answered with post/redirect/get. Refusals from the services come back
as the page with the typed input kept, the message shown and a 4xx status.
"""

import csv
import functools

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponseNotAllowed, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from payments.models import ActorKind, Membership, Refund
from payments.selectors import companies_for_merchant
from payments.services import company_auto_refund_update, company_policies_update
from resolution_center.exceptions import ApplicationError, http_status_for
from resolution_center.formatting import format_money

from .. import services
from ..expiry_rules import days_text
from ..forms.merchant import (
    AutoRespondForm,
    CaseAcceptForm,
    CaseAppealForm,
    CaseAppealWaiveForm,
    CaseDenyForm,
    CaseFilterForm,
    CaseMessageForm,
    CaseOfferForm,
    CaseRefundInFullForm,
    CaseRequestInfoForm,
    CompanyPoliciesForm,
    PaymentSearchForm,
    money_for_input,
)
from ..models import Case
from ..policy import case_actions_for
from ..presentation import case_timeline_entries, merchant_case_rows, offer_lines, refund_lines, status_text
from ..selectors import (
    InvalidCursor,
    case_export_rows,
    case_get_for_merchant,
    case_page_for_merchant,
    case_status_tabs,
    company_display_currency,
    company_dispute_rate,
    membership_get_for_merchant,
    merchant_counts_forget,
    payment_history_for_customer,
    payment_page_for_merchant,
)
from ..selectors.export import export_rows_guarded
from .common import submission_claim, submission_release

# 20 rows, as on the customer pages; a busy merchant's 20,000 cases make 1,000 pages.
PAGE_SIZE = 20


def merchant_view(*, post_only: bool = False):
    """Sign-in, then membership of ``company_id`` (a stranger gets the same 404 as for a company
    that does not exist), then the method: the view receives the Membership (with its company)."""

    def decorate(view):
        @login_required
        @functools.wraps(view)
        def wrapped(request, company_id: int, *args, **kwargs):
            membership = membership_get_for_merchant(user=request.user, company_id=company_id)
            if post_only and request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            return view(request, membership, *args, **kwargs)

        return wrapped

    return decorate


def merchant_bar_context(request, *, company_id: int, section: str, switch_url_name: str) -> dict:
    """The company bar for a merchant page served by another app (notifications, settings): the
    membership (404 for a non-member) and what the bar shows; the switcher goes to ``switch_url_name``."""
    membership = membership_get_for_merchant(user=request.user, company_id=company_id)
    return {**_bar_context(request, membership, section=section), "switch_url_name": switch_url_name}


def _bar_context(request, membership: Membership, *, section: str) -> dict:
    """What every merchant page shows above its content: the company and its switcher, the
    tabs, and the "N open resolutions" button (counted fresh on every page)."""
    company = membership.company
    return {
        "company": company,
        "membership": membership,
        "can_edit_settings": membership.can_manage_company,
        # Both come with the membership (cases.selectors.membership.membership_get_for_merchant): one query.
        "companies": membership.user_companies,
        "open_resolutions": membership.open_resolutions,
        "section": section,
        "switch_url_name": f"merchant:{section}",
    }


@login_required
@require_safe
def home(request):
    """Where "Merchant" in the header leads: the user's first company's Resolution Center."""
    company = companies_for_merchant(user=request.user).first()
    if company is None:
        raise Http404("You are not a member of any company.")
    return redirect("merchant:cases", company_id=company.pk)


@merchant_view()
@require_safe
def company_home(request, membership):
    return redirect("merchant:cases", company_id=membership.company_id)


# --- the Resolution Center list --------------------------------------------------------------


def _user_tz():
    # Read while the request's time zone is active (the CSV stream runs after the view returns).
    return timezone.get_current_timezone()


@merchant_view()
@require_safe
def case_list(request, membership):
    return _case_list_page(request, membership, CaseFilterForm(request.GET))


def _case_list_page(request, membership, form: CaseFilterForm):
    company = membership.company
    status = 200
    errors: list[str] = []
    if not form.is_valid():
        status = 400
        errors.append("Some filters were not understood; they are marked below.")
    filters = form.filters(_user_tz())
    cursor = form.cleaned_data.get("cursor") if form.is_valid() else None
    try:
        page = case_page_for_merchant(
            company_id=company.pk, filters=filters, cursor=cursor or None, size=PAGE_SIZE, viewer_id=request.user.pk
        )
    except InvalidCursor:
        status = 400
        errors.append("That page link is not valid any more; here is the first page.")
        page = case_page_for_merchant(
            company_id=company.pk, filters=filters, cursor=None, size=PAGE_SIZE, viewer_id=request.user.pk
        )
    base = reverse("merchant:cases", kwargs={"company_id": company.pk})
    tabs = [
        {"tab": tab, "url": _url(base, request.GET, status=tab.status), "current": tab.status == filters.status}
        for tab in case_status_tabs(company_id=company.pk, filters=filters)
    ]
    context = {
        **_bar_context(request, membership, section="cases"),
        "form": form,
        "filters": filters,
        "errors": errors,
        "page": page,
        "rows": merchant_case_rows(page.rows, company_id=company.pk),
        "tabs": tabs,
        **_page_links(base, request.GET, page),
        "export_url": _url(reverse("merchant:cases-export", kwargs={"company_id": company.pk}), request.GET),
        "reset_url": base,
        "dispute_rate": company_dispute_rate(company_id=company.pk),
    }
    return render(request, "cases/merchant/case_list.html", context, status=status)


def _url(base: str, query, **changes) -> str:
    """``base`` with the current query string, minus the page position, with ``changes`` applied
    (an empty value removes the parameter)."""
    params = query.copy()
    params.pop("cursor", None)
    for name, value in changes.items():
        params.pop(name, None)
        if value:
            params[name] = value
    encoded = params.urlencode()
    return f"{base}?{encoded}" if encoded else base


def _page_links(base: str, query, page) -> dict:
    return {
        "first_url": None if page.is_first else _url(base, query),
        "prev_url": _url(base, query, cursor=page.prev_cursor) if page.prev_cursor else None,
        "next_url": _url(base, query, cursor=page.next_cursor) if page.next_cursor else None,
    }


class _Echo:
    """csv.writer writes to this and gets the line back, so each row can be streamed."""

    def write(self, value: str) -> str:
        return value


@merchant_view()
@require_safe
def case_export(request, membership):
    """Every case matching the list's filters, as CSV, streamed row by row."""
    form = CaseFilterForm(request.GET)
    if not form.is_valid():
        return _case_list_page(request, membership, form)
    tz = _user_tz()
    # Bad filters were answered with 400 above, so an error while reading the rows is ours: before
    # the first row it propagates to the normal 500 page (and is logged there); after it, the file
    # ends with a marked "incomplete" row (see export_rows_guarded).
    rows = export_rows_guarded(case_export_rows(company_id=membership.company_id, filters=form.filters(tz), tz=tz))
    writer = csv.writer(_Echo())
    # The byte order mark makes spreadsheet programs read the file as UTF-8.
    content = _prefixed("\ufeff", (writer.writerow(row) for row in rows))
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    filename = f"cases-company-{membership.company_id}-{timezone.localdate(timezone=tz):%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def _prefixed(first: str, rest):
    yield first
    yield from rest


# --- a case ------------------------------------------------------------------------------------


def _case_actions(case, user) -> dict:
    """Which answers the page offers, and why not: exactly the action policy's answer (the services
    ask it again on POST)."""
    # Only members reach a merchant page (merchant_view), so membership need not be read again.
    actions = case_actions_for(case=case, user=user, now=timezone.now(), member=True)
    return {"can": actions.can_as(ActorKind.MERCHANT), "why_not": actions.why_not, "not_yours": actions.not_yours}


def _case_page(request, membership, case, *, forms: dict | None = None, error: str = "", status: int = 200):
    forms = forms or {}
    refunds = list(case.payment.refunds.order_by("created_at"))
    context = {
        **_bar_context(request, membership, section="cases"),
        **_case_actions(case, request.user),
        "case": case,
        "payment": case.payment,
        "status": status_text(case, ActorKind.MERCHANT),
        "entries": case_timeline_entries(case=case, viewer=ActorKind.MERCHANT, user=request.user, refunds=refunds),
        "history": payment_history_for_customer(company_id=case.company_id, customer_id=case.customer_id),
        "refunds": refund_lines(refunds, viewer=ActorKind.MERCHANT, now=timezone.now()),
        # What has reached the customer; refunds on their way are listed under it.
        "refunded_sent_cents": sum(r.amount_cents for r in refunds if r.status == Refund.Status.SUCCEEDED),
        "message_form": forms.get("message") or CaseMessageForm(),
        "request_info_form": forms.get("request_info") or CaseRequestInfoForm(),
        "accept_form": forms.get("accept") or CaseAcceptForm(),
        "deny_form": forms.get("deny") or CaseDenyForm(),
        "refund_in_full_form": forms.get("refund_in_full") or CaseRefundInFullForm(),
        "offer_form": forms.get("offer") or CaseOfferForm(payment=case.payment),
        "offers": offer_lines(case),
        "offers_left": max(0, settings.RESOLUTION["MAX_OFFERS"] - case.offers_count),
        "appeal_form": forms.get("appeal") or CaseAppealForm(),
        "waive_form": forms.get("waive") or CaseAppealWaiveForm(),
        "open_form": next(iter(forms), ""),
        "error": error,
    }
    # The case moved on and the form that failed is no longer offered: still hand back what was typed.
    for name, form in forms.items():
        if form.is_bound and not context["can"].get(_SHOWN_BY.get(name, name)):
            context["unsent_text"] = next((form.data.get(f, "") for f in _TEXT_FIELDS if form.data.get(f)), "")
    return render(request, "cases/merchant/case_detail.html", context, status=status)


# The policy answer that shows each form (cases.policy.CaseAction values), and the fields a person types in.
_SHOWN_BY = {"waive": "waive_appeal"}
_TEXT_FIELDS = ("body", "message", "note", "statement")


def _case_for(request, membership, case_id: int):
    return case_get_for_merchant(user=request.user, company_id=membership.company_id, case_id=case_id)


@merchant_view()
@require_safe
def case_detail(request, membership, case_id: int):
    case = _case_for(request, membership, case_id)
    services.case_mark_seen(case=case, user=request.user)
    return _case_page(request, membership, case)


def _case_action(request, membership, case_id: int, *, name: str, form_class, act, done, form_kwargs=None):
    """The shape every case action shares: form -> service -> flash + redirect, or the page
    again with the typed input, the reason and a 4xx. ``form_kwargs(case)``: what the form needs
    to know about the case; ``done`` may be a function of the service's result."""
    case = _case_for(request, membership, case_id)
    form = form_class(request.POST, request.FILES, **(form_kwargs(case) if form_kwargs else {}))
    if not form.is_valid():
        first_error = next(iter(form.errors.values()))[0]
        return _case_page(request, membership, case, forms={name: form}, error=f"Not done: {first_error}", status=400)
    if not submission_claim(request):
        messages.info(request, "That was already sent.")
        return redirect("merchant:case", company_id=membership.company_id, case_id=case.pk)
    try:
        result = act(case, form.cleaned_data)
    except ApplicationError as error:
        submission_release(request)
        case = _case_for(request, membership, case_id)  # show the case as it is now
        return _case_page(
            request, membership, case, forms={name: form}, error=error.message, status=http_status_for(error)
        )
    # The service has committed: the list's tabs and dispute rate must show this change at once.
    transaction.on_commit(lambda: merchant_counts_forget(company_id=membership.company_id))
    messages.success(request, done(result) if callable(done) else done)
    return redirect("merchant:case", company_id=membership.company_id, case_id=case.pk)


@merchant_view(post_only=True)
def case_message(request, membership, case_id: int):
    return _case_action(
        request,
        membership,
        case_id,
        name="message",
        form_class=CaseMessageForm,
        act=lambda case, data: services.case_message_post(
            case=case, actor=request.user, body=data["body"], files=data["files"]
        ),
        done="Your message was added to the case.",
    )


@merchant_view(post_only=True)
def case_request_info(request, membership, case_id: int):
    return _case_action(
        request,
        membership,
        case_id,
        name="request_info",
        form_class=CaseRequestInfoForm,
        act=lambda case, data: services.case_request_info(
            case=case, actor=request.user, message=data["message"], files=data["files"]
        ),
        done=f"Your request was sent. The customer has {days_text('reply_by')} to reply.",
    )


@merchant_view(post_only=True)
def case_accept(request, membership, case_id: int):
    return _case_action(
        request,
        membership,
        case_id,
        name="accept",
        form_class=CaseAcceptForm,
        act=lambda case, data: services.case_accept(case=case, actor=request.user, note=data["note"]),
        done="You accepted the case; the refund is on its way to the customer.",
    )


@merchant_view(post_only=True)
def case_refund_in_full(request, membership, case_id: int):
    return _case_action(
        request,
        membership,
        case_id,
        name="refund_in_full",
        form_class=CaseRefundInFullForm,
        act=lambda case, data: services.case_refund_in_full(case=case, actor=request.user, note=data["note"]),
        done="You refunded the customer in full and the case is closed; the refund is on its way to the customer.",
    )


@merchant_view(post_only=True)
def case_deny(request, membership, case_id: int):
    return _case_action(
        request,
        membership,
        case_id,
        name="deny",
        form_class=CaseDenyForm,
        act=lambda case, data: services.case_deny(
            case=case, actor=request.user, reason=data["reason"], message=data["message"], files=data["files"]
        ),
        done=f"You denied the refund. The customer may appeal within {days_text('appeal_by')}.",
    )


@merchant_view(post_only=True)
def case_offer(request, membership, case_id: int):
    return _case_action(
        request,
        membership,
        case_id,
        name="offer",
        form_class=CaseOfferForm,
        form_kwargs=lambda case: {"payment": case.payment},
        act=lambda case, data: services.case_offer(
            case=case, actor=request.user, amount_cents=data["amount"], message=data["message"]
        ),
        done=lambda offer: (
            f"You offered the customer a {format_money(offer.amount_cents, offer.currency)} refund. "
            f"They have {days_text('reply_by')} to accept or decline it."
        ),
    )


@merchant_view(post_only=True)
def case_appeal(request, membership, case_id: int):
    return _case_action(
        request,
        membership,
        case_id,
        name="appeal",
        form_class=CaseAppealForm,
        act=lambda case, data: services.case_appeal(
            case=case, actor=request.user, statement=data["statement"], files=data["files"]
        ),
        done="Your appeal was sent to the platform's reviewers; their next decision is final.",
    )


@merchant_view(post_only=True)
def case_appeal_waive(request, membership, case_id: int):
    return _case_action(
        request,
        membership,
        case_id,
        name="waive",
        form_class=CaseAppealWaiveForm,
        act=lambda case, data: services.case_appeal_waive(case=case, actor=request.user),
        done="You accepted the decision; the refund is on its way to the customer.",
    )


# --- the Payments tab --------------------------------------------------------------------------


def _case_of(payment):
    try:
        return payment.case
    except Case.DoesNotExist:
        return None


@merchant_view()
@require_safe
def payment_list(request, membership):
    company = membership.company
    form = PaymentSearchForm(request.GET)
    status, errors = 200, []
    valid = form.is_valid()
    if not valid:
        status = 400
        errors.append("The search was not understood; please shorten it.")
    search = form.cleaned_data.get("q", "") if valid else ""
    cursor = form.cleaned_data.get("cursor") if valid else None
    try:
        page = payment_page_for_merchant(company_id=company.pk, search=search, cursor=cursor or None, size=PAGE_SIZE)
    except InvalidCursor:
        status = 400
        errors.append("That page link is not valid any more; here is the first page.")
        page = payment_page_for_merchant(company_id=company.pk, search=search, cursor=None, size=PAGE_SIZE)
    return render(
        request,
        "cases/merchant/payment_list.html",
        {
            **_bar_context(request, membership, section="payments"),
            "form": form,
            "search": search,
            "errors": errors,
            "page": page,
            "rows": [(payment, _case_of(payment)) for payment in page.rows],
            **_page_links(reverse("merchant:payments", kwargs={"company_id": company.pk}), request.GET, page),
            "dispute_rate": company_dispute_rate(company_id=company.pk),
        },
        status=status,
    )


# --- auto respond settings ---------------------------------------------------------------------


def _company_settings_page(
    request,
    membership,
    *,
    section: str,
    template: str,
    saved_form,
    posted_form,
    save,
    what: str,
    unsaved: str,
    saved_words: str,
    extra: dict | None = None,
):
    """A company settings page (auto respond, policies): owners and admins change it through ``save``
    (the service); support members see it read-only and a POST from them is refused (403); a refused
    or invalid POST shows the form again with what was typed."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    can_edit = membership.can_manage_company
    form, status, error = saved_form, 200, ""
    if request.method == "POST" and not can_edit:
        status, error = 403, f"Only the company's owners and admins can change the {what}."
    elif request.method == "POST":
        form = posted_form(request.POST)
        if not form.is_valid():
            status, error = 400, f"The {unsaved} were not saved; please correct the marked fields."
        else:
            try:
                save(form.cleaned_data)
            except ApplicationError as refused:
                status, error = http_status_for(refused), refused.message
            else:
                messages.success(request, saved_words)
                return redirect(f"merchant:{section}", company_id=membership.company.pk)
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    context = {
        **_bar_context(request, membership, section=section),
        "form": form,
        "can_edit": can_edit,
        "error": error,
        **(extra or {}),
    }
    return render(request, template, context, status=status)


@merchant_view()
def auto_respond(request, membership):
    """Owners and admins change the settings; support members see them read-only."""
    company = membership.company
    currency = company_display_currency(company_id=company.pk)
    return _company_settings_page(
        request,
        membership,
        section="auto-respond",
        template="cases/merchant/auto_respond.html",
        saved_form=AutoRespondForm(
            initial={
                "card_below": money_for_input(company.auto_refund_card_below_cents, currency),
                "paypal_below": money_for_input(company.auto_refund_paypal_below_cents, currency),
                "message": company.auto_refund_message,
            },
            currency=currency,
        ),
        posted_form=lambda data: AutoRespondForm(data, currency=currency),
        save=lambda cleaned: company_auto_refund_update(
            company=company,
            actor=request.user,
            card_below_cents=cleaned["card_below"],
            paypal_below_cents=cleaned["paypal_below"],
            message=cleaned["message"],
        ),
        what="auto respond settings",
        unsaved="settings",
        saved_words="Auto respond settings saved.",
        extra={"currency": currency},
    )


# --- refund policy and terms -------------------------------------------------------------------


@merchant_view()
def policies(request, membership):
    """The refund policy and terms customers read on the claim form. Owners and admins change them;
    support members see them read-only and a POST from them is refused (403)."""
    company = membership.company
    return _company_settings_page(
        request,
        membership,
        section="policies",
        template="cases/merchant/policies.html",
        saved_form=CompanyPoliciesForm(
            initial={name: getattr(company, name) for name in CompanyPoliciesForm.base_fields},
        ),
        posted_form=CompanyPoliciesForm,
        save=lambda cleaned: company_policies_update(company=company, actor=request.user, **cleaned),
        what="refund policy and terms",
        unsaved="policies",
        saved_words="Refund policy and terms saved. New refund requests show them; open cases keep theirs.",
    )
