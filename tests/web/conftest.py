"""Fixtures for the page tests: the six roles of the access matrix, a case with a file, and
upload helpers (real PNG/PDF headers, a renamed executable)."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from cases.models import Attachment, Case, Message
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, merchant_of, reviewer

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF_BYTES = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ELF_BYTES = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120


def png(name: str = "photo.png", size: int | None = None) -> SimpleUploadedFile:
    body = PNG_BYTES if size is None else PNG_BYTES + b"\x00" * (size - len(PNG_BYTES))
    return SimpleUploadedFile(name, body, content_type="image/png")


def pdf(name: str = "receipt.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def renamed_executable(name: str = "photo.png") -> SimpleUploadedFile:
    """An ELF binary under an image's name, claiming to be an image."""
    return SimpleUploadedFile(name, ELF_BYTES, content_type="image/png")


def stored_files() -> list[Path]:
    """Every file in the evidence storage (each test has its own folder; see tests/conftest.py)."""
    root = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    return [path for path in root.rglob("*") if path.is_file()]


def row_counts() -> dict[str, int]:
    return {
        "cases": Case.objects.count(),
        "messages": Message.objects.count(),
        "attachments": Attachment.objects.count(),
        "files": len(stored_files()),
    }


@pytest.fixture
def company_x(db):
    return CompanyFactory(name="Company X")


@pytest.fixture
def company_y(db):
    return CompanyFactory(name="Company Y")


@pytest.fixture
def customer_a(db):
    return UserFactory(first_name="Alice", last_name="Customer")


@pytest.fixture
def customer_b(db):
    return UserFactory(first_name="Bob", last_name="Customer")


@pytest.fixture
def merchant_x(company_x):
    return merchant_of(company_x)


@pytest.fixture
def merchant_y(company_y):
    return merchant_of(company_y)


@pytest.fixture
def reviewer_x(db):
    return reviewer()


@pytest.fixture
def payment_a(company_x, customer_a):
    """Customer A's card payment to company X, 3 days old: eligible for a case."""
    return PaymentFactory(company=company_x, customer=customer_a, amount_cents=5000, product__name="Blue Kettle")


@pytest.fixture
def case_a(payment_a, customer_a):
    """Customer A's open case on payment_a, opened with one PNG file."""
    return services.case_open(
        customer=customer_a,
        payment=payment_a,
        reason="not_as_described",
        description="The kettle is green.",
        files=[png("kettle.png")],
    )


@pytest.fixture
def attachment_a(case_a):
    return case_a.attachments.get()


@pytest.fixture
def signed_in(client):
    """``signed_in(user)`` -> the test client, signed in as that user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in
