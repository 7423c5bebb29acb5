"""/api/v1/: Whop's ``resolution_center_cases`` resource, wire-compatible with whop-sdk 2.6.0, plus
our additions (offer, refund, waive_appeal) under the same prefix and conventions.

Views stay thin: the credential names a person (credentials.Caller), the services act as that
person and the one action policy (cases.policy) decides, the representation module shapes the
answer. Every refusal is ``{"error": {"code", "message"}}`` in plain words."""

from django.http import HttpRequest
from django.utils import timezone
from ninja import NinjaAPI, Query, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from cases import services
from cases.models import Case
from cases.policy import CaseAction, case_actions_for
from payments.models import Payment
from resolution_center.exceptions import (
    ApplicationError,
    ConcurrentUpdateError,
    InvalidTransitionError,
    NotAllowedError,
    NotEligibleError,
    RateLimitedError,
)
from resolution_center.formatting import parse_money
from uploads.api import router as files_router

from .credentials import AuthenticationFailed, Caller, caller_authenticate
from .idempotency import IdempotencyKeyReused, idempotent
from .pagination import keyset_page
from .representation import (
    PAYMENT_PREFIX,
    REASON_FROM_API,
    case_representation,
    event_representation,
    public_id_parse,
)
from .schemas import (
    ApiDirection,
    ApiGroup,
    ApiOrder,
    ApiOutcome,
    ApiReason,
    ApiStatus,
    AttachmentRef,
    CaseListOut,
    CaseOut,
    CreateIn,
    DenyIn,
    ErrorOut,
    EventListOut,
    MessageIn,
    OfferIn,
    OptionalMessageIn,
    SummaryOut,
)
from .selectors import (
    CaseFilters,
    NotFound,
    case_events_visible,
    case_get,
    cases_filtered,
    cases_for_listing,
    cases_summary,
)


class BearerKey(HttpBearer):
    """``Authorization: Bearer <company key or personal token>``; refusals go through the handlers."""

    def __call__(self, request: HttpRequest):
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        caller = caller_authenticate(secret.strip() if scheme.lower() == "bearer" else "")
        request.caller = caller
        return caller

    def authenticate(self, request, token):  # pragma: no cover - __call__ does the work
        return caller_authenticate(token)


