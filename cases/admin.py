"""Django admin for the platform's reviewers: the queue of cases awaiting a decision, the case page
with the whole timeline, and the decisions.

Admin is a product screen here. Nothing on a case is editable through the model form: every
change goes through the reviewer's forms on the case page, which call the same cases.services
functions as the web pages (authorise -> form -> service -> message + redirect). Timeline events,
messages and attachments are read-only.
"""

from collections.abc import Callable
from datetime import datetime

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, F, OuterRef
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat, linebreaks_filter
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from payments.admin import IdSearchMixin, ReadOnlyModelAdmin
from payments.models import ActorKind, BalanceCredit, Company, Membership, Refund
from payments.selectors import refunds_needing_attention
from resolution_center.exceptions import ApplicationError, http_status_for
from resolution_center.formatting import ADMIN_DATE_TIME, format_local, format_money, parse_row_id

from .admin_forms import DecisionForm, InfoRequestForm, ReviewerMessageForm, first_error
from .forms.auth import AdminSignInForm
from .models import (
    AWAITING_REVIEWER_STATES,
    Attachment,
    Case,
    CaseEvent,
    CasePolicySnapshot,
    CaseStatus,
    Message,
    Visibility,
)
from .policy import CaseAction, case_actions_for, user_is_reviewer
from .presentation import event_notes, payment_label
from .selectors import with_unseen
from .services import (
    case_decide,
    case_decide_appeal,
    case_mark_seen,
    case_message_post,
    case_reviewer_info_request,
    refund_retry,
)

admin.site.site_header = "Resolution Center administration"
admin.site.site_title = "Resolution Center admin"
admin.site.index_title = "Platform administration"
admin.site.login_form = AdminSignInForm
# The breadcrumbs already lead back; the 300 px model sidebar cut the queue's Reason and Opened
# columns off at 1280 px (issue 12 §7).
admin.site.enable_nav_sidebar = False

DECISION_PREFIX, INFO_PREFIX, MESSAGE_PREFIX = "decision", "info", "message"
FORM_CLASSES = {DECISION_PREFIX: DecisionForm, INFO_PREFIX: InfoRequestForm, MESSAGE_PREFIX: ReviewerMessageForm}


def attachment_download_url(attachment_pk: int) -> str | None:
    """The access-checking download view every page uses; None while it does not exist yet."""
    try:
        return reverse("cases:attachment-download", args=[attachment_pk])
    except NoReverseMatch:
        return None


def _when(moment: datetime | None) -> str:
    return format_local(moment, ADMIN_DATE_TIME) if moment else "—"


def _waited(case: Case, now: datetime) -> str:
    if case.status not in AWAITING_REVIEWER_STATES or case.escalated_at is None:
        return "—"
    return timesince(case.escalated_at, now)


class CaseStateFilter(admin.SimpleListFilter):
    """Opens on the cases awaiting a reviewer (escalated and appealed); "All states" shows every case."""

    title = "state"
    parameter_name = "state"
    AWAITING = "awaiting"
    REFUND_ATTENTION = "refund_attention"
    ALL = "all"

    def lookups(self, request, model_admin):
        return [
            (self.AWAITING, "Awaiting a reviewer"),
            # Refunds the processor refused or did not answer (payments.selectors): a reviewer retries them.
            (self.REFUND_ATTENTION, "Refunds needing attention"),
            (self.ALL, "All states"),
            *CaseStatus.choices,
        ]

    def value(self):
        return super().value() or self.AWAITING

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.ALL:
            return queryset
        if value == self.REFUND_ATTENTION:
            delayed = refunds_needing_attention(now=timezone.now()).filter(case_id__isnull=False)
            return queryset.filter(pk__in=delayed.values("case_id"))
        if value in CaseStatus.values:
            return queryset.filter(status=value)
        return queryset.filter(status__in=AWAITING_REVIEWER_STATES)

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class WaitingCompanyFilter(admin.SimpleListFilter):
    """The companies that have cases awaiting a reviewer, so the sidebar stays short with thousands
    of companies (any company is still found by searching its name)."""

    title = "company"
    parameter_name = "company"
    LIMIT = 50

    def lookups(self, request, model_admin):
        # Companies in name order, each probed in the partial index case_reviewer_queue_company,
        # stopping at LIMIT. (Reading every waiting company's id first and sending them back as an
        # IN list cost ~100 ms with 100,000 cases spread over 4,500 companies; this costs ~6 ms.)
        waiting = Case.objects.filter(company_id=OuterRef("pk"), status__in=AWAITING_REVIEWER_STATES)
        companies = list(
            Company.objects.filter(Exists(waiting)).order_by("name").values_list("pk", "name")[: self.LIMIT]
        )
        selected = parse_row_id(self.value() or "")
        if selected is not None and selected not in {pk for pk, _ in companies}:
            companies += list(Company.objects.filter(pk=selected).values_list("pk", "name"))
        return [(str(pk), name) for pk, name in companies]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        company_id = parse_row_id(value)
        if company_id is None:
            raise IncorrectLookupParameters(value)
        return queryset.filter(company_id=company_id)


