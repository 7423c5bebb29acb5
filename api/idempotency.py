"""``Idempotency-Key`` on writes: the same key and body within 24 hours answers with the stored
response and does not act again; the same key with another body is refused (422).

The record is written first, in the transaction of the action itself: a second request with the
same key waits on the first one's row (PostgreSQL's unique index; SQLite serialises writers), then
replays its answer. A refused action rolls back with its record, so a retry with the same key
tries again (only answers that acted are kept)."""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from resolution_center.exceptions import ApplicationError

from .credentials import Caller
from .models import IdempotencyRecord

MAX_KEY = 255


class IdempotencyKeyReused(ApplicationError):
    """The key was used for another request (422)."""


def _fingerprint(request) -> str:
    try:
        body = json.dumps(json.loads(request.body or b"null"), sort_keys=True, separators=(",", ":"))
    except ValueError:
        body = request.body.decode(errors="replace")
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> tuple[int, dict]:
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different request; use a new key for each new request."
        )
    return record.status_code, record.response_body


def idempotent(request, caller: Caller, act: Callable[[], tuple[int, dict]]) -> tuple[int, dict]:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return act()
    if len(key) > MAX_KEY:
        raise ApplicationError(f"The Idempotency-Key is too long: at most {MAX_KEY} characters.")
    fingerprint = _fingerprint(request)
    now = timezone.now()
    kept_since = now - timedelta(hours=settings.API["IDEMPOTENCY_HOURS"])
    try:
        with transaction.atomic():
            # Past 24 hours a key may be used afresh: this credential's old answers go (so the table
            # holds at most a day of each credential's keyed writes).
            IdempotencyRecord.objects.filter(owner=caller.owner, created_at__lt=kept_since).delete()
            record = IdempotencyRecord.objects.filter(owner=caller.owner, key=key).first()
            if record is not None:
                request.idempotent_replay = True
                return _replay(record, fingerprint)
            record = IdempotencyRecord.objects.create(
                owner=caller.owner, key=key, fingerprint=fingerprint, status_code=0, response_body={}, created_at=now
            )
            status, body = act()
            IdempotencyRecord.objects.filter(pk=record.pk).update(status_code=status, response_body=body)
            return status, body
    except IntegrityError:
        # Another request with this key committed first: answer as it did.
        record = IdempotencyRecord.objects.filter(owner=caller.owner, key=key).first()
        if record is None or record.status_code == 0:
            raise
        request.idempotent_replay = True
        return _replay(record, fingerprint)
