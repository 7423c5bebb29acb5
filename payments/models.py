"""Companies, their members, payments and the money rows (refunds, balance credits).

Money rows are append-only ledgers: they are created by services and never edited or deleted.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Company(models.Model):
    name = models.CharField(max_length=200, unique=True)
    # Auto respond settings: a card/PayPal case below the threshold is refunded when opened.
    auto_refund_card_below_cents = models.PositiveBigIntegerField(default=0)
    auto_refund_paypal_below_cents = models.PositiveBigIntegerField(default=0)
    auto_refund_message = models.TextField(blank=True)
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
    # Denormalised running total of succeeded refunds, kept in step by payments.services only.
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


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    # A case refunds at most once: the constraint below and the deterministic key both hold it.
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="refunds", null=True, blank=True)
    amount_cents = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    idempotency_key = models.CharField(max_length=100, unique=True)
    processor_reference = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    initiated_by_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    initiated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(case__isnull=False), name="refund_one_per_case"),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Refund {self.idempotency_key}"


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
