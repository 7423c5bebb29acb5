"""Cases, their append-only timeline, messages and evidence files. The FSM graph lives here;
every transition is called only from cases.services."""

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from payments.models import ActorKind


class CaseStatus(models.TextChoices):
    """The labels are the product's one name for each state (pages, admin, refusals); the party who
    must act reads "Waiting for you" instead (cases.presentation.status_name)."""

    OPEN = "open", "Waiting for the merchant"
    INFO_REQUESTED = "info_requested", "Waiting for the customer"
    ESCALATED = "escalated", "With the reviewers"
    ACCEPTED = "accepted", "Refund decided"
    DENIED = "denied", "Refund denied"
    APPEALED = "appealed", "Appealed"
    FINAL = "final", "Closed"


class CaseReason(models.TextChoices):
    FORGOT_TO_CANCEL = "forgot_to_cancel", "Forgot to cancel"
    NOT_RECEIVED = "not_received", "Item not received"
    NOT_AS_DESCRIBED = "not_as_described", "Not as described"
    UNAUTHORIZED = "unauthorized", "Unauthorized payment"
    POOR_QUALITY = "poor_quality", "Poor quality"


class DenialReason(models.TextChoices):
    """Why the merchant denies (DOMAIN.md, "A denial says why"); the customer reads it at the top."""

    DELIVERED_AS_DESCRIBED = "delivered_as_described", "Delivered as described"
    USED_OR_CONSUMED = "used_or_consumed", "Used or consumed"
    OUTSIDE_POLICY = "outside_policy", "Outside the refund policy"
    REFUNDED_ELSEWHERE = "refunded_elsewhere", "Already refunded another way"
    OTHER = "other", "Other"


class CaseOutcome(models.TextChoices):
    REFUNDED = "refunded", "Refunded"
    CREDITED = "credited", "Credited to balance"
    DENIED = "denied", "Denied"
    WITHDRAWN = "withdrawn", "Withdrawn"


# States in which a party still waits on the other or on a reviewer (not closed).
ACTIVE_STATES = [s for s in CaseStatus.values if s != CaseStatus.FINAL]
# States where the merchant is expected to act: the "N open resolutions" button counts these.
AWAITING_MERCHANT_STATES = [CaseStatus.OPEN]
AWAITING_REVIEWER_STATES = [CaseStatus.ESCALATED, CaseStatus.APPEALED]
S = CaseStatus


