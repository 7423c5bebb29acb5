"""The HTTP refund gateway against a real processor on a local port (tests.support.refund_processor):
money moves once per idempotency key, a refusal carries the processor's words, and every way of
getting no answer is "unavailable, ask again with the same key" — never a refusal, never a crash."""

import socket
import threading
import time

import pytest

from payments.gateways import (
    HttpRefundGateway,
    RefundOrder,
    RefundProcessorUnavailable,
    RefundResult,
    get_refund_gateway,
)
from tests.support.refund_processor import RefundProcessorServer

API_KEY = "sk_test_gateway"


@pytest.fixture
def processor():
    with RefundProcessorServer(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def configure(settings, processor):
    def configure(*, url=None, api_key=API_KEY, timeout=2.0):
        settings.REFUND_GATEWAY = "payments.gateways.HttpRefundGateway"
        settings.REFUND_PROCESSOR = {
            "URL": processor.url if url is None else url,
            "API_KEY": api_key,
            "TIMEOUT_SECONDS": timeout,
        }
        return get_refund_gateway()

    return configure


@pytest.fixture
def gateway(configure):
    return configure()


def order(key="refund-1", amount=2500, payment=41, currency="USD"):
    return RefundOrder(payment_id=payment, amount_cents=amount, currency=currency, idempotency_key=key)


def wait_for(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_the_setting_selects_the_http_gateway(gateway):
    assert isinstance(gateway, HttpRefundGateway)


def test_a_refund_succeeds_with_the_processors_id_as_reference(gateway, processor):
    result = gateway.refund(order(amount=2500, payment=41))

    made = processor.refunds["refund-1"]
    assert result == RefundResult(succeeded=True, processor_reference=made["id"])
    assert made["id"].startswith("re_")
    assert (made["payment"], made["amount"], made["currency"]) == ("41", 2500, "USD")


def test_the_same_key_twice_refunds_once_and_answers_the_same_reference(gateway, processor):
    first = gateway.refund(order())
    second = gateway.refund(order())

    assert first.succeeded and second == first
    assert len(processor.refunds) == 1
    assert processor.requests_received == 2


def test_the_same_key_for_another_amount_is_refused_and_nothing_more_is_refunded(gateway, processor):
    first = gateway.refund(order(amount=2500))

    reused = gateway.refund(order(amount=9900))

    assert not reused.succeeded
    assert reused.processor_reference == ""
    assert "refund-1" in reused.failure_message
    assert "already used" in reused.failure_message
    assert "nothing was refunded" in reused.failure_message
    assert list(processor.refunds.values()) == [
        {"id": first.processor_reference, "payment": "41", "amount": 2500, "currency": "USD"}
    ]


def test_a_refusal_carries_the_processors_message_and_stays_the_answer_for_that_key(gateway, processor):
    processor.refuse_next(1, "The card account is closed.")

    refused = gateway.refund(order(key="refund-closed"))
    asked_again = gateway.refund(order(key="refund-closed"))
    other = gateway.refund(order(key="refund-other"))

    assert refused == RefundResult(succeeded=False, failure_message="The card account is closed.")
    assert asked_again == refused
    assert other.succeeded
    assert list(processor.refunds) == ["refund-other"]


def test_an_answer_slower_than_the_timeout_is_unavailable_and_the_retry_gets_the_one_refund(configure, processor):
    gateway = configure(timeout=0.3)
    processor.delay_seconds = 1.0

    with pytest.raises(RefundProcessorUnavailable) as no_answer:
        gateway.refund(order(key="refund-slow"))
    assert "did not answer within 0.3 s" in no_answer.value.reason

    # The processor finished the refund even though nobody was listening any more.
    assert wait_for(lambda: "refund-slow" in processor.refunds)
    processor.delay_seconds = 0
    retried = gateway.refund(order(key="refund-slow"))

    assert retried == RefundResult(succeeded=True, processor_reference=processor.refunds["refund-slow"]["id"])
    assert len(processor.refunds) == 1


def test_a_retry_while_the_first_call_is_still_being_worked_on_is_unavailable(configure, processor):
    gateway = configure(timeout=0.2)
    processor.delay_seconds = 1.0
    with pytest.raises(RefundProcessorUnavailable):
        gateway.refund(order(key="refund-busy"))

    with pytest.raises(RefundProcessorUnavailable) as busy:
        gateway.refund(order(key="refund-busy"))

    assert "still working" in busy.value.reason
    assert wait_for(lambda: "refund-busy" in processor.refunds)
    assert len(processor.refunds) == 1


def test_a_stopped_processor_is_unavailable(gateway, processor):
    processor.stop()

    with pytest.raises(RefundProcessorUnavailable) as refused:
        gateway.refund(order())

    assert "refused the connection" in refused.value.reason


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_a_processor_error_or_throttle_is_unavailable_and_the_next_try_refunds(gateway, processor, status):
    processor.fail_with_status(status, 1)

    with pytest.raises(RefundProcessorUnavailable) as failing:
        gateway.refund(order())
    again = gateway.refund(order())

    assert f"HTTP {status}" in failing.value.reason
    assert again.succeeded
    assert len(processor.refunds) == 1


def test_a_wrong_api_key_is_unavailable_not_a_refusal_of_the_customers_refund(configure, processor):
    gateway = configure(api_key="sk_test_wrong")

    with pytest.raises(RefundProcessorUnavailable) as rejected:
        gateway.refund(order())

    assert "rejected our credentials" in rejected.value.reason
    assert "REFUND_PROCESSOR_API_KEY" in rejected.value.reason
    assert "sk_test_wrong" not in rejected.value.reason
    assert processor.refunds == {}


@pytest.mark.parametrize(
    "url, words",
    [("", "REFUND_PROCESSOR_URL"), ("ftp://127.0.0.1", "http"), ("http://[::1", "not a valid address")],
    ids=["unset", "not-http", "malformed"],
)
def test_a_misconfigured_address_is_unavailable(configure, processor, url, words):
    gateway = configure(url=url)

    with pytest.raises(RefundProcessorUnavailable) as misconfigured:
        gateway.refund(order())

    assert words in misconfigured.value.reason
    assert processor.refunds == {}


def test_an_address_without_the_refunds_endpoint_is_unavailable(configure, processor):
    gateway = configure(url=processor.url + "/elsewhere")

    with pytest.raises(RefundProcessorUnavailable) as not_found:
        gateway.refund(order())

    assert "HTTP 404" in not_found.value.reason


@pytest.mark.parametrize(
    "raw_answer, words",
    [
        (None, "closed the connection"),
        (b"this is not HTTP\r\n\r\n", "not valid HTTP"),
        (b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>Welcome</html>", "could not be read"),
        (b'HTTP/1.0 200 OK\r\n\r\n{"id": "re_1", "status": "pending"}', "not finished"),
    ],
    ids=["closed-without-answer", "garbage", "html", "pending"],
)
def test_an_answer_that_cannot_be_read_is_unavailable(configure, raw_answer, words):
    """Something other than the processor on that port (or a processor answering oddly)."""
    listener = socket.create_server(("127.0.0.1", 0))

    def answer_once():
        connection, _ = listener.accept()
        with connection:
            # The whole request is read first: closing on unread bytes would reset the connection.
            request = b""
            while b"\r\n\r\n" not in request:
                request += connection.recv(65536)
            head, _, body = request.partition(b"\r\n\r\n")
            length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))[15:])
            while len(body) < length:
                body += connection.recv(65536)
            if raw_answer is not None:
                connection.sendall(raw_answer)

    responder = threading.Thread(target=answer_once, daemon=True)
    responder.start()
    gateway = configure(url=f"http://127.0.0.1:{listener.getsockname()[1]}")
    try:
        with pytest.raises(RefundProcessorUnavailable) as unreadable:
            gateway.refund(order())
    finally:
        responder.join(5)
        listener.close()

    assert words in unreadable.value.reason


