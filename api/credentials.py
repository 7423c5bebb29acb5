"""Making, revoking and checking API keys and personal tokens, and the per-credential rate limit.

A secret is shown once, when made; only its SHA-256 is stored. A company key acts as the member
who made it (so the one action policy and the timeline see a person), as long as that person is
still a member of the company; a personal token acts as its customer."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from payments.models import Company, Membership
from resolution_center.exceptions import ApplicationError, NotAllowedError, RateLimitedError

from .models import ApiKey, CustomerToken, Scope

KEY_PREFIX = "rc_key_"
TOKEN_PREFIX = "rc_pt_"
SHOWN_CHARS = 12
RATE_WINDOW = timedelta(minutes=1)
MAX_NAME = 100


class AuthenticationFailed(ApplicationError):
    """No credential, an unknown one, or a revoked one (401)."""


@dataclass(frozen=True)
class Caller:
    """Who an API request acts as: the person, and either the company key or the personal token."""

    user: object
    api_key: ApiKey | None = None
    token: CustomerToken | None = None
    # The companies the person is a member of (read once, so a page of cases asks the policy
    # without one membership query per case).
    member_of: frozenset = frozenset()

    @property
    def party(self) -> str:
        return "merchant" if self.api_key is not None else "customer"

    @property
    def can_write(self) -> bool:
        return self.api_key is None or self.api_key.scope == Scope.WRITE

    @property
    def company_id(self) -> int | None:
        return self.api_key.company_id if self.api_key is not None else None

    @property
    def owner(self) -> str:
        """The name idempotency keys are kept under (each credential has its own)."""
        return f"key:{self.api_key.pk}" if self.api_key is not None else f"token:{self.token.pk}"


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def _name_clean(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ApplicationError("Please give it a name, so you can tell it from the others later.")
    if len(name) > MAX_NAME:
        raise ApplicationError(f"The name is too long: at most {MAX_NAME} characters.")
    return name


def _require_manager(*, company: Company, actor) -> None:
    membership = Membership.objects.filter(company=company, user=actor).first()
    if membership is None or not membership.can_manage_company:
        raise NotAllowedError(f"Only the owners and admins of {company.name} can manage its API keys.")


@transaction.atomic
def api_key_create(
    *, company: Company, actor, name: str, scope: str, now: datetime | None = None
) -> tuple[ApiKey, str]:
    """Make a key for ``company``; returns the row and the secret (shown once, never stored)."""
    _require_manager(company=company, actor=actor)
    if scope not in Scope.values:
        raise ApplicationError("Please choose the key's scope: read only, or read and write.")
    secret = _secret(KEY_PREFIX)
    key = ApiKey.objects.create(
        company=company,
        name=_name_clean(name),
        scope=scope,
        prefix=secret[:SHOWN_CHARS],
        secret_hash=secret_hash(secret),
        created_by=actor,
        created_at=now or timezone.now(),
    )
    return key, secret


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor, now: datetime | None = None) -> ApiKey:
    _require_manager(company=key.company, actor=actor)
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now or timezone.now(), revoked_by=actor)
    key.refresh_from_db()
    return key


@transaction.atomic
def customer_token_create(*, user, name: str, now: datetime | None = None) -> tuple[CustomerToken, str]:
    secret = _secret(TOKEN_PREFIX)
    token = CustomerToken.objects.create(
        user=user,
        name=_name_clean(name),
        prefix=secret[:SHOWN_CHARS],
        secret_hash=secret_hash(secret),
        created_at=now or timezone.now(),
    )
    return token, secret


@transaction.atomic
def customer_token_revoke(*, token: CustomerToken, actor, now: datetime | None = None) -> CustomerToken:
    if token.user_id != actor.pk:
        raise NotAllowedError("Only the person who made this token can revoke it.")
    CustomerToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now or timezone.now())
    token.refresh_from_db()
    return token


def caller_authenticate(secret: str | None, *, now: datetime | None = None) -> Caller:
    """The caller a bearer secret names, after the rate limit; AuthenticationFailed or
    RateLimitedError otherwise."""
    now = now or timezone.now()
    if not secret:
        raise AuthenticationFailed("Send your API key as 'Authorization: Bearer <key>'.")
    digest = secret_hash(secret)
    if secret.startswith(KEY_PREFIX):
        key = ApiKey.objects.select_related("company", "created_by").filter(secret_hash=digest).first()
        if key is None or key.revoked_at is not None:
            raise AuthenticationFailed("This API key is not valid: it was revoked, or never existed.")
        user = key.created_by
        if not user.is_active or not Membership.objects.filter(company_id=key.company_id, user=user).exists():
            raise AuthenticationFailed(
                f"This API key's maker is no longer a member of {key.company.name}; please make a new key."
            )
        _rate_count(ApiKey, key, now)
        # A key reads only its company's cases, and its maker was just found to be a member.
        return Caller(user=user, api_key=key, member_of=frozenset({key.company_id}))
    if secret.startswith(TOKEN_PREFIX):
        token = CustomerToken.objects.select_related("user").filter(secret_hash=digest).first()
        if token is None or token.revoked_at is not None or not token.user.is_active:
            raise AuthenticationFailed("This personal token is not valid: it was revoked, or never existed.")
        _rate_count(CustomerToken, token, now)
        member_of = frozenset(Membership.objects.filter(user=token.user).values_list("company_id", flat=True))
        return Caller(user=token.user, token=token, member_of=member_of)
    raise AuthenticationFailed("This is not an API key or a personal token of this Resolution Center.")


def _rate_count(model, row, now: datetime) -> None:
    """One fixed window a minute per credential, counted on its row (so it holds across every web
    process); the same write records the last use."""
    limit = settings.API["RATE_LIMIT_PER_MINUTE"]
    started = row.rate_window_started_at
    if started is None or now - started >= RATE_WINDOW:
        model.objects.filter(pk=row.pk).update(rate_window_started_at=now, rate_window_calls=1, last_used_at=now)
        return
    if row.rate_window_calls >= limit:
        retry_after = max(1, ceil((started + RATE_WINDOW - now).total_seconds()))
        raise RateLimitedError(
            f"This credential made {limit} calls in the last minute, the most allowed. "
            f"Please wait {retry_after} second{'s' if retry_after != 1 else ''}.",
            extra={"retry_after": retry_after},
        )
    model.objects.filter(pk=row.pk).update(rate_window_calls=F("rate_window_calls") + 1, last_used_at=now)
