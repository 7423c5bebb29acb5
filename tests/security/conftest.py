import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services

PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
# Starts like a PNG, so the sniffer accepts it; a browser that sniffed it would find HTML.
POLYGLOT_PNG_HTML = PNG_HEADER + b"<html><body><script>alert(document.cookie)</script></body></html>"


def png_file(name: str = "photo.png", payload: bytes = b"\x00" * 64) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG_HEADER + payload, content_type="image/png")


@pytest.fixture
def open_case(payment, customer):
    """A case opened by ``customer`` on ``payment``, with whatever files the test passes."""

    def _open(files=None, **kwargs):
        return services.case_open(
            customer=customer,
            payment=payment,
            reason="not_as_described",
            description="It was not what the page promised.",
            files=files,
            **kwargs,
        )

    return _open
