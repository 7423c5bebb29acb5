"""Who calls the API: company keys and customers' personal tokens (only a hash of each is stored),
and the answers kept for ``Idempotency-Key`` replays."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Scope(models.TextChoices):
    READ = "read", "Read only"
    WRITE = "write", "Read and write"


class Credential(models.Model):
    """What a key and a token share: a name, the shown prefix, the hash, the use and the rate window."""

    name = models.CharField(max_length=100)
    # The first characters of the secret, shown on the pages so a person can tell keys apart.
    prefix = models.CharField(max_length=20)
    # SHA-256 of the whole secret (the secrets are 256 random bits: a fast hash is enough).
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The per-credential rate limit's fixed window: when it started and the calls counted in it.
    rate_window_started_at = models.DateTimeField(null=True, blank=True)
    rate_window_calls = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiKey(Credential):
    """A company's key: made and revoked by its owners and admins; it acts as the member who made it
    (the timeline names them), for as long as they are a member of the company."""

    company = models.ForeignKey("payments.Company", on_delete=models.CASCADE, related_name="api_keys")
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta(Credential.Meta):
        constraints = [models.CheckConstraint(condition=Q(scope__in=["read", "write"]), name="apikey_scope_known")]
        indexes = [models.Index(fields=["company", "-created_at"], name="apikey_company_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class CustomerToken(Credential):
    """A customer's personal token: acts as that customer alone (open, reply, withdraw, appeal)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")

    class Meta(Credential.Meta):
        indexes = [models.Index(fields=["user", "-created_at"], name="customertoken_user_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class IdempotencyRecord(models.Model):
    """The answer to a write sent with an ``Idempotency-Key``: the same key and body within 24 hours
    gets this answer again without acting twice; the same key with another body is refused."""

    # Whose key it is: "key:<ApiKey id>" or "token:<CustomerToken id>" (keys are per credential).
    owner = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    # SHA-256 of the method, the path and the body.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key_unique")]
        indexes = [models.Index(fields=["owner", "created_at"], name="idempotency_owner_created")]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"
