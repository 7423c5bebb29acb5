"""The one door money leaves through.

A processor's gateway implements ``RefundGateway`` and is named in ``settings.REFUND_GATEWAY``.
It is called after the refund row was committed as *requested*, outside any transaction or row
lock, with the refund's idempotency key: a retried call (after a timeout, a crash, a restart)
never refunds twice at the processor, and the processor's answer to the retry is the first one's.

Three answers are possible, and each is recorded differently (cases.services.settlement):

* ``RefundResult(succeeded=True, processor_reference=…)`` — the money moved;
* ``RefundResult(succeeded=False, failure_message=…)`` — the processor refused, in its words;
* ``RefundProcessorUnavailable`` raised — no answer (timeout, connection refused, 5xx): nobody
  knows yet whether the money moved, so the refund stays requested and is asked again later
  with the same key.
"""

import hashlib
import http.client
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    processor_reference: str = ""
    failure_message: str = ""


class RefundProcessorUnavailable(Exception):
    """The processor gave no answer; whether the refund happened is unknown until it is asked again."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RefundOrder:
    """What the processor is asked to do, in plain values (no model object, so a batch of them can
    be sent from worker threads)."""

    payment_id: int
    amount_cents: int
    currency: str
    idempotency_key: str


class RefundGateway:
    # How many refunds of one batch are sent to the processor at the same time.
    concurrency = 8

    def refund(self, order: RefundOrder) -> RefundResult:
        raise NotImplementedError

    def refund_many(self, orders: Sequence[RefundOrder]) -> list[RefundResult | RefundProcessorUnavailable]:
        """Each order's answer, in order; a processor that did not answer gives its exception.

        Sent concurrently: a batch of the sweep's refunds waits for the slowest call, not for
        the sum of them.
        """

        def one(order: RefundOrder) -> RefundResult | RefundProcessorUnavailable:
            try:
                return self.refund(order)
            except RefundProcessorUnavailable as unavailable:
                return unavailable

        if len(orders) <= 1:
            return [one(order) for order in orders]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(orders))) as pool:
            return list(pool.map(one, orders))


class DatabaseRefundGateway(RefundGateway):
    """The built-in gateway: the refund row in our database is the refund. The reference is derived
    from the idempotency key, so asking again answers the same."""

    def refund(self, order: RefundOrder) -> RefundResult:
        digest = hashlib.sha256(order.idempotency_key.encode()).hexdigest()[:24]
        return RefundResult(succeeded=True, processor_reference=f"db_{digest}")

    def refund_many(self, orders: Sequence[RefundOrder]) -> list[RefundResult | RefundProcessorUnavailable]:
        # Nothing leaves the process, so threads would only add their own cost.
        return [self.refund(order) for order in orders]


@cache
def _gateway_class(path: str) -> type[RefundGateway]:
    return import_string(path)


def get_refund_gateway() -> RefundGateway:
    return _gateway_class(settings.REFUND_GATEWAY)()


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would follow a 301/302 by turning the POST into a GET without its body: a refund must
    # never be sent anywhere but the configured address, so a redirect is answered as what it is
    # (a wrong REFUND_PROCESSOR_URL) instead of followed.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class HttpRefundGateway(RefundGateway):
    """An outside processor reached over HTTP, Stripe-style.

    Configure it with the environment (``resolution_center/settings/base.py`` reads it)::

        REFUND_GATEWAY=payments.gateways.HttpRefundGateway
        REFUND_PROCESSOR_URL=https://processor.example.com     # base address; refunds go to /v1/refunds
        REFUND_PROCESSOR_API_KEY=sk_live_…                     # sent as "Authorization: Bearer …"
        REFUND_PROCESSOR_TIMEOUT_SECONDS=10                    # longest wait for the processor

    One refund is ``POST {URL}/v1/refunds`` with the form body ``payment=…&amount=…&currency=…`` and
    the refund's idempotency key as the ``Idempotency-Key`` header, so asking again after a call
    that got no answer never refunds twice: the processor replays its first answer.

    How answers are read:

    * 2xx ``{"id": "re_…", "status": "succeeded"}`` — refunded, the id is the reference;
    * 402, or 2xx with ``"status": "failed"`` — the processor refused; its own words are the
      failure message (``error.message`` or ``failure_reason``);
    * 400 ``idempotency_error`` — the key was already used for a refund with other details;
      nothing was refunded under this request, and asking again would get the same answer;
    * any other 400 with a message (``"Charge … has already been refunded"``, ``"Amount exceeds …"``)
      — a definitive refusal of this request, recorded in the processor's words;
    * no answer in time, connection refused or reset, 401/403 (our credentials), 404 (wrong
      address), 409 (the same key still in flight), 429, 5xx, 2xx ``pending``, or a body that
      cannot be read — ``RefundProcessorUnavailable``: whether money moved is unknown or the fault
      is ours, so the refund stays requested and is asked again later with the same key. Nothing
      else is ever raised.
    """

    path = "/v1/refunds"
    # A refund answer is a few hundred bytes; a larger one is not a refund answer, and reading
    # stops there instead of filling memory with whatever a misconfigured address sends back.
    max_answer_bytes = 64 * 1024
    # Longest reference the refund row can hold (payments.models.Refund.processor_reference).
    max_reference_length = 100
    # A failure message is shown to people; a processor's page-long text is cut to this.
    max_message_length = 500

    def __init__(self):
        config = settings.REFUND_PROCESSOR
        self.base_url = (config.get("URL") or "").rstrip("/")
        self.api_key = config.get("API_KEY") or ""
        self.timeout_seconds = float(config.get("TIMEOUT_SECONDS") or 10)
        self._opener = urllib.request.build_opener(_RefuseRedirects)

    def refund(self, order: RefundOrder) -> RefundResult:
        try:
            status, body = self._post(order)
            return self._read_answer(order, status, body)
        except RefundProcessorUnavailable:
            raise
        except Exception as error:
            # The callers rely on exactly two outcomes (a result, or "no answer"). Anything
            # unforeseen here happened before we understood an answer, so whether the money moved
            # is unknown: "no answer" is the one safe reading — the refund is asked again with the
            # same key and never counted as refused or paid on a guess.
            logger.exception("Refund %s: unexpected error talking to the refund processor", order.idempotency_key)
            raise RefundProcessorUnavailable(
                f"unexpected error while talking to the refund processor ({type(error).__name__})"
            ) from error

    # ----- the call -----

    def _post(self, order: RefundOrder) -> tuple[int, bytes]:
        url = self.base_url + self.path
        if not self.base_url:
            raise RefundProcessorUnavailable("the refund processor's address (REFUND_PROCESSOR_URL) is not set")
        try:
            scheme = urlsplit(url).scheme
        except ValueError as error:
            raise RefundProcessorUnavailable("REFUND_PROCESSOR_URL is not a valid address") from error
        if scheme not in ("http", "https"):
            # urllib would also open file:// and ftp:// addresses; a refund goes over HTTP only.
            raise RefundProcessorUnavailable("REFUND_PROCESSOR_URL is not an http:// or https:// address")
        if not self.api_key:
            raise RefundProcessorUnavailable("the refund processor's key (REFUND_PROCESSOR_API_KEY) is not set")
        body = urlencode({"payment": order.payment_id, "amount": order.amount_cents, "currency": order.currency})
        request = urllib.request.Request(
            url,
            data=body.encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {self.api_key}",
                "Idempotency-Key": order.idempotency_key,
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        # The timeout bounds each wait (connecting, then each read of the answer), which is what
        # urllib offers; a processor that answers at all answers in one read of a few hundred bytes.
        timeout = self.timeout_seconds
        try:
            try:
                response = self._opener.open(request, timeout=timeout)
            except urllib.error.HTTPError as error_answer:
                # A 4xx/5xx is still an answer with a body worth reading (the processor's reason).
                response = error_answer
            with response:
                return response.status, response.read(self.max_answer_bytes + 1)
        except TimeoutError as error:
            raise RefundProcessorUnavailable(f"the refund processor did not answer within {timeout:g} s") from error
        except urllib.error.URLError as error:
            # Raised while connecting; the underlying reason says which way it failed.
            if isinstance(error.reason, TimeoutError):
                raise RefundProcessorUnavailable(
                    f"the refund processor could not be reached within {timeout:g} s"
                ) from error
            if isinstance(error.reason, ConnectionRefusedError):
                raise RefundProcessorUnavailable(
                    "the refund processor refused the connection (is it running at REFUND_PROCESSOR_URL?)"
                ) from error
            raise RefundProcessorUnavailable(f"the refund processor could not be reached ({error.reason})") from error
        except ConnectionError as error:
            # Reset or closed mid-answer: the processor may have refunded before the line dropped.
            raise RefundProcessorUnavailable("the refund processor closed the connection before answering") from error
        except http.client.HTTPException as error:
            raise RefundProcessorUnavailable("the refund processor's answer was not valid HTTP") from error
        except OSError as error:
            raise RefundProcessorUnavailable(f"the refund processor could not be reached ({error})") from error

    # ----- the answer -----

    def _read_answer(self, order: RefundOrder, status: int, body: bytes) -> RefundResult:
        answer = self._json(body)
        message = self._processor_message(answer)

        if 200 <= status < 300:
            if answer is None:
                raise RefundProcessorUnavailable(f"the refund processor's answer (HTTP {status}) could not be read")
            state = answer.get("status")
            reference = answer.get("id")
            if state == "succeeded":
                if isinstance(reference, str) and 0 < len(reference.strip()) <= self.max_reference_length:
                    return RefundResult(succeeded=True, processor_reference=reference.strip())
                # Paid, says the processor, but without a reference we can record: asking again
                # with the same key replays the answer, so nothing is lost by waiting.
                raise RefundProcessorUnavailable("the refund processor said succeeded but gave no usable refund id")
            if state == "failed":
                return self._refused(message or "The refund processor refused the refund without giving a reason.")
            if state in ("pending", "requires_action"):
                # Not refused, not done: the money may still move, so it is neither outcome yet.
                raise RefundProcessorUnavailable(f"the refund processor has not finished the refund yet ({state})")
            raise RefundProcessorUnavailable(f"the refund processor answered with an unknown status ({state!r})")

        if status == 402:
            return self._refused(message or "The refund processor refused the refund without giving a reason.")

        if status == 400:
            error = answer.get("error") if answer else None
            if isinstance(error, dict) and error.get("type") == "idempotency_error":
                # The key identifies this refund; the processor already holds it for other details
                # (amount, payment or currency). It refunded nothing under this request and will
                # answer the same every time, so retrying would never help: a refusal, explained.
                explanation = (
                    f"The refund reference {order.idempotency_key} was already used at the refund processor "
                    "for a refund with different details, so nothing was refunded under it."
                )
                return self._refused(f"{explanation} The processor said: {message}" if message else explanation)
            if message:
                # The processor examined the request and declined it for good (already refunded,
                # amount too large…); the same request would be declined again.
                return self._refused(message)
            raise RefundProcessorUnavailable("the refund processor rejected the request without saying why (HTTP 400)")

        if status in (401, 403):
            # Our configuration is wrong, not the customer's refund: it must be fixed and the
            # refund retried, never recorded as refused by the processor.
            raise RefundProcessorUnavailable(
                f"the refund processor rejected our credentials (HTTP {status}; check REFUND_PROCESSOR_API_KEY)"
            )
        if status == 404:
            # Most likely a wrong REFUND_PROCESSOR_URL: a configuration fault, retried once fixed.
            raise RefundProcessorUnavailable(
                f"the refund processor has no refunds endpoint at {self.path} (HTTP 404; check REFUND_PROCESSOR_URL)"
            )
        if status == 409:
            # The same key is still being worked on (an earlier call that timed out): its outcome
            # is what a later retry will be told.
            raise RefundProcessorUnavailable("the refund processor is still working on an earlier call for this refund")
        if status == 429:
            raise RefundProcessorUnavailable("the refund processor asked us to slow down (HTTP 429)")
        if status >= 500:
            raise RefundProcessorUnavailable(f"the refund processor had an error of its own (HTTP {status})")
        raise RefundProcessorUnavailable(f"the refund processor gave an unexpected answer (HTTP {status})")

    def _refused(self, message: str) -> RefundResult:
        return RefundResult(succeeded=False, failure_message=message[: self.max_message_length])

    def _json(self, body: bytes) -> dict | None:
        if len(body) > self.max_answer_bytes:
            return None
        try:
            answer = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        return answer if isinstance(answer, dict) else None

    @staticmethod
    def _processor_message(answer: dict | None) -> str:
        """The processor's own words for a refusal: ``error.message`` (Stripe's error shape), else
        ``failure_reason`` (a refund object that failed), made one readable line."""
        if not answer:
            return ""
        error = answer.get("error")
        candidates = [error.get("message") if isinstance(error, dict) else None, answer.get("failure_reason")]
        for candidate in candidates:
            if isinstance(candidate, str) and candidate.strip():
                words = " ".join(candidate.split())
                if "_" in words and " " not in words:
                    # A machine code such as "expired_or_canceled_card": spelt as words.
                    words = words.replace("_", " ").capitalize() + "."
                return words
        return ""
