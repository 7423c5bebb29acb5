"""Signing secrets in Whop's ``ws_…`` form and the Standard Webhooks headers, made exactly as
``whop_sdk.lib.verify_webhook.unwrap`` checks them.

Whop HMACs with the literal bytes of the secret it issued, prefix included, and ``unwrap`` hands
``standardwebhooks.Webhook`` the base64 of those bytes; we sign through the same library with the
same key, so what one computes the other accepts by construction (tests/webhooks verify it with the
SDK's own ``unwrap``).
"""

import base64
import secrets
from collections.abc import Iterable
from datetime import datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "ws_"


def secret_new() -> str:
    return SECRET_PREFIX + secrets.token_hex(32)


def _signer(secret: str) -> Webhook:
    return Webhook(base64.b64encode(secret.encode("utf-8")).decode("ascii"))


def signature_headers(*, msg_id: str, body: str, secrets_in_use: Iterable[str], at: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt. During a rotation both the new and the
    previous secret sign (space-separated signatures), so either verifies."""
    signatures = [_signer(secret).sign(msg_id=msg_id, timestamp=at, data=body) for secret in secrets_in_use]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
