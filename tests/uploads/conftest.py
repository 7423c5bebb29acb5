import io

import pytest

from uploads import services

PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
PNG = PNG_HEADER + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


@pytest.fixture
def uploaded():
    """A file of ``owner`` made and sent through the local upload path, as a client would."""

    def _upload(owner, data: bytes = PNG, filename: str = "receipt.png", **kwargs):
        file = services.file_create(owner=owner, filename=filename, **kwargs)
        return services.file_receive(file=file, stream=io.BytesIO(data))

    return _upload


# Starts like a PNG, so the sniffer accepts it; a browser that sniffed it would find HTML.
POLYGLOT = PNG_HEADER + b"<html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture
def sdk(live_server):
    """Whop's official client against the live server, acting with ``token``: ``sdk(token)``.
    Connections are not kept alive, so no server thread outlives the test."""
    import httpx
    from whop_sdk import Whop
    from whop_sdk.environment import WhopEnvironment

    clients = []

    def make(token: str) -> Whop:
        base = f"{live_server.url}/api/v1"
        http = httpx.Client(timeout=30, headers={"Connection": "close"})
        clients.append(http)
        return Whop(environment=WhopEnvironment(api=base, vault=base), token=token, httpx_client=http)

    yield make
    for http in clients:
        http.close()
