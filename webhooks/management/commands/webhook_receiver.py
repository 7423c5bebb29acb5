"""A local webhook receiver for trying the webhooks by hand: it verifies each POST as Whop's SDK
does (``whop_sdk.lib.verify_webhook.unwrap`` when installed, the same check through
standardwebhooks otherwise), prints the event and answers 200 (401 when the signature is wrong)."""

import base64
import json
from http.server import BaseHTTPRequestHandler, HTTPServer

from django.core.management.base import BaseCommand
from standardwebhooks import Webhook, WebhookVerificationError


def _verify(body: bytes, headers: dict, secret: str) -> dict:
    try:
        from whop_sdk.lib.verify_webhook import unwrap
    except ImportError:
        Webhook(base64.b64encode(secret.encode()).decode()).verify(body, headers, json_parse=False)
        return json.loads(body)
    return unwrap(body, headers=headers, key=secret)


class Command(BaseCommand):
    help = "Receive webhooks on 127.0.0.1:<port>, verify each with the endpoint's ws_ secret and print it."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--secret", required=True, help="The endpoint's signing secret (ws_…), as shown once.")

    def handle(self, *args, port: int, secret: str, **options):
        out = self.stdout

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    event = _verify(body, dict(self.headers.items()), secret)
                except (WebhookVerificationError, ValueError) as refused:
                    out.write(f"REFUSED ({refused}): {body[:200]!r}")
                    self.send_response(401)
                    self.end_headers()
                    return
                data = event.get("data", {})
                out.write(
                    f"{event.get('type')} {event.get('id')} case {data.get('id')} status {data.get('status')} "
                    f"state {data.get('state')} actions {data.get('available_actions')}"
                )
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        server = HTTPServer(("127.0.0.1", port), Handler)
        out.write(f"Receiving webhooks on http://127.0.0.1:{port}/ (Ctrl-C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
