"""The API's request and response shapes (pydantic, through django-ninja): they make
/api/v1/openapi.json. The responses follow whop-sdk 2.6.0's models; our extras are typed too."""

from typing import Literal

from ninja import Field, Schema
from pydantic import ConfigDict

ApiStatus = Literal["awaiting_merchant", "awaiting_customer", "under_review", "closed"]
ApiReason = Literal[
    "product_not_received", "not_as_described", "fraudulent", "product_unacceptable", "subscription_canceled"
]
ApiOutcome = Literal["customer_won", "merchant_won", "withdrawn"]
ApiOrder = Literal["created_at", "response_due_at"]
ApiDirection = Literal["asc", "desc"]
ApiGroup = Literal["status", "reason", "outcome"]
DenialReasonIn = Literal["delivered_as_described", "used_or_consumed", "outside_policy", "refunded_elsewhere", "other"]


class Out(Schema):
    model_config = ConfigDict(extra="allow")


class AccountOut(Out):
    id: str = Field(description="Account (company) id, prefixed biz_.")
    title: str


class BuyerOut(Out):
    user_id: str | None
    member_id: str | None = None
    name: str | None
    username: str | None
    email: str | None


class PaymentOut(Out):
    id: str = Field(description="Payment id, prefixed pay_.")
    created_at: str
    payment_method_type: str | None
    card_brand: str | None = None
    card_last4: str | None = None
    amount: float = Field(description="Ours: what was paid, in whole units of the currency.")
    amount_cents: int = Field(description="Ours: what was paid, in minor units.")
    currency: str
    refunded_amount: float
    refunded_cents: int


class MoneyOut(Out):
    amount: str
    currency: str
    decimals: int
    display_decimals: int


class LineItemOut(Out):
    id: str | None
    label: str | None
    plan_id: str | None = None
    plan_title: str | None = None
    product_id: str | None
    product_title: str | None
    quantity: float
    sku: str | None = None
    subtotal: MoneyOut | None


class DeadlinesOut(Out):
    respond_by: str | None
    reply_by: str | None
    appeal_by: str | None


class AppealOut(Out):
    appealed: bool
    appealed_by: str | None
    appeal_by: str | None


class OfferOut(Out):
    amount: float
    amount_cents: int
    currency: str
    message: str
    made_at: str | None
    reply_by: str | None


class CaseOut(Out):
    """Whop's ResolutionCenterCase, then our extras (the SDK's models allow extras)."""

    id: str = Field(description="Case id, prefixed reso_.")
    status: ApiStatus = Field(description="Who the case waits on; `state` is our precise state.")
    reason: ApiReason
    outcome: ApiOutcome | None
    refund: Literal["none", "merchant", "platform"] | None
    amount: float = Field(description="The amount in question, in whole units of `currency`.")
    currency: str
    account: AccountOut
    buyer: BuyerOut
    payment: PaymentOut
    line_items: list[LineItemOut]
    plan_id: str | None = None
    product_id: str | None
    available_actions: list[str] = Field(
        description="What this credential may do now: accept, deny, request_info, reply, appeal, withdraw, "
        "and ours: refund, waive_appeal."
    )
    customer_appealed: bool
    escalated: bool
    response_due_at: str | None
    created_at: str
    updated_at: str
    object: Literal["resolution_center_case"]
    state: Literal["open", "info_requested", "escalated", "accepted", "denied", "appealed", "final"]
    reason_code: str
    outcome_code: str | None
    description: str
    company_id: str
    amount_cents: int
    refunded_amount: float
    refunded_cents: int
    waiting_on: Literal["merchant", "customer", "platform"] | None
    waiting_on_you: bool
    deadlines: DeadlinesOut
    information_requests_left: int
    appeal: AppealOut
    denial_reason: str | None
    offers_made: int
    pending_offer: OfferOut | None
    auto_refunded: bool
    escalated_at: str | None
    closed_at: str | None


class PageInfoOut(Out):
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


class CaseListOut(Out):
    data: list[CaseOut]
    page_info: PageInfoOut


class StatusCountsOut(Out):
    awaiting_merchant: int
    awaiting_customer: int
    under_review: int
    closed: int


class ReasonCountsOut(Out):
    fraudulent: int
    not_as_described: int
    product_not_received: int
    product_unacceptable: int
    subscription_canceled: int


class OutcomeCountsOut(Out):
    customer_won: int
    merchant_won: int
    withdrawn: int


class SummaryGroupsOut(Out):
    status: StatusCountsOut | None = None
    reason: ReasonCountsOut | None = None
    outcome: OutcomeCountsOut | None = None


class SummaryOut(Out):
    total: int
    groups: SummaryGroupsOut


class AttachmentOut(Out):
    id: str
    filename: str | None
    content_type: str | None
    url: str | None
    size_bytes: int | None = None


class EventOut(Out):
    id: str = Field(description="Event id, prefixed revt_.")
    action: str
    reporter_type: Literal["merchant", "customer", "platform", "system"]
    details: str | None
    attachments: list[AttachmentOut]
    viewable_by_customer: bool
    viewable_by_merchant: bool
    created_at: str
    kind: str = Field(description="Ours: the precise timeline action.")
    from_state: str | None
    to_state: str | None


class EventListOut(Out):
    data: list[EventOut]
    page_info: PageInfoOut


class ErrorBody(Schema):
    code: str
    message: str


class ErrorOut(Schema):
    error: ErrorBody


# --- requests --------------------------------------------------------------------------------------


class AttachmentRef(Schema):
    """A file uploaded through the files resource: its id (``file_…``) or its direct upload id."""

    id: str | None = None
    direct_upload_id: str | None = None


class CreateIn(Schema):
    receipt_id: str = Field(description="The payment to open the case against (pay_ id).")
    reason: ApiReason
    message: str
    attachments: list[AttachmentRef] = []


class MessageIn(Schema):
    message: str
    attachments: list[AttachmentRef] = []


class OptionalMessageIn(Schema):
    message: str | None = None
    attachments: list[AttachmentRef] = []


class DenyIn(MessageIn):
    denial_reason: DenialReasonIn = Field(
        "other", description="Ours: why the merchant denies (the customer reads it first). Default: other."
    )


class OfferIn(Schema):
    amount: float | None = Field(None, description="The partial refund, in whole units of the payment's currency.")
    amount_cents: int | None = Field(None, description="Or the same in minor units.")
    message: str