class KeysFirstPaginator(Paginator):
    """Finds a page's primary keys on the case table alone, then loads only those rows with their
    joins, so a deep page does not join every row it skips (page 1,500 of 100,000 cases)."""

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        keys = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        rows = {row.pk: row for row in self.object_list.filter(pk__in=keys)}
        return self._get_page([rows[key] for key in keys if key in rows], number, self)


# Styled by static/css/admin.css (the CSP refuses inline style attributes).
NEW_ACTIVITY_MARK = mark_safe('<strong class="rc-new">New<span class="rc-visually-hidden"> activity</span></strong>')


@admin.register(Case)
class CaseAdmin(IdSearchMixin, admin.ModelAdmin):
    # --- the queue ---
    list_display = (
        "case_number",
        "new_activity",
        "status",
        "waited",
        "amount",
        "company",
        "customer_email",
        "reason",
        "opened",
    )
    list_display_links = ("case_number",)
    list_select_related = ("payment", "company", "customer")
    list_filter = (CaseStateFilter, "reason", WaitingCompanyFilter, ("opened_at", admin.DateFieldListFilter))
    paginator = KeysFirstPaginator
    search_fields = ("customer__email", "company__name")
    search_id_field = "payment_id"
    search_help_text = "Payment id, customer email or company name."
    # Oldest wait first; appeals set escalated_at too. Matches the partial index case_reviewer_queue_order.
    ordering = (F("escalated_at").asc(nulls_last=True), "id")
    list_per_page = 50
    # No second COUNT(*) over every case; no per-filter facet counts.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    actions = None

    # --- the case page (view-only: has_change_permission is False for everyone) ---
    change_form_template = "admin/cases/case/change_form.html"
    fieldsets = (
        (
            "Case",
            {
                "fields": (
                    "status",
                    "outcome",
                    "reason",
                    "description",
                    "denial",
                    "opened",
                    "escalated",
                    "appealed_at",
                    "waited",
                    "deadline",
                    "decided",
                    "appeal",
                )
            },
        ),
        ("Payment", {"fields": ("payment_summary", "amount", "refunded", "payment_method", "product", "paid_at")}),
        ("Parties", {"fields": ("customer_summary", "company", "merchants")}),
        ("Refund policy and terms when the case was opened", {"fields": ("policies_when_opened",)}),
        ("Partial refund offers", {"fields": ("offers",)}),
    )
    readonly_fields = (
        "opened",
        "escalated",
        "appealed_at",
        "denial",
        "policies_when_opened",
        "waited",
        "deadline",
        "decided",
        "appeal",
        "payment_summary",
        "amount",
        "refunded",
        "payment_method",
        "product",
        "paid_at",
        "customer_summary",
        "merchants",
        "offers",
    )

    def get_ordering(self, request):
        """The queue (and its two states) by longest wait; any other view newest case first, which
        walks the primary key index instead of sorting every case by a mostly-empty escalated_at
        (measured on PostgreSQL with 100,000 cases: about 1 s sorted, a few ms by id)."""
        state = request.GET.get(CaseStateFilter.parameter_name, CaseStateFilter.AWAITING)
        if state in (CaseStateFilter.AWAITING, *AWAITING_REVIEWER_STATES):
            return self.ordering
        return ("-id",)

    def get_fieldsets(self, request, obj=None):
        """ "Escalated at" only for a case that was escalated, "Appealed at" only for an appealed one
        (an appeal also puts the case in the queue and sets escalated_at)."""
        fieldsets = super().get_fieldsets(request, obj)
        hidden = set()
        if obj is None or obj.appealed or obj.escalated_at is None:
            hidden.add("escalated")
        if obj is None or not obj.appealed or obj.escalated_at is None:
            hidden.add("appealed_at")
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in hidden]})
            for name, options in fieldsets
        ]

    def get_object(self, request, object_id, from_field=None):
        """The case page's case with everything its read-only fields show, in one query (the queue
        joins only what list_select_related names)."""
        queryset = self.get_queryset(request).select_related(
            "payment__product", "company", "customer", "decided_by", "policy_snapshot"
        )
        try:
            return queryset.get(pk=Case._meta.pk.to_python(object_id))
        except (Case.DoesNotExist, ValidationError, ValueError):
            return None

    def get_queryset(self, request):
        """Each case says whether it has activity this reviewer has not seen (one EXISTS per row)."""
        return with_unseen(super().get_queryset(request), user_id=request.user.pk, side=ActorKind.REVIEWER)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # --- columns and read-only fields (no queries: everything comes from list_select_related) ---

    @admin.display(description="Offers")
    def offers(self, case):
        """The merchant's partial refund offers and the customer's answers (none: no query)."""
        if not case.offers_count:
            return "None made."
        rows = [
            (
                format_money(offer.amount_cents, offer.currency),
                offer.get_status_display(),
                format_local(offer.made_at, ADMIN_DATE_TIME),
                offer.message,
                f" The customer answered: “{offer.answer_message}”" if offer.answer_message else "",
            )
            for offer in case.offers.all()
        ]
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li><strong>{}</strong> · {} · offered {}: “{}”{}</li>", rows),
        )

    # "pk", not "id": the queue's tie-breaker ("id") must not mark this column as the one sorted by.
    @admin.display(description="Case", ordering="pk")
    def case_number(self, case):
        return f"Case #{case.pk}"

    @admin.display(description="New")
    def new_activity(self, case):
        """The list's mark of activity this reviewer has not seen (opening the case clears it)."""
        if not getattr(case, "has_unseen", False):
            return ""
        return NEW_ACTIVITY_MARK

    # Every time on the admin pages reads as the product writes it ("27 Nov 2026, 02:35 UTC"), not in
    # Django's default "Nov. 27, 2026, 2:35 a.m.".
    @admin.display(description="Opened", ordering="opened_at")
    def opened(self, case):
        return _when(case.opened_at)

    @admin.display(description="Escalated at")
    def escalated(self, case):
        return _when(case.escalated_at)

    @admin.display(description="Appealed at")
    def appealed_at(self, case):
        return _when(case.escalated_at)

    # A plain field name, so admin's sort arrow marks this column: the queue is ordered by it.
    @admin.display(description="Waiting for", ordering="escalated_at")
    def waited(self, case):
        return _waited(case, timezone.now())

    @admin.display(description="Amount", ordering="payment__amount_cents")
    def amount(self, case):
        return format_money(case.payment.amount_cents, case.payment.currency)

    @admin.display(description="Customer", ordering="customer__email")
    def customer_email(self, case):
        return case.customer.email

    @admin.display(description="Current deadline")
    def deadline(self, case):
        return _when(case.next_deadline_at)

    @admin.display(description="Decided by")
    def decided(self, case):
        if not case.decided_by_kind:
            return "—"
        who = case.get_decided_by_kind_display()
        return f"{who} ({case.decided_by.email})" if case.decided_by else who

    @admin.display(description="Appeal")
    def appeal(self, case):
        if case.appealed:
            return f"Appealed by the {case.get_appealed_by_kind_display().lower()} (no further appeal)"
        if case.appeal_by:
            return f"Possible until {_when(case.appeal_by)}"
        return "—"

    @admin.display(description="Denial reason")
    def denial(self, case):
        """The merchant's reason; a denial by a reviewer or by the customer's silence has none."""
        if case.denial_reason:
            return case.get_denial_reason_display()
        if case.status == CaseStatus.DENIED or case.outcome == "denied":
            return f"None given: decided by the {case.get_decided_by_kind_display().lower()}"
        return "—"

    @admin.display(description="As the customer could read them")
    def policies_when_opened(self, case):
        """The snapshot written when the case was opened (later edits by the company never change it)."""
        try:
            snapshot = case.policy_snapshot
        except CasePolicySnapshot.DoesNotExist:
            return "The company had no refund policy or terms when the case was opened."
        parts = []
        for title, text, url in (
            ("Refund policy", snapshot.refund_policy_text, snapshot.refund_policy_url),
            ("Terms", snapshot.terms_text, snapshot.terms_url),
        ):
            if not text and not url:
                parts.append(format_html("<p><strong>{}</strong>: none.</p>", title))
                continue
            parts.append(format_html("<p><strong>{}</strong></p>", title))
            if text:
                parts.append(
                    format_html('<div class="policy-snapshot-text">{}</div>', linebreaks_filter(text, autoescape=True))
                )
            if url:
                parts.append(
                    format_html('<p>Link: <a href="{}" rel="noopener noreferrer nofollow">{}</a></p>', url, url)
                )
        parts.append(format_html('<p class="help">Kept at {}.</p>', _when(snapshot.taken_at)))
        return format_html_join("", "{}", ((part,) for part in parts))

    @admin.display(description="Payment")
    def payment_summary(self, case):
        url = reverse("admin:payments_payment_change", args=[case.payment_id])
        return format_html('<a href="{}">Payment {}</a>', url, payment_label(case.payment_id))

    @admin.display(description="Refunded so far")
    def refunded(self, case):
        payment = case.payment
        return format_money(payment.refunded_cents, payment.currency) if payment.refunded_cents else "Nothing"

    @admin.display(description="Method")
    def payment_method(self, case):
        return case.payment.get_method_display()

    @admin.display(description="Product")
    def product(self, case):
        return case.payment.product.name

    @admin.display(description="Paid")
    def paid_at(self, case):
        return _when(case.payment.paid_at)

    @admin.display(description="Customer")
    def customer_summary(self, case):
        customer = case.customer
        name = customer.get_full_name() or customer.username
        return format_html("{} &lt;{}&gt; (user #{})", name, customer.email, customer.pk)

    @admin.display(description="Merchant's team")
    def merchants(self, case):
        members = Membership.objects.filter(company_id=case.company_id).select_related("user").order_by("role", "id")
        return format_html_join(", ", "{} ({})", ((m.user.email, m.get_role_display()) for m in members)) or "—"

    # --- the queue page ---

    def changelist_view(self, request, extra_context=None):
        state = request.GET.get(CaseStateFilter.parameter_name, CaseStateFilter.AWAITING)
        title = {
            CaseStateFilter.AWAITING: "Cases awaiting a reviewer, longest wait first",
            CaseStateFilter.REFUND_ATTENTION: "Cases whose refund needs attention",
        }.get(state, "Cases")
        return super().changelist_view(request, extra_context={"title": title, **(extra_context or {})})

    # --- the case page ---

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        bound_forms = extra_context.pop("reviewer_bound_forms", {})
        case = self.get_object(request, object_id)
        if case is not None and self.has_view_permission(request, case):
            if request.method == "GET" and user_is_reviewer(request.user):
                case_mark_seen(case=case, user=request.user)
            extra_context.update(self._case_page_context(request, case, bound_forms))
        return super().change_view(request, object_id, form_url, extra_context)

    def _case_page_context(self, request, case: Case, bound_forms: dict) -> dict:
        all_events = list(case.events.select_related("actor").order_by("created_at", "id"))
        # Delivery records ("Email sent to …") go in their own collapsed list under the timeline.
        events = [e for e in all_events if e.action != CaseEvent.Action.NOTIFICATION]
        deliveries = [e for e in all_events if e.action == CaseEvent.Action.NOTIFICATION]
        case_messages = list(
            case.messages.select_related("author").prefetch_related("attachments").order_by("created_at", "id")
        )
        attachments = list(case.attachments.select_related("uploaded_by").order_by("created_at", "id"))
        for attachment in attachments:
            attachment.download_url = attachment_download_url(attachment.pk)
            attachment.size_text = filesizeformat(attachment.size_bytes)
        by_pk = {a.pk: a for a in attachments}
        for message in case_messages:
            message.files = [by_pk.get(a.pk, a) for a in message.attachments.all()]
        now = timezone.now()
        refunds = [
            (refund, format_money(refund.amount_cents, refund.currency), Refund.Progress(refund.progress(now)).label)
            for refund in Refund.objects.filter(payment_id=case.payment_id).order_by("created_at", "id")
        ]
        credits = [
            (credit, format_money(credit.amount_cents, credit.currency))
            for credit in BalanceCredit.objects.filter(case_id=case.pk).order_by("created_at", "id")
        ]
        # Money in the notes as money ("$59.00 refunded …"), also for rows written before.
        notes = event_notes(events, case=case, refunds=[row[0] for row in refunds])
        labels = dict(CaseStatus.choices)
        for event in events:
            event.shown_note = notes.get(event.pk, event.note)
            # The product's words for the states, as the parties and the filters read them.
            event.from_label = labels.get(event.from_state, event.from_state)
            event.to_label = labels.get(event.to_state, event.to_state)
        is_reviewer = user_is_reviewer(request.user)
        actions = case_actions_for(case=case, user=request.user, now=timezone.now())
        can = actions.can_as(ActorKind.REVIEWER)
        forms = {prefix: bound_forms.get(prefix) or cls(prefix=prefix) for prefix, cls in FORM_CLASSES.items()}
        return {
            "case": case,
            "timeline": events,
            "deliveries": deliveries,
            "case_messages": case_messages,
            "attachments": attachments,
            "refunds": refunds,
            # This case's own refund, when it has not been sent: the reviewer may send it again.
            "refund_to_retry": next(
                (row for row in refunds if row[0].case_id == case.pk and row[0].status != Refund.Status.SUCCEEDED),
                None,
            ),
            "credits": credits,
            "is_reviewer": is_reviewer,
            # Exactly what the action policy allows this person now; the services ask it again.
            "can_decide": can[CaseAction.DECIDE],
            "can_decide_appeal": can[CaseAction.DECIDE_APPEAL],
            "can_request_info": can[CaseAction.ASK_PARTY],
            "can_post_message": can[CaseAction.MESSAGE],
            "not_yours": actions.not_yours.get(CaseAction.DECIDE, "") if is_reviewer else "",
            "decision_form": forms[DECISION_PREFIX],
            "info_form": forms[INFO_PREFIX],
            "message_form": forms[MESSAGE_PREFIX],
        }

    # --- the reviewer's actions: custom admin views, POST only, CSRF-checked by admin_view ---

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<id:case_id>/decide/", view(self.decide_view), name="cases_case_decide"),
            path("<id:case_id>/decide-appeal/", view(self.decide_appeal_view), name="cases_case_decide_appeal"),
            path("<id:case_id>/request-info/", view(self.request_info_view), name="cases_case_request_info"),
            path("<id:case_id>/message/", view(self.message_view), name="cases_case_message"),
            path("<id:case_id>/refund-retry/", view(self.refund_retry_view), name="cases_case_refund_retry"),
            *super().get_urls(),
        ]

    def decide_view(self, request, case_id: int):
        def perform(data):
            return case_decide(case=case_id, actor=request.user, decision=data["decision"], note=data["note"])

        return self._reviewer_action(request, case_id, DECISION_PREFIX, perform, self._decided_message)

    def decide_appeal_view(self, request, case_id: int):
        def perform(data):
            return case_decide_appeal(case=case_id, actor=request.user, decision=data["decision"], note=data["note"])

        return self._reviewer_action(request, case_id, DECISION_PREFIX, perform, self._decided_message)

    def request_info_view(self, request, case_id: int):
        def perform(data):
            case_reviewer_info_request(case=case_id, actor=request.user, party=data["party"], message=data["message"])
            return data["party"]

        def success(party):
            return f"Case #{case_id}: your question was sent to the {ActorKind(party).label.lower()} only."

        return self._reviewer_action(request, case_id, INFO_PREFIX, perform, success)

    def message_view(self, request, case_id: int):
        def perform(data):
            return case_message_post(case=case_id, actor=request.user, body=data["body"], visibility=data["visibility"])

        def success(message):
            return f"Case #{case_id}: message posted (visible to: {Visibility(message.visibility).label.lower()})."

        return self._reviewer_action(request, case_id, MESSAGE_PREFIX, perform, success)

    def refund_retry_view(self, request, case_id: int):
        """Send the case's delayed refund to the processor again now (also once the automatic
        attempts ran out). Same guards as the decisions: POST, a reviewer, an existing case."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not (self.has_view_permission(request) and user_is_reviewer(request.user)):
            raise PermissionDenied
        refund = Refund.objects.filter(case_id=case_id).first()
        if refund is None:
            raise Http404("This case has no refund.")
        if refund_retry(refund=refund):
            messages.success(request, f"Case #{case_id}: the refund is being sent to the payment processor again.")
        else:
            messages.warning(
                request, f"Case #{case_id}: nothing to retry — the refund was sent already or is being sent right now."
            )
        return redirect("admin:cases_case_change", case_id)

    def _reviewer_action(self, request, case_id: int, prefix: str, perform: Callable, success: Callable):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        # Only reviewers act; staff outside the group may look at cases but are refused here.
        if not (self.has_view_permission(request) and user_is_reviewer(request.user)):
            raise PermissionDenied
        if not Case.objects.filter(pk=case_id).exists():
            raise Http404("No such case.")
        form = FORM_CLASSES[prefix](request.POST, prefix=prefix)
        if not form.is_valid():
            messages.error(request, first_error(form))
            return self._case_page_again(request, case_id, prefix, form, status=400)
        try:
            result = perform(form.cleaned_data)
        except ApplicationError as error:
            messages.error(request, error.message)
            return self._case_page_again(request, case_id, prefix, form, status=http_status_for(error))
        messages.success(request, success(result))
        return redirect("admin:cases_case_change", case_id)

    def _case_page_again(self, request, case_id: int, prefix: str, form, *, status: int):
        """The case page with the reviewer's input kept and the error shown, answered with a 4xx."""
        # The POST was handled above; the page itself is rendered as for a GET so that admin does
        # not treat it as a submission of the (read-only) case form.
        request.method = "GET"
        response = self.change_view(request, str(case_id), extra_context={"reviewer_bound_forms": {prefix: form}})
        response.status_code = status
        return response

    @staticmethod
    def _decided_message(case: Case) -> str:
        if case.status == CaseStatus.ACCEPTED:
            return (
                f"Case #{case.pk}: refund decided. The merchant may appeal until {_when(case.appeal_by)}; "
                "the money moves when the decision becomes final. Both parties were notified."
            )
        if case.status == CaseStatus.DENIED:
            return (
                f"Case #{case.pk}: decided for the merchant. The customer may appeal until "
                f"{_when(case.appeal_by)}. Both parties were notified."
            )
        return (
            f"Case #{case.pk}: final decision recorded ({case.get_outcome_display().lower()}); the case is closed. "
            "Both parties were notified."
        )


