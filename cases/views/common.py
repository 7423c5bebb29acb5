"""What every page of the product shares: turning a refused action into a 4xx page, and the
one-time token that makes a second click on the same form do nothing."""

import re

from django.core.cache import cache

from resolution_center.exceptions import (
    ApplicationError,
    ConcurrentUpdateError,
    InvalidTransitionError,
    NotAllowedError,
    NotEligibleError,
)

TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
TOKEN_SECONDS = 24 * 60 * 60


def status_for(error: ApplicationError) -> int:
    """The HTTP status a refused action answers with: never a 500 for something the user did."""
    if isinstance(error, NotAllowedError):
        return 403
    # The case (or payment) moved on since the page was drawn: a conflict with its current state.
    if isinstance(error, InvalidTransitionError | ConcurrentUpdateError | NotEligibleError):
        return 409
    return 400


def _token_key(request) -> str | None:
    token = request.POST.get("submission_token", "")
    if not TOKEN_RE.match(token):
        return None
    return f"submission:{request.user.pk}:{token}"


def submission_claim(request) -> bool:
    """False when this exact rendered form was already submitted (a double click, a resent
    request): the caller then redirects without acting. ``cache.add`` is atomic, so of two
    requests racing with one token exactly one proceeds. Forms without a token always proceed;
    the services still refuse a second state change on their own."""
    key = _token_key(request)
    if key is None:
        return True
    return cache.add(key, 1, TOKEN_SECONDS)


def submission_release(request) -> None:
    """The action failed: the same form, corrected, may be sent again."""
    key = _token_key(request)
    if key is not None:
        cache.delete(key)