api = NinjaAPI(
    title="Resolution Center API",
    version="1",
    description="Whop's resolution_center_cases API, wire-compatible with the official whop-sdk client, "
    "plus our additions. See docs/api.md.",
    urls_namespace="api-v1",
    auth=BearerKey(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}


# --- errors ----------------------------------------------------------------------------------------


def _error(request, status: int, code: str, message: str, headers: dict | None = None):
    response = api.create_response(request, {"error": {"code": code, "message": message}}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _status_and_code(error: ApplicationError) -> tuple[int, str]:
    if isinstance(error, AuthenticationFailed):
        return 401, "unauthorized"
    if isinstance(error, NotFound):
        return 404, "not_found"
    if isinstance(error, NotAllowedError):
        return 403, "forbidden"
    if isinstance(error, RateLimitedError):
        return 429, "rate_limited"
    if isinstance(error, IdempotencyKeyReused):
        return 422, "idempotency_key_reused"
    if isinstance(error, InvalidTransitionError | ConcurrentUpdateError | NotEligibleError):
        return 409, "conflict"
    return 422, "invalid_request"


@api.exception_handler(ApplicationError)
def _application_error(request, error: ApplicationError):
    status, code = _status_and_code(error)
    headers = {"Retry-After": str(error.extra["retry_after"])} if "retry_after" in error.extra else None
    return _error(request, status, code, error.message, headers)


@api.exception_handler(AuthenticationError)
def _authentication_error(request, error):
    return _error(request, 401, "unauthorized", "Send your API key as 'Authorization: Bearer <key>'.")


@api.exception_handler(NinjaValidationError)
def _validation_error(request, error: NinjaValidationError):
    parts = []
    for item in error.errors[:5]:
        where = ".".join(str(p) for p in item.get("loc", ()) if p not in ("body", "query", "path", "payload"))
        parts.append(f"{where}: {item.get('msg', 'is not valid')}" if where else item.get("msg", "is not valid"))
    return _error(request, 422, "invalid_request", "The request is not valid. " + "; ".join(parts) + ".")


@api.exception_handler(HttpError)
def _http_error(request, error: HttpError):
    return _error(request, error.status_code, "invalid_request", str(error))


# --- helpers ---------------------------------------------------------------------------------------


def _caller(request) -> Caller:
    return request.auth


def _case_out(caller: Caller, case: Case) -> dict:
    """The case with what this credential may do now (nothing for a read-only key)."""
    if not caller.can_write:
        allowed = []
    else:
        actions = case_actions_for(
            case=case, user=caller.user, now=timezone.now(), member=case.company_id in caller.member_of
        )
        # A key acts on the merchant's side only, a token on the customer's (a member who opened the
        # case through their own token is its customer, as on the pages).
        allowed = [a for a in actions.allowed if actions.party == caller.party]
    return case_representation(case, viewer_party=caller.party, available_actions=allowed)


def _require_write(caller: Caller) -> None:
    if not caller.can_write:
        raise NotAllowedError("This API key is read-only; make a read-and-write key on the Developers page to act.")


def _files(caller: Caller, attachments: list[AttachmentRef]):
    """The uploaded files named by id, checked as the web forms check them (the files resource)."""
    ids = [a.id or a.direct_upload_id for a in attachments if (a.id or a.direct_upload_id)]
    if not ids:
        return None
    try:
        from uploads.services import files_take
    except ImportError:
        raise ApplicationError("Attachments by file id are not available on this server yet.") from None
    # The services check files themselves (cases.attachments.attachments_check): hand them the files.
    return [getattr(item, "upload", item) for item in files_take(ids, caller.user)]


def _act(request, case_id: str, do) -> tuple[int, dict]:
    """A write on one case: the credential may write, the case is readable by it, the service acts
    (as the credential's person, guarded by the policy), the fresh case answers; once per key."""
    caller = _caller(request)
    _require_write(caller)

    def run() -> tuple[int, dict]:
        case = case_get(caller, case_id)
        do(caller, case)
        return 200, _case_out(caller, case_get(caller, case_id))

    return Status(*idempotent(request, caller, run))


def _as_merchant(caller: Caller) -> None:
    if caller.api_key is None:
        raise NotAllowedError("Only a company's API key can answer cases; a personal token acts as the customer.")


def _as_customer(caller: Caller) -> None:
    if caller.token is None:
        raise NotAllowedError("Only the customer's personal token can do this; a company key acts as the merchant.")


# --- reading ---------------------------------------------------------------------------------------


@api.get("/resolution_center_cases", response={200: CaseListOut, **ERRORS}, tags=["resolution_center_cases"])
def list_cases(
    request,
    account_id: str | None = None,
    user_id: str | None = None,
    first: int | None = Query(None, ge=1, le=100),
    after: str | None = None,
    last: int | None = Query(None, ge=1, le=100),
    before: str | None = None,
    order: ApiOrder = "created_at",
    direction: ApiDirection = "desc",
    status: list[ApiStatus] = Query(None),
    reason: list[ApiReason] = Query(None),
    outcome: list[ApiOutcome] = Query(None),
    created_before: str | None = None,
    created_after: str | None = None,
):
    """Lists the cases this credential can read: a key's company's, a token's customer's own."""
    caller = _caller(request)
    filters = CaseFilters(account_id, user_id, status or [], reason or [], outcome or [], created_before, created_after)
    cases, field = cases_for_listing(cases_filtered(caller, filters), order)
    page = keyset_page(
        cases, field=field, descending=direction == "desc", first=first, after=after, last=last, before=before
    )
    return {"data": [_case_out(caller, case) for case in page.rows], "page_info": page.page_info()}


@api.get(
    "/resolution_center_cases/summary",
    response={200: SummaryOut, **ERRORS},
    tags=["resolution_center_cases"],
    exclude_none=True,  # a breakdown not asked for is absent, as Whop's
)
def summary(
    request,
    groups: list[ApiGroup] = Query(None),
    account_id: str | None = None,
    user_id: str | None = None,
    status: list[ApiStatus] = Query(None),
    reason: list[ApiReason] = Query(None),
    outcome: list[ApiOutcome] = Query(None),
    created_before: str | None = None,
    created_after: str | None = None,
):
    """Counts of the same cases the list shows, by status, reason and outcome."""
    caller = _caller(request)
    filters = CaseFilters(account_id, user_id, status or [], reason or [], outcome or [], created_before, created_after)
    return cases_summary(cases_filtered(caller, filters), groups or ["status", "reason", "outcome"])


@api.get("/resolution_center_cases/{id}", response={200: CaseOut, **ERRORS}, tags=["resolution_center_cases"])
def retrieve(request, id: str):
    caller = _caller(request)
    return _case_out(caller, case_get(caller, id))


@api.get(
    "/resolution_center_cases/{id}/events", response={200: EventListOut, **ERRORS}, tags=["resolution_center_cases"]
)
def events(
    request,
    id: str,
    first: int | None = Query(None, ge=1, le=100),
    after: str | None = None,
    last: int | None = Query(None, ge=1, le=100),
    before: str | None = None,
):
    """The case's timeline as this credential's side sees it, oldest first."""
    caller = _caller(request)
    case = case_get(caller, id)
    page = keyset_page(
        case_events_visible(case, caller.party),
        field="created_at",
        descending=False,
        first=first,
        after=after,
        last=last,
        before=before,
    )
    files = {}
    for attachment in case.attachments.all():
        files.setdefault((attachment.created_at, attachment.original_name), []).append(attachment)
    data = [
        event_representation(
            event, attachments=files.get((event.created_at, event.note), []) if event.action == "file" else ()
        )
        for event in page.rows
    ]
    return {"data": data, "page_info": page.page_info()}


# --- the customer's writes -------------------------------------------------------------------------


@api.post("/resolution_center_cases", response={201: CaseOut, **ERRORS}, tags=["resolution_center_cases"])
def create(request, payload: CreateIn):
    """Opens a case, as the customer (personal token), against one of their own payments."""
    caller = _caller(request)
    _as_customer(caller)

    def run() -> tuple[int, dict]:
        pk = public_id_parse(PAYMENT_PREFIX, payload.receipt_id)
        payment = Payment.objects.filter(pk=pk, customer=caller.user).first() if pk is not None else None
        if payment is None:
            raise NotFound(f"There is no payment {payload.receipt_id} of yours.")
        case = services.case_open(
            customer=caller.user,
            payment=payment,
            reason=REASON_FROM_API[payload.reason],
            description=payload.message,
            files=_files(caller, payload.attachments),
        )
        return 201, _case_out(caller, case_get(caller, f"reso_{case.pk}"))

    return Status(*idempotent(request, caller, run))


@api.post("/resolution_center_cases/{id}/withdraw", response={200: CaseOut, **ERRORS}, tags=["resolution_center_cases"])
def withdraw(request, id: str):
    def do(caller, case):
        _as_customer(caller)
        services.case_withdraw(case=case, actor=caller.user)

    return _act(request, id, do)


@api.post("/resolution_center_cases/{id}/reply", response={200: CaseOut, **ERRORS}, tags=["resolution_center_cases"])
def reply(request, id: str, payload: MessageIn):
    """A message from either side; from the customer while the merchant waits on them, the reply to
    the information request (it gives the merchant back their clock)."""

    def do(caller, case):
        files = _files(caller, payload.attachments)
        if caller.party == "customer":
            actions = case_actions_for(case=case, user=caller.user, now=timezone.now())
            if actions.answer(CaseAction.REPLY).allowed:
                services.case_reply(case=case, actor=caller.user, message=payload.message, files=files)
                return
        services.case_message_post(case=case, actor=caller.user, body=payload.message, files=files)

    return _act(request, id, do)


@api.post("/resolution_center_cases/{id}/appeal", response={200: CaseOut, **ERRORS}, tags=["resolution_center_cases"])
def appeal(request, id: str, payload: MessageIn):
    """Appeals the decision: the customer a denial, the merchant a reviewer's refund (once a case)."""

    def do(caller, case):
        services.case_appeal(
            case=case, actor=caller.user, statement=payload.message, files=_files(caller, payload.attachments)
        )

    return _act(request, id, do)


@api.post("/resolution_center_cases/{id}/waive_appeal", response={200: CaseOut, **ERRORS}, tags=["our additions"])
def waive_appeal(request, id: str):
    """Ours: the side that may appeal accepts the decision now (the case becomes final)."""

    def do(caller, case):
        services.case_appeal_waive(case=case, actor=caller.user)

    return _act(request, id, do)


# --- the merchant's writes -------------------------------------------------------------------------


@api.post("/resolution_center_cases/{id}/accept", response={200: CaseOut, **ERRORS}, tags=["resolution_center_cases"])
def accept(request, id: str, payload: OptionalMessageIn):
    """Accepts the case: refunds what is left of the payment, now."""

    def do(caller, case):
        _as_merchant(caller)
        if payload.attachments:
            raise ApplicationError("Accepting takes no files; send them with a reply first.")
        services.case_accept(case=case, actor=caller.user, note=payload.message or "")

    return _act(request, id, do)


@api.post("/resolution_center_cases/{id}/deny", response={200: CaseOut, **ERRORS}, tags=["resolution_center_cases"])
def deny(request, id: str, payload: DenyIn):
    def do(caller, case):
        _as_merchant(caller)
        services.case_deny(
            case=case,
            actor=caller.user,
            reason=payload.denial_reason,
            message=payload.message,
            files=_files(caller, payload.attachments),
        )

    return _act(request, id, do)


@api.post(
    "/resolution_center_cases/{id}/request_info", response={200: CaseOut, **ERRORS}, tags=["resolution_center_cases"]
)
def request_info(request, id: str, payload: OptionalMessageIn):
    def do(caller, case):
        _as_merchant(caller)
        services.case_request_info(
            case=case, actor=caller.user, message=payload.message or "", files=_files(caller, payload.attachments)
        )

    return _act(request, id, do)


@api.post("/resolution_center_cases/{id}/refund", response={200: CaseOut, **ERRORS}, tags=["our additions"])
def refund(request, id: str, payload: OptionalMessageIn):
    """Ours: refunds what is left of the payment in full, at any stage until the case is final."""

    def do(caller, case):
        _as_merchant(caller)
        services.case_refund_in_full(case=case, actor=caller.user, note=payload.message or "")

    return _act(request, id, do)


@api.post("/resolution_center_cases/{id}/offer", response={200: CaseOut, **ERRORS}, tags=["our additions"])
def offer(request, id: str, payload: OfferIn):
    """Ours: offers the customer a partial refund (at most 2 a case); the case then waits on them."""

    def do(caller, case):
        _as_merchant(caller)
        currency = case.payment.currency
        if payload.amount_cents is not None:
            amount_cents = payload.amount_cents
        elif payload.amount is not None:
            try:
                amount_cents = parse_money(str(payload.amount), currency)
            except (ValueError, ArithmeticError):
                raise ApplicationError(f"amount must be a positive number of {currency}, such as 12.50.") from None
        else:
            raise ApplicationError("Please give the offer's amount (amount, or amount_cents).")
        services.case_offer(case=case, actor=caller.user, amount_cents=amount_cents, message=payload.message)

    return _act(request, id, do)


@api.post("/resolution_center_cases/{id}/accept_offer", response={200: CaseOut, **ERRORS}, tags=["our additions"])
def accept_offer(request, id: str):
    """Ours: the customer accepts the pending offer; exactly its amount is refunded now."""

    def do(caller, case):
        _as_customer(caller)
        services.case_offer_accept(case=case, actor=caller.user)

    return _act(request, id, do)


@api.post("/resolution_center_cases/{id}/decline_offer", response={200: CaseOut, **ERRORS}, tags=["our additions"])
def decline_offer(request, id: str, payload: MessageIn):
    """Ours: the customer declines the pending offer with a message; the merchant answers again."""

    def do(caller, case):
        _as_customer(caller)
        services.case_offer_decline(case=case, actor=caller.user, message=payload.message)

    return _act(request, id, do)


# The files resource (uploads app): create -> upload -> complete, retrieve, list; the case calls
# above take its file ids as attachments (_files -> uploads.services.files_take).
api.add_router("/files", files_router)