class CaseChildAdmin(IdSearchMixin, ReadOnlyModelAdmin):
    """Rows that belong to one case: seen and searched by case id, never changed here."""

    search_id_field = "case_id"

    @admin.display(description="Case", ordering="case_id")
    def case_link(self, obj):
        url = reverse("admin:cases_case_change", args=[obj.case_id])
        return format_html('<a href="{}">Case #{}</a>', url, obj.case_id)


@admin.register(CaseEvent)
class CaseEventAdmin(CaseChildAdmin):
    list_display = ("created_at", "case_link", "action", "actor_kind", "actor", "state_change", "visibility")
    list_select_related = ("actor",)
    list_filter = ("action", "actor_kind", "visibility", ("created_at", admin.DateFieldListFilter))
    search_fields = ("note",)
    search_help_text = "Case id, or words in the note."
    ordering = ("-created_at", "-id")
    fields = ("case_link", "created_at", "action", "actor_kind", "actor", "state_change", "visibility", "note")
    readonly_fields = ("case_link", "state_change")

    @admin.display(description="State")
    def state_change(self, event):
        if event.from_state == event.to_state:
            return event.to_state or "—"
        return f"{event.from_state or '—'} → {event.to_state}"


@admin.register(Message)
class MessageAdmin(CaseChildAdmin):
    list_display = ("created_at", "case_link", "author_kind", "author", "visibility", "excerpt")
    list_select_related = ("author",)
    list_filter = ("author_kind", "visibility")
    search_fields = ("body",)
    search_help_text = "Case id, or words in the message."
    ordering = ("-created_at", "-id")
    fields = ("case_link", "created_at", "author_kind", "author", "visibility", "body")
    readonly_fields = ("case_link",)

    @admin.display(description="Message")
    def excerpt(self, message):
        return message.body if len(message.body) <= 80 else f"{message.body[:79]}…"


@admin.register(Attachment)
class AttachmentAdmin(CaseChildAdmin):
    list_display = ("created_at", "case_link", "download", "content_type", "size", "uploaded_by_kind")
    list_filter = ("content_type", "uploaded_by_kind")
    search_fields = ("original_name", "sha256")
    search_help_text = "Case id, file name or SHA-256."
    ordering = ("-created_at", "-id")
    # The stored file path is never shown: files are reached only through the download view.
    fields = (
        "case_link",
        "download",
        "content_type",
        "size",
        "sha256",
        "uploaded_by_kind",
        "uploaded_by",
        "created_at",
    )
    readonly_fields = ("case_link", "download", "size")

    @admin.display(description="File")
    def download(self, attachment):
        url = attachment_download_url(attachment.pk)
        if url is None:
            return attachment.original_name
        return format_html('<a href="{}">{}</a>', url, attachment.original_name)

    @admin.display(description="Size", ordering="size_bytes")
    def size(self, attachment):
        return filesizeformat(attachment.size_bytes)
