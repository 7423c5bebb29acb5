"""The one door money leaves through.

A processor's gateway implements ``RefundGateway`` and is named in ``settings.REFUND_GATEWAY``.
The idempotency key is passed to the processor, so a retried call never refunds twice there.
"""

import hashlib
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    processor_reference: str
    failure_message: str = ""


class RefundGateway:
    def refund(self, *, payment, amount_cents: int, currency: str, idempotency_key: str) -> RefundResult:
        raise NotImplementedError


class DatabaseRefundGateway(RefundGateway):
    """The built-in gateway: the refund row in our database is the refund."""

    def refund(self, *, payment, amount_cents: int, currency: str, idempotency_key: str) -> RefundResult:
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        return RefundResult(succeeded=True, processor_reference=f"db_{digest}")


@cache
def _gateway_class(path: str) -> type[RefundGateway]:
    return import_string(path)


def get_refund_gateway() -> RefundGateway:
    return _gateway_class(settings.REFUND_GATEWAY)()
