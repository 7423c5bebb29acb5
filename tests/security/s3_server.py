"""A local S3 endpoint for the evidence-storage tests: moto's real HTTP server (ThreadedMotoServer)
with the one check AWS makes that moto 5.2 skips.

moto serves a presigned URL without looking at its expiry or its signature (only its presence).
``PresignedUrlCheck`` sits in front of moto's WSGI app and does what S3 does: refuses an expired
URL ("Request has expired") and one whose signature does not match its own query — recomputed
with botocore's SigV4 query signer, so a URL whose X-Amz-Expires was edited is refused too.
"""

import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server


class PresignedUrlCheck:
    def __init__(self, app, secrets: dict[str, str]):
        self.app = app
        self.secrets = secrets

    def __call__(self, environ, start_response):
        query = environ.get("QUERY_STRING", "")
        params = parse_qs(query)
        if "X-Amz-Signature" in params:
            refusal = self._refusal(environ, query, params)
            if refusal:
                code, message = refusal
                body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
                start_response(
                    "403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
                )
                return [body]
        return self.app(environ, start_response)

    def _refusal(self, environ, query: str, params: dict) -> tuple[str, str] | None:
        signed_at_text = params["X-Amz-Date"][0]
        signed_at = datetime.strptime(signed_at_text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        expires = int(params["X-Amz-Expires"][0])
        if datetime.now(UTC) > signed_at + timedelta(seconds=expires):
            return "AccessDenied", "Request has expired"
        access_key, _date, region, service, _ = params["X-Amz-Credential"][0].split("/")
        secret = self.secrets.get(access_key)
        if secret is None:
            return "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
        unsigned_query = "&".join(part for part in query.split("&") if not part.startswith("X-Amz-Signature="))
        path = environ.get("RAW_URI", environ["PATH_INFO"]).split("?", 1)[0]
        host = environ["HTTP_HOST"]
        request = AWSRequest(method=environ["REQUEST_METHOD"], url=f"http://{host}{path}?{unsigned_query}")
        request.headers["host"] = host
        request.context["timestamp"] = signed_at_text
        signer = S3SigV4QueryAuth(Credentials(access_key, secret), service, region, expires=expires)
        expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        if not hmac.compare_digest(expected, params["X-Amz-Signature"][0]):
            return (
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        return None


class CheckingMotoServer(ThreadedMotoServer):
    """ThreadedMotoServer whose app is wrapped in PresignedUrlCheck."""

    def __init__(self, *, secrets: dict[str, str], **kwargs):
        super().__init__(**kwargs)
        self._secrets = secrets

    def _server_entry(self) -> None:
        app = PresignedUrlCheck(DomainDispatcherApplication(create_backend_app), self._secrets)
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()