class Case(ConcurrentTransitionMixin, models.Model):
    payment = models.OneToOneField("payments.Payment", on_delete=models.PROTECT, related_name="case")
    # Denormalised from the payment so that the merchant and customer lists need no join.
    # No single-column indexes on company and customer: case_company_* and case_customer_opened lead
    # with them and serve every lookup by either, and each index costs the deadline sweep's UPDATE.
    company = models.ForeignKey("payments.Company", on_delete=models.PROTECT, related_name="cases", db_index=False)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    reason = models.CharField(max_length=32, choices=CaseReason.choices)
    description = models.TextField()
    status = FSMField(default=CaseStatus.OPEN, choices=CaseStatus.choices, protected=True, db_index=False)
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    respond_by = models.DateTimeField(null=True, blank=True)
    reply_by = models.DateTimeField(null=True, blank=True)
    appeal_by = models.DateTimeField(null=True, blank=True)
    # The deadline that applies in the current state (one of the three above), for sorting and
    # for the sweeps' partial indexes; None when nobody races a clock.
    next_deadline_at = models.DateTimeField(null=True, blank=True)
    # The deadline a "24 hours left" reminder was sent for, so each reminder goes out once.
    reminder_sent_for = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    info_requests_count = models.PositiveSmallIntegerField(default=0)
    outcome = models.CharField(max_length=16, choices=CaseOutcome.choices, blank=True)
    decided_by_kind = models.CharField(max_length=16, choices=ActorKind.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    appealed = models.BooleanField(default=False)
    appealed_by_kind = models.CharField(max_length=16, choices=ActorKind.choices, blank=True)
    auto_refunded = models.BooleanField(default=False)
    # The merchant's reason for a denial (blank for denials by a reviewer or by the customer's silence).
    # db_default keeps the benchmark's bulk writers, which list their columns, valid.
    denial_reason = models.CharField(max_length=32, choices=DenialReason.choices, blank=True, db_default="")
    # Partial refund offers made so far (at most MAX_OFFERS) and whether one waits on the customer;
    # the offers themselves are CaseOffer rows. Kept on the case so the action policy needs no query.
    offers_count = models.PositiveSmallIntegerField(default=0, db_default=0)
    offer_pending = models.BooleanField(default=False, db_default=False)
    # The company's message at the time of the automatic refund (it may change later).
    auto_refund_message = models.TextField(blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        permissions = [("decide_case", "Can decide escalated and appealed cases")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=CaseStatus.values), name="case_status_known"),
            models.CheckConstraint(condition=Q(reason__in=CaseReason.values), name="case_reason_known"),
            models.CheckConstraint(condition=Q(info_requests_count__lte=3), name="case_info_requests_le_3"),
            models.CheckConstraint(condition=Q(offers_count__lte=2), name="case_offers_le_2"),
            # An offer waits on the customer, so only an info-requested case can hold a pending one.
            models.CheckConstraint(
                condition=Q(offer_pending=False) | Q(status=CaseStatus.INFO_REQUESTED), name="case_offer_pending_waits"
            ),
            models.CheckConstraint(
                condition=Q(denial_reason="") | Q(denial_reason__in=DenialReason.values),
                name="case_denial_reason_known",
            ),
            models.CheckConstraint(
                condition=Q(status=CaseStatus.FINAL, outcome__in=CaseOutcome.values)
                | (~Q(status=CaseStatus.FINAL) & Q(outcome="")),
                name="case_outcome_iff_final",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "status", "next_deadline_at", "id"], name="case_company_status_deadline"),
            models.Index(fields=["customer", "-opened_at"], name="case_customer_opened"),
            # The sweeps only ever look at cases whose clock runs.
            models.Index(
                fields=["status", "next_deadline_at"],
                condition=Q(next_deadline_at__isnull=False),
                name="case_running_deadline",
            ),
            # The Resolution Center's order (nearest deadline first, then id) within a company, for
            # every status at once: the list walks it from the keyset position instead of sorting
            # all of a busy company's cases on every page (page 1,000 costs what page 1 does).
            models.Index(fields=["company", "next_deadline_at", "id"], name="case_company_deadline"),
            # The admin queue's order across both reviewer states (oldest wait first), so a page
            # of it reads 50 index entries instead of sorting the whole queue. It serves the queue
            # of one state too (EXPLAIN: 50 appeals in 0.3 ms with 28,000 cases waiting), so there is
            # no (status, escalated_at) index for the sweep's escalations to maintain as well.
            models.Index(
                fields=["escalated_at", "id"],
                condition=Q(status__in=["escalated", "appealed"]),
                name="case_reviewer_queue_order",
            ),
            # Cases a company opened in a time range: the 30-day dispute rate and the date filters.
            models.Index(fields=["company", "opened_at"], name="case_company_opened"),
            # Which companies have cases awaiting a reviewer (the admin queue's company filter),
            # read from the index alone.
            models.Index(
                fields=["company"],
                condition=Q(status__in=["escalated", "appealed"]),
                name="case_reviewer_queue_company",
            ),
        ]

    def __str__(self) -> str:
        return f"Case #{self.pk}"

    @property
    def info_requests_left(self) -> int:
        return max(0, settings.RESOLUTION["MAX_INFO_REQUESTS"] - self.info_requests_count)

    # --- The FSM graph (DOMAIN.md). Transitions change fields only; services do the rest. ---

    @transition(field=status, source=S.OPEN, target=S.INFO_REQUESTED)
    def request_info(self):
        pass

    @transition(field=status, source=S.INFO_REQUESTED, target=S.OPEN)
    def reply(self):
        pass

    @transition(field=status, source=[S.OPEN, S.INFO_REQUESTED], target=S.FINAL)
    def accept(self):
        pass

    @transition(field=status, source=[S.OPEN, S.INFO_REQUESTED], target=S.DENIED)
    def deny(self):
        pass

    @transition(field=status, source=[S.OPEN, S.INFO_REQUESTED], target=S.FINAL)
    def withdraw(self):
        pass

    @transition(field=status, source=S.OPEN, target=S.FINAL)
    def auto_refund(self):
        pass

    @transition(field=status, source=S.OPEN, target=S.ESCALATED)
    def escalate(self):
        pass

    @transition(field=status, source=S.INFO_REQUESTED, target=S.DENIED)
    def expire_reply(self):
        pass

    @transition(field=status, source=S.ESCALATED, target=S.ACCEPTED)
    def decide_refund(self):
        pass

    @transition(field=status, source=S.ESCALATED, target=S.FINAL)
    def decide_credit(self):
        pass

    @transition(field=status, source=S.ESCALATED, target=S.DENIED)
    def decide_merchant_wins(self):
        pass

    @transition(field=status, source=[S.ACCEPTED, S.DENIED], target=S.APPEALED)
    def appeal(self):
        pass

    @transition(field=status, source=[S.ACCEPTED, S.DENIED], target=S.FINAL)
    def finalize(self):
        pass

    @transition(field=status, source=S.APPEALED, target=S.FINAL)
    def decide_appeal(self):
        pass

    # A partial refund offer waits on the customer (DOMAIN.md, "Settling faster").
    @transition(field=status, source=[S.OPEN, S.INFO_REQUESTED], target=S.INFO_REQUESTED)
    def offer(self):
        pass

    @transition(field=status, source=S.INFO_REQUESTED, target=S.FINAL)
    def accept_offer(self):
        pass

    @transition(field=status, source=S.INFO_REQUESTED, target=S.OPEN)
    def decline_offer(self):
        pass

    # The merchant gives up at any stage, also while reviewers hold the case or after a denial.
    @transition(field=status, source=ACTIVE_STATES, target=S.FINAL)
    def refund_in_full(self):
        pass


