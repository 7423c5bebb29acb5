"""A small, real refund processor over HTTP for the tests, behaving like Stripe's refunds endpoint.

``POST /v1/refunds`` with ``Authorization: Bearer <key>``, an ``Idempotency-Key`` header and the
form body ``payment=…&amount=…&currency=…``:

* 200 ``{"id": "re_…", "object": "refund", "status": "succeeded", …}`` — refunded;
* 401 — wrong or missing key (nothing is done);
* 402 ``{"error": {"type": "card_error", "message": …}}`` — refused (see ``refuse_next``);
* 400 ``{"error": {"type": "idempotency_error", …}}`` — the key was used before with other
  parameters; nothing is refunded;
* 400 ``invalid_request_error`` — a parameter is missing or not a positive whole amount;
* 409 ``idempotency_error`` — a request with the same key is still being worked on;
* anything set with ``fail_with_status``.

Idempotency as Stripe has it: once a request with a key has been worked on, its answer — a refund
*or a refusal* — is stored, and the same key with the same parameters gets that stored answer again
without anything being done twice (Stripe saves the result of every request that started executing,
declines included). Answers that come before any work (401, 400 validation, 409, injected
``fail_with_status`` errors) are not stored, so the same key asked again later is worked on afresh.

In the test process (the form that matters)::

    with RefundProcessorServer(api_key="sk_test_x") as processor:
        settings.REFUND_PROCESSOR = {"URL": processor.url, "API_KEY": "sk_test_x", "TIMEOUT_SECONDS": 2}
        ...
        assert len(processor.refunds) == 1

As its own process (prints ``listening on http://127.0.0.1:PORT`` once ready; with ``--state-file``
it rewrites that file as JSON ``{"refunds": …, "requests_received": …}`` after every request)::

    python -m tests.support.refund_processor --port 0 --api-key sk_test_x --state-file /tmp/state.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

DEFAULT_API_KEY = "sk_test_refund_processor"
DEFAULT_REFUSAL = "Your card was declined."


class _Server(ThreadingHTTPServer):
    # A batch of refunds arrives as several connections at once; the default backlog of 5 is small.
    request_queue_size = 64
    # A handler still sleeping or held when the test ends must not keep the process alive.
    daemon_threads = True


class RefundProcessorServer:
    """The processor, served from a background thread of the calling process.

    Read-outs (each a snapshot, safe from any thread):
      ``refunds`` — idempotency key → ``{"id", "payment", "amount", "currency"}`` of every refund
      actually made (money moved; refusals are not in it);
      ``requests_received`` — every HTTP request that reached the server, whatever its answer.

    Controls (safe to set from any thread, at any time; they apply to requests arriving after):
      ``delay_seconds`` — how long working out a new refund takes, before it is recorded and
      answered (a caller with a shorter timeout gets no answer, yet the refund is made);
      ``refuse_next(n, message)`` — the next ``n`` new keys are refused with 402 ``card_error``
      and ``message`` (stored for the key, like any worked-on answer);
      ``fail_with_status(code, n)`` — the next ``n`` authorised requests get ``code`` (500, 503,
      429…) before any work is done; nothing is recorded or stored;
      ``hold_after_recording()`` — from now on a new refund is recorded, ``recorded`` is set, and
      the answer is held back until ``release()``: the processor has refunded, the caller does
      not know yet (a test can kill the caller in that window);
      ``release()`` — lets every held answer go and stops holding new ones.
    """

    def __init__(self, api_key: str = DEFAULT_API_KEY, host: str = "127.0.0.1", port: int = 0, state_file=None):
        self.api_key = api_key
        self.state_file = state_file
        self._lock = threading.Lock()
        self._state_file_lock = threading.Lock()
        self._refunds: dict[str, dict] = {}
        # key → (parameters, HTTP status, answer) of every request that was worked on.
        self._answers: dict[str, tuple[dict, int, dict]] = {}
        self._in_flight: set[str] = set()
        self._requests_received = 0
        self._delay_seconds = 0.0
        self._refusals_left = 0
        self._refusal_message = DEFAULT_REFUSAL
        self._failures_left = 0
        self._failure_status = 500
        self._holding = False
        self._release_gate = threading.Event()
        self._release_gate.set()
        self.recorded = threading.Event()
        self._sequence = 0
        self._httpd = _Server((host, port), _handler_for(self))
        self._thread: threading.Thread | None = None
        self.url = f"http://{host}:{self._httpd.server_address[1]}"

    # ----- lifecycle -----

    def start(self) -> RefundProcessorServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="refund-processor", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering and close the listening socket: later calls get "connection refused".
        Held answers are released first so no handler thread is left waiting."""
        self.release()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def serve_forever(self) -> None:
        """Serve from the calling thread (the stand-alone process)."""
        try:
            self._httpd.serve_forever(poll_interval=0.05)
        finally:
            self._httpd.server_close()

    def __enter__(self) -> RefundProcessorServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # ----- read-outs -----

    @property
    def refunds(self) -> dict[str, dict]:
        with self._lock:
            return {key: dict(record) for key, record in self._refunds.items()}

    @property
    def requests_received(self) -> int:
        with self._lock:
            return self._requests_received

    # ----- controls -----

    @property
    def delay_seconds(self) -> float:
        with self._lock:
            return self._delay_seconds

    @delay_seconds.setter
    def delay_seconds(self, seconds: float) -> None:
        with self._lock:
            self._delay_seconds = float(seconds)

    def refuse_next(self, n: int = 1, message: str = DEFAULT_REFUSAL) -> None:
        with self._lock:
            self._refusals_left = n
            self._refusal_message = message

    def fail_with_status(self, code: int = 500, n: int = 1) -> None:
        with self._lock:
            self._failure_status = code
            self._failures_left = n

    def hold_after_recording(self) -> None:
        with self._lock:
            self._holding = True
            self.recorded.clear()
            self._release_gate = threading.Event()

    def release(self) -> None:
        with self._lock:
            self._holding = False
            self._release_gate.set()

    # ----- the work (called from the handler threads) -----

    def _answer(self, authorization: str | None, key: str | None, form: dict[str, str]) -> tuple[int, dict]:
        with self._lock:
            self._requests_received += 1
            if authorization != f"Bearer {self.api_key}":
                return 401, _error("invalid_request_error", "Invalid API Key provided.")
            if self._failures_left > 0:
                self._failures_left -= 1
                return self._failure_status, _error("api_error", "Something went wrong on the processor's end.")
            problem = _invalid(form)
            if problem:
                return 400, _error("invalid_request_error", problem)
            parameters = {"payment": form["payment"], "amount": int(form["amount"]), "currency": form["currency"]}
            if key is not None:
                if key in self._answers:
                    stored_parameters, status, answer = self._answers[key]
                    if stored_parameters != parameters:
                        return 400, _error(
                            "idempotency_error",
                            "Keys for idempotent requests can only be used with the same parameters they were "
                            "first used with.",
                        )
                    return status, answer
                if key in self._in_flight:
                    return 409, _error("idempotency_error", "A request with this idempotency key is in progress.")
                self._in_flight.add(key)
            refuse = self._refusals_left > 0
            if refuse:
                self._refusals_left -= 1
                refusal_message = self._refusal_message
            delay = self._delay_seconds

        try:
            if delay:
                time.sleep(delay)
            with self._lock:
                if refuse:
                    status, answer = 402, _error("card_error", refusal_message, code="card_declined")
                else:
                    self._sequence += 1
                    reference = f"re_{self._sequence:06d}{os.urandom(4).hex()}"
                    record = {"id": reference, **parameters}
                    self._refunds[key if key is not None else reference] = record
                    status, answer = 200, {"object": "refund", "status": "succeeded", **record}
                if key is not None:
                    self._answers[key] = (parameters, status, answer)
                    self._in_flight.discard(key)
                hold = self._holding and not refuse
                gate = self._release_gate
            # Recorded on disk before any held answer goes out, for a test reading from another process.
            self._write_state()
        except BaseException:
            with self._lock:
                self._in_flight.discard(key)
            raise
        if hold:
            self.recorded.set()
            gate.wait()
        return status, answer

    def _write_state(self) -> None:
        if not self.state_file:
            return
        # One writer at a time, so an older snapshot never replaces a newer one.
        with self._state_file_lock:
            with self._lock:
                state = {"refunds": self._refunds, "requests_received": self._requests_received}
                text = json.dumps(state, indent=1)
            folder = os.path.dirname(os.path.abspath(self.state_file))
            with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp") as temporary:
                temporary.write(text)
            os.replace(temporary.name, self.state_file)


