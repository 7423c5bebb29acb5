"""What a caller may read, and the list's filters in Whop's vocabulary translated to ours."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import Count, DateTimeField, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils.dateparse import parse_datetime

from cases.models import Case, CaseEvent, CaseOutcome, CaseReason
from cases.selectors import case_timeline
from resolution_center.exceptions import ApplicationError, NotAllowedError

from .credentials import Caller
from .representation import (
    API_OUTCOMES,
    API_STATUSES,
    COMPANY_PREFIX,
    OUTCOME,
    REASON,
    REASON_FROM_API,
    STATUS,
    USER_PREFIX,
    public_id_parse,
)

# Cases with no running clock sort after every deadline when ordered by response_due_at.
NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)


class NotFound(ApplicationError):
    """The thing does not exist for this caller (another company's case reads as missing)."""


def cases_readable(caller: Caller) -> QuerySet:
    """Every case the caller may read: the key's company's, or the token's customer's own."""
    if caller.api_key is not None:
        return Case.objects.filter(company_id=caller.api_key.company_id)
    return Case.objects.filter(customer_id=caller.user.pk)


def case_get(caller: Caller, case_id: str) -> Case:
    pk = public_id_parse("reso_", case_id)
    case = (
        cases_readable(caller)
        .select_related("company", "customer", "payment", "payment__product")
        .filter(pk=pk)
        .first()
        if pk is not None
        else None
    )
    if case is None:
        raise NotFound(f"There is no case {case_id} that this credential can read.")
    return case


def _moment(text: str | None, name: str) -> datetime | None:
    if not text:
        return None
    try:
        value = parse_datetime(text)
    except ValueError:
        value = None
    if value is None:
        raise ApplicationError(f"{name} must be an ISO 8601 timestamp, such as 2026-11-30T12:00:00Z.")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class CaseFilters:
    account_id: str | None = None
    user_id: str | None = None
    status: list[str] = field(default_factory=list)
    reason: list[str] = field(default_factory=list)
    outcome: list[str] = field(default_factory=list)
    created_before: str | None = None
    created_after: str | None = None


def cases_filtered(caller: Caller, filters: CaseFilters) -> QuerySet:
    cases = cases_readable(caller)
    if filters.account_id:
        company_id = public_id_parse(COMPANY_PREFIX, filters.account_id)
        if company_id is None:
            raise ApplicationError("account_id must be an account id such as biz_12.")
        if caller.api_key is not None and company_id != caller.api_key.company_id:
            raise NotAllowedError(f"This key belongs to {caller.api_key.company.name}; it reads only that account.")
        cases = cases.filter(company_id=company_id)
    if filters.user_id:
        user_pk = caller.user.pk if filters.user_id == "me" else public_id_parse(USER_PREFIX, filters.user_id)
        if user_pk is None:
            raise ApplicationError("user_id must be a user id such as user_12, or me.")
        cases = cases.filter(customer_id=user_pk)
    if filters.status:
        cases = cases.filter(status__in=[ours for ours, api in STATUS.items() if api in filters.status])
    if filters.reason:
        cases = cases.filter(reason__in=[REASON_FROM_API[r] for r in filters.reason])
    if filters.outcome:
        cases = cases.filter(outcome__in=[ours for ours, api in OUTCOME.items() if api in filters.outcome])
    before = _moment(filters.created_before, "created_before")
    after = _moment(filters.created_after, "created_after")
    if before:
        cases = cases.filter(opened_at__lt=before)
    if after:
        cases = cases.filter(opened_at__gt=after)
    return cases


def cases_for_listing(cases: QuerySet, order: str) -> tuple[QuerySet, str]:
    """The queryset with what the page needs, and the field it is ordered by."""
    cases = cases.select_related("company", "customer", "payment", "payment__product")
    if order == "response_due_at":
        due = Coalesce("next_deadline_at", Value(NO_DEADLINE), output_field=DateTimeField())
        return cases.annotate(due_or_never=due), "due_or_never"
    return cases, "opened_at"


def cases_summary(cases: QuerySet, groups: list[str]) -> dict:
    """Counts by Whop's status, reason and outcome: every value present, zeros included."""
    result: dict = {"total": cases.count(), "groups": {}}
    if "status" in groups:
        counts = dict.fromkeys(API_STATUSES, 0)
        for row in cases.order_by().values("status").annotate(n=Count("id")):
            counts[STATUS[row["status"]]] += row["n"]
        result["groups"]["status"] = counts
    if "reason" in groups:
        counts = dict.fromkeys(sorted(REASON.values()), 0)
        for row in cases.order_by().values("reason").annotate(n=Count("id")):
            counts[REASON[CaseReason(row["reason"])]] += row["n"]
        result["groups"]["reason"] = counts
    if "outcome" in groups:
        counts = dict.fromkeys(API_OUTCOMES, 0)
        for row in cases.exclude(outcome="").order_by().values("outcome").annotate(n=Count("id")):
            counts[OUTCOME[CaseOutcome(row["outcome"])]] += row["n"]
        result["groups"]["outcome"] = counts
    return result


# Records of a notice or reminder sent: how the parties were told, not something that happened to
# the case (the pages show them quietly; Whop's events have no such rows).
DELIVERY_RECORDS = (CaseEvent.Action.NOTIFICATION, CaseEvent.Action.REMINDER)


def case_events_visible(case: Case, party: str) -> QuerySet:
    """The timeline rows ``party`` may read, as the pages decide (reviewers-only rows never leave
    the admin), without the delivery records."""
    return case_timeline(case=case, viewer=party).exclude(action__in=DELIVERY_RECORDS)