class CaseOffer(models.Model):
    """A partial refund the merchant offers (at most 2 a case). While pending, the case waits on the
    customer (info_requested, reply_by); accepting refunds ``amount_cents`` through the refund path
    once, declining reopens the case, and reply_by passing or a refund in full lapses it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the customer"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        LAPSED = "lapsed", "Lapsed"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="offers")
    amount_cents = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    message = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    made_at = models.DateTimeField()
    # The customer's answer (or the moment it lapsed), and the customer's words when declining.
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_message = models.TextField(blank=True)

    class Meta:
        ordering = ["made_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="caseoffer_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "accepted", "declined", "lapsed"]), name="caseoffer_status_known"
            ),
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="pending"), name="caseoffer_one_pending_per_case"
            ),
        ]

    def __str__(self) -> str:
        return f"Offer #{self.pk} on case #{self.case_id}"


class CasePolicySnapshot(models.Model):
    """The company's refund policy and terms as they were when the case was opened (DOMAIN.md,
    "Company policies"), for the reviewers; written once, only when the company had any."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="policy_snapshot")
    refund_policy_text = models.TextField(blank=True)
    refund_policy_url = models.URLField(max_length=500, blank=True)
    terms_text = models.TextField(blank=True)
    terms_url = models.URLField(max_length=500, blank=True)
    taken_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Policies of case #{self.case_id} as opened"


class CaseReadMark(models.Model):
    """When a person last opened a case's page: the lists mark a case whose timeline has something
    newer from someone else that the person may see (DOMAIN.md, "Messages reach people")."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="read_marks")
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="casereadmark_once_per_case_user")]

    def __str__(self) -> str:
        return f"{self.user} saw case #{self.case_id} at {self.seen_at}"


class Visibility(models.TextChoices):
    EVERYONE = "everyone", "Customer and merchant"
    CUSTOMER = "customer", "Customer only"
    MERCHANT = "merchant", "Merchant only"
    REVIEWERS = "reviewers", "Reviewers only"


class CaseEvent(models.Model):
    """Append-only timeline row: who did what, when, and who may see it."""

    class Action(models.TextChoices):
        OPENED = "opened", "Case opened"
        INFO_REQUESTED = "info_requested", "More information requested"
        REPLIED = "replied", "Customer replied"
        MESSAGE = "message", "Message"
        FILE = "file", "File attached"
        ACCEPTED = "accepted", "Accepted by the merchant"
        REFUNDED_IN_FULL = "refunded_in_full", "Refunded in full by the merchant"
        DENIED = "denied", "Denied"
        WITHDRAWN = "withdrawn", "Withdrawn by the customer"
        AUTO_REFUNDED = "auto_refunded", "Refunded automatically"
        ESCALATED = "escalated", "Escalated to the platform"
        REPLY_EXPIRED = "reply_expired", "Closed: no reply in time"
        DECIDED = "decided", "Reviewer decision"
        APPEALED = "appealed", "Appealed"
        APPEAL_WAIVED = "appeal_waived", "Appeal waived"
        FINALIZED = "finalized", "Decision became final"
        OFFER_MADE = "offer_made", "Partial refund offered"
        OFFER_ACCEPTED = "offer_accepted", "Offer accepted"
        OFFER_DECLINED = "offer_declined", "Offer declined"
        OFFER_LAPSED = "offer_lapsed", "Offer lapsed"
        REFUND_REQUESTED = "refund_requested", "Refund requested"
        REFUND_ISSUED = "refund_issued", "Refund sent"
        REFUND_FAILED = "refund_failed", "Refund delayed"
        CREDIT_GRANTED = "credit_granted", "Balance credited"
        NOTIFICATION = "notification", "Notification sent"
        REMINDER = "reminder", "Deadline reminder"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=32, choices=Action.choices)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.EVERYONE)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at", "id"], name="caseevent_case_created")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} on case #{self.case_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise RuntimeError("Timeline events are append-only and cannot be changed.")
        return super().save(*args, **kwargs)

    save.alters_data = True

    def delete(self, *args, **kwargs):
        raise RuntimeError("Timeline events are append-only and cannot be deleted.")

    delete.alters_data = True

    @property
    def is_state_change(self) -> bool:
        return self.from_state != self.to_state


class Message(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="messages")
    author_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    body = models.TextField()
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.EVERYONE)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="message_case_created")]

    def __str__(self) -> str:
        return f"Message #{self.pk} on case #{self.case_id}"


def attachment_upload_to(instance: "Attachment", filename: str) -> str:
    """A generated name: the customer's file name never reaches the file system."""
    suffix = PurePosixPath(filename).suffix.lower()[:10]
    return f"evidence/{instance.case_id}/{uuid.uuid4().hex}{suffix}"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="attachments", null=True, blank=True)
    file = models.FileField(upload_to=attachment_upload_to, max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class FormSubmission(models.Model):
    """The one-time token of a rendered form, recorded when the form is acted on, so the same
    form sent twice (a double click, a resent request) acts once. Kept in the database so it
    holds across every web process; see cases.views.common.submission_claim."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=32)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "token"], name="formsubmission_user_token_unique")]

    def __str__(self) -> str:
        return f"Form {self.token} by user #{self.user_id}"
