"""What every page of the product shares: the one-time token that makes a second click on the same
form do nothing. (A refused action's 4xx status is resolution_center.exceptions.http_status_for.)"""

import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import FormSubmission

TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")


def _token(request) -> str | None:
    token = request.POST.get("submission_token", "")
    return token if TOKEN_RE.match(token) else None


def submission_claim(request) -> bool:
    """False when this exact rendered form was already acted on (a double click, a resent
    request): the caller then redirects without acting. The token is a row with a unique
    constraint, so of two requests racing with one token exactly one proceeds, whichever web
    process each reaches. Forms without a token always proceed; the services still refuse a
    second state change on their own."""
    token = _token(request)
    if token is None:
        return True
    try:
        with transaction.atomic():
            FormSubmission.objects.create(user=request.user, token=token, created_at=timezone.now())
    except IntegrityError:
        return False
    return True


def submission_release(request) -> None:
    """The action failed: the same form, corrected, may be sent again."""
    token = _token(request)
    if token is not None:
        FormSubmission.objects.filter(user=request.user, token=token).delete()
