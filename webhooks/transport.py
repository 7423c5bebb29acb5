"""One POST to a merchant's URL, with the guard against server-side request forgery.

The host name is resolved once and every address it resolves to must be public (not private,
loopback, link-local, reserved, multicast or unspecified) unless settings.WEBHOOKS["ALLOW_PRIVATE_URLS"]
(development and tests); the connection then goes to that checked address, so a name that
resolves differently a moment later (DNS rebinding) cannot slip past. Redirects are never followed
(a 3xx is a failed attempt), the socket times out after TIMEOUT_SECONDS, and at most a few KB of the
answer are read.
"""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from resolution_center.exceptions import ApplicationError

RESPONSE_KEEP_BYTES = 2048
USER_AGENT = "ResolutionCenter-Webhooks/1"


class UnsafeUrlError(ApplicationError):
    """The URL may not receive webhooks (scheme, credentials, or an address that is not public)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


@dataclass(frozen=True)
class Answer:
    status: int | None
    body: str
    error: str
    latency_ms: int


def _allow_private() -> bool:
    return bool(settings.WEBHOOKS["ALLOW_PRIVATE_URLS"])


def _address_refusal(address: str) -> str:
    ip = ipaddress.ip_address(address.split("%")[0])
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved or not ip.is_global:
        return "an address that is not public"
    return ""


def url_check(url: str, *, resolve: bool = True) -> Target:
    """The URL's parts and the checked address to connect to, or UnsafeUrlError saying why not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeUrlError("The URL must start with https:// (or http://) and name a host.")
    if parts.username or parts.password:
        raise UnsafeUrlError("The URL may not carry a user name or password.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeUrlError("The URL's port is not a number between 1 and 65535.") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname
    if not resolve:
        return Target(parts.scheme, host, port, path, "")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeUrlError(f"The host {host} could not be found.") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not _allow_private():
        for address in addresses:
            refusal = _address_refusal(address)
            if refusal:
                raise UnsafeUrlError(
                    f"The host {host} resolves to {refusal} ({address}); webhooks go only to the internet."
                )
    return Target(parts.scheme, host, port, path, addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = target.address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, *, body: str, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``url``; never raises for what the far side does (the answer says it)."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = url_check(url)
    except UnsafeUrlError as refused:
        return Answer(None, "", refused.message, took())
    timeout = float(settings.WEBHOOKS["TIMEOUT_SECONDS"])
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout)
    try:
        connection.request(
            "POST",
            target.path,
            body=body.encode("utf-8"),
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
        )
        response = connection.getresponse()
        kept = response.read(RESPONSE_KEEP_BYTES).decode("utf-8", errors="replace")
        return Answer(response.status, kept, "", took())
    except TimeoutError:
        return Answer(None, "", f"No answer within {timeout:g} seconds.", took())
    except (OSError, http.client.HTTPException) as failure:
        return Answer(None, "", f"Could not deliver: {type(failure).__name__}: {failure}"[:300], took())
    finally:
        connection.close()
