"""Companies, their members, payments and the money rows (refunds, balance credits).

Money rows are append-only ledgers: they are created by services and never edited or deleted.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Company(models.Model):
    name = models.CharField(max_length=200, unique=True)
    # Auto respond settings: a card/PayPal case below the threshold is refunded when opened.
    auto_refund_card_below_cents = models.PositiveBigIntegerField(default=0)
    auto_refund_paypal_below_cents = models.PositiveBigIntegerField(default=0)
    auto_refund_message = models.TextField(blank=True)
    # The company's refund policy and terms (text and/or a link), shown on the claim form; each case
    # keeps a snapshot of them as they were when it was opened (cases.CasePolicySnapshot).
    refund_policy_text = models.TextField(blank=True, db_default="")
    refund_policy_url = models.URLField(max_length=500, blank=True, db_default="")
    terms_text = models.TextField(blank=True, db_default="")
    terms_url = models.URLField(max_length=500, blank=True, db_default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "companies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        SUPPORT = "support", "Support"

    # The one role rule: owners and admins manage the company's settings; support members answer cases.
    MANAGING_ROLES = (Role.OWNER, Role.ADMIN)

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.SUPPORT)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "user"], name="membership_unique_user_company")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) at {self.company}"

    @property
    def can_manage_company(self) -> bool:
        return self.role in self.MANAGING_ROLES


class Product(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="products")
    name = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.name


class PaymentMethod(models.TextChoices):
    CARD = "card", "Card"
    PAYPAL = "paypal", "PayPal"
    CRYPTO = "crypto", "Crypto (Coinbase Commerce)"
    SPLITIT = "splitit", "Splitit"
    SEZZLE = "sezzle", "Sezzle"
    KLARNA = "klarna", "Klarna"
    AFTERPAY = "afterpay", "Afterpay"
    ZIP = "zip", "Zip"


FINANCING_METHODS = frozenset(
    {PaymentMethod.SPLITIT, PaymentMethod.SEZZLE, PaymentMethod.KLARNA, PaymentMethod.AFTERPAY, PaymentMethod.ZIP}
)


class Payment(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="payments")
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="payments")
    amount_cents = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3, help_text="ISO 4217 code, e.g. USD")
    method = models.CharField(max_length=16, choices=PaymentMethod.choices)
    paid_at = models.DateTimeField()
    # Succeeded refunds plus those requested and not yet succeeded (the money they reserve), kept in
    # step by payments.services only: with the check below, refunds can never exceed the payment.
    refunded_cents = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-paid_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-paid_at"], name="payment_customer_paid"),
            models.Index(fields=["company", "-paid_at"], name="payment_company_paid"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(refunded_cents__lte=F("amount_cents")), name="payment_refund_le_amount"),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="payment_currency_iso"),
        ]

    def __str__(self) -> str:
        return f"Payment #{self.pk}"

    @property
    def refundable_cents(self) -> int:
        return self.amount_cents - self.refunded_cents

    @property
    def is_fully_refunded(self) -> bool:
        return self.refunded_cents >= self.amount_cents

    @property
    def is_financing(self) -> bool:
        return self.method in FINANCING_METHODS


class ActorKind(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    MERCHANT = "merchant", "Merchant"
    REVIEWER = "reviewer", "Reviewer"
    SYSTEM = "system", "System"


# A refund not sent after one try, or after this long, is "delayed" to the customer and needs a
# reviewer's eye (admin: "Refunds needing attention").
REFUND_DELAYED_AFTER = timedelta(minutes=15)


class Refund(models.Model):
    """One refund of (part of) a payment, recorded before the processor is asked.

    The row is written as *requested* in the same transaction as the case's state change; the
    processor is called after commit, outside any lock, with ``idempotency_key``; its answer makes
    the row *succeeded* (with the processor's reference) or *failed* (with its reason). A failed or
    unanswered refund is asked again with the same key at ``next_attempt_at`` (backoff, see
    payments.services.REFUND_RETRY_DELAYS) until it succeeds or the attempts run out, when it waits
    for a reviewer (admin: "Refunds needing attention").
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    # A case refunds at most once: the constraint below and the deterministic key both hold it.
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="refunds", null=True, blank=True)
    amount_cents = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    idempotency_key = models.CharField(max_length=100, unique=True)
    processor_reference = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    initiated_by_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    initiated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    # Calls made to the processor so far (a call cut off by a crash counts too).
    attempts = models.PositiveIntegerField(default=0)
    # When the processor is asked next; while a worker is asking, the end of its lease (a worker
    # that dies mid-call leaves the refund due again once it passes). Empty once succeeded, or once
    # the automatic attempts ran out and a reviewer must retry.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Which worker's call this is: only the holder of the current claim records a refusal or a
    # missing answer (any worker may record a success: the processor's answer is the same for all).
    claim_token = models.CharField(max_length=32, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # The processor's reason for the last refusal, or why it could not be asked; kept after success.
    failure_message = models.TextField(blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    # Bumped by each refusal: the next attempt sends the processor a key it has not answered yet
    # (``processor_key``), while ``idempotency_key`` stays this refund's name for our callers.
    key_generation = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(case__isnull=False), name="refund_one_per_case"),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | ~Q(processor_reference=""), name="refund_succeeded_has_reference"
            ),
        ]
        indexes = [
            # The retry task's "which refunds are due": only unsettled rows are in it.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(next_attempt_at__isnull=False),
                name="refund_due",
            ),
        ]

    def __str__(self) -> str:
        return f"Refund {self.idempotency_key}"

    @staticmethod
    def processor_key_for(idempotency_key: str, key_generation: int) -> str:
        """The key sent to the processor: ours, then ``-retry1``, ``-retry2``… after each refusal."""
        return idempotency_key if not key_generation else f"{idempotency_key}-retry{key_generation}"

    @property
    def processor_key(self) -> str:
        return self.processor_key_for(self.idempotency_key, self.key_generation)

    class Progress(models.TextChoices):
        """Where the refund is, as the people waiting for it see it."""

        SENT = "sent", "Sent"
        ON_ITS_WAY = "on_its_way", "On its way"
        DELAYED = "delayed", "Delayed"

    def progress(self, now: datetime) -> str:
        if self.status == self.Status.SUCCEEDED:
            return self.Progress.SENT
        if self.status == self.Status.FAILED or self.attempts >= 2 or now - self.created_at >= REFUND_DELAYED_AFTER:
            return self.Progress.DELAYED
        return self.Progress.ON_ITS_WAY

    @property
    def waits_for_a_reviewer(self) -> bool:
        """The automatic attempts ran out: only a reviewer's retry sends it again."""
        return self.status != self.Status.SUCCEEDED and self.next_attempt_at is None


class BalanceCredit(models.Model):
    """A credit to the customer's platform balance: the platform pays, the merchant does not."""

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="balance_credits")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="balance_credits", null=True)
    amount_cents = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    idempotency_key = models.CharField(max_length=100, unique=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(case__isnull=False), name="credit_one_per_case"),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="credit_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Credit {self.idempotency_key}"