def _error(kind: str, message: str, code: str | None = None) -> dict:
    error = {"type": kind, "message": message}
    if code:
        error["code"] = code
    return {"error": error}


def _invalid(form: dict[str, str]) -> str:
    for name in ("payment", "amount", "currency"):
        if not form.get(name):
            return f"Missing required param: {name}."
    if not form["amount"].isdigit() or int(form["amount"]) <= 0:
        return "Invalid positive integer: amount."
    return ""


def _handler_for(processor: RefundProcessorServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            if self.path.split("?")[0] != "/v1/refunds":
                self._send(404, _error("invalid_request_error", f"Unrecognized request URL (POST: {self.path})."))
                return
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8", "replace")
            form = {name: values[-1] for name, values in parse_qs(raw).items()}
            status, answer = processor._answer(
                self.headers.get("Authorization"), self.headers.get("Idempotency-Key"), form
            )
            processor._write_state()
            self._send(status, answer)

        def do_GET(self):
            self._send(404, _error("invalid_request_error", f"Unrecognized request URL (GET: {self.path})."))

        def _send(self, status: int, answer: dict) -> None:
            body = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                # The caller gave up (timed out, or was killed) before the answer: the refund stands.
                pass

        def log_message(self, format, *args):
            # Quiet: the tests read the record, not an access log on stderr.
            pass

    return Handler


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="A Stripe-like refund processor for tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed once listening)")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--state-file", help="JSON file rewritten with the refunds made after every request")
    parser.add_argument("--delay-seconds", type=float, default=0.0)
    options = parser.parse_args(argv)
    processor = RefundProcessorServer(
        api_key=options.api_key, host=options.host, port=options.port, state_file=options.state_file
    )
    processor.delay_seconds = options.delay_seconds
    processor._write_state()
    print(f"listening on {processor.url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        processor.serve_forever()


if __name__ == "__main__":
    main()
