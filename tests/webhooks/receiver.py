"""A real HTTP receiver on 127.0.0.1 for the webhook tests: it answers with the statuses it is told
(then 200), verifies each delivery with the official SDK's ``unwrap`` as it arrives, and keeps
what it saw."""

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from whop_sdk.lib.verify_webhook import WebhookVerificationError, unwrap


@dataclass
class Received:
    headers: dict
    body: bytes
    event: dict | None
    verify_error: str


@dataclass
class Receiver:
    statuses: list[int] = field(default_factory=list)
    secret: str = ""
    received: list[Received] = field(default_factory=list)
    # Set to make the next request wait (the kill test): the handler blocks until released.
    hold: threading.Event | None = None
    arrived: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None
    location: str = ""

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks/whop"

    @property
    def verified(self) -> list[dict]:
        return [r.event for r in self.received if r.event is not None]


def start_receiver() -> Receiver:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = dict(self.headers.items())
            try:
                event, error = unwrap(body, headers=headers, key=receiver.secret), ""
            except (WebhookVerificationError, ValueError) as failure:
                event, error = None, str(failure)
            receiver.received.append(Received(headers, body, event, error))
            receiver.arrived.set()
            if receiver.hold is not None:
                receiver.hold.wait(60)
            status = receiver.statuses.pop(0) if receiver.statuses else 200
            self.send_response(status)
            if receiver.location:
                self.send_header("Location", receiver.location)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": %s}' % (b"true" if status < 300 else b"false"))

        def log_message(self, *args):
            pass

    receiver.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=receiver.server.serve_forever, daemon=True).start()
    return receiver