def test_refund_many_sends_concurrently_and_answers_in_order(gateway, processor):
    processor.delay_seconds = 0.3
    orders = [order(key=f"batch-{number}", amount=100 + number, payment=number) for number in range(20)]

    started = time.monotonic()
    results = gateway.refund_many(orders)
    elapsed = time.monotonic() - started

    # One after another would take 20 x 0.3 s = 6 s.
    assert elapsed < 3
    refunds = processor.refunds
    assert len(refunds) == 20
    assert [result.processor_reference for result in results] == [refunds[o.idempotency_key]["id"] for o in orders]
    assert [refunds[o.idempotency_key]["amount"] for o in orders] == [100 + number for number in range(20)]


def test_refund_many_gives_the_unavailable_exception_in_its_place(gateway, processor):
    processor.fail_with_status(503, 1)

    first, second = gateway.refund_many([order(key="one"), order(key="two")])

    assert [type(first), type(second)].count(RefundProcessorUnavailable) == 1
    assert [type(first), type(second)].count(RefundResult) == 1
    assert len(processor.refunds) == 1


def test_a_held_answer_comes_after_the_refund_is_recorded(gateway, processor):
    """The window a crash test needs: the processor has refunded, the caller has no answer yet."""
    processor.hold_after_recording()
    answers = []
    caller = threading.Thread(target=lambda: answers.append(gateway.refund(order(key="refund-held"))))
    caller.start()

    assert processor.recorded.wait(5)
    assert "refund-held" in processor.refunds
    assert answers == []

    processor.release()
    caller.join(5)
    assert answers == [RefundResult(succeeded=True, processor_reference=processor.refunds["refund-held"]["id"])]
