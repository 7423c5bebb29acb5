"""A customer in a real Chromium: signs in, files a claim with a file, lands on the case page."""

import re
import struct
import zlib

import pytest
from playwright.sync_api import expect

from cases.models import Case, CaseStatus
from tests.browser.conftest import sign_in
from tests.factories import CompanyFactory, PaymentFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def tiny_png() -> bytes:
    """A valid 1x1 PNG, so the evidence is a real image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x80\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


@pytest.fixture
def shopper():
    customer = UserFactory(first_name="Carla", last_name="Buyer")
    company = CompanyFactory(name="Grind & Co.")
    payment = PaymentFactory(customer=customer, company=company, amount_cents=12900, product__name="Espresso Grinder")
    PaymentFactory(customer=customer, company=company, method="crypto", product__name="Coffee beans (crypto)")
    return customer, payment


def test_customer_files_claim_with_file_and_sees_case_page(new_page, screenshot, shopper):
    """Orders -> "Request a refund" -> a refused empty form keeps the page -> a claim with a photo
    -> the case page shows the status in words, the deadline and a working download."""
    customer, payment = shopper
    page = new_page()
    sign_in(page, customer.username)

    expect(page).to_have_url(re.compile(r"/orders/$"))
    expect(page.get_by_role("heading", name="Your orders")).to_be_visible()
    expect(page.get_by_text("Espresso Grinder", exact=True)).to_be_visible()
    expect(page.get_by_text("$129.00")).to_be_visible()
    expect(page.get_by_text("Crypto payments (Coinbase Commerce) are irreversible")).to_be_visible()
    screenshot(page, "customer-orders")

    page.get_by_role("link", name=re.compile("Request a refund")).click()
    expect(page.get_by_role("heading", name="Request a refund")).to_be_visible()
    page.get_by_role("button", name="Send refund request").click()
    expect(page.get_by_text("Please describe the problem.").first).to_be_visible()
    expect(page.get_by_text("Please pick the reason that fits best.").first).to_be_visible()

    page.get_by_label("Poor quality").check()
    page.get_by_label("Describe the problem").fill("The burrs arrived chipped; photo attached.")
    page.get_by_label("Files").set_input_files(
        files=[{"name": "chipped-burr.png", "mimeType": "image/png", "buffer": tiny_png()}]
    )
    expect(page.get_by_text("1 file chosen.")).to_be_visible()
    screenshot(page, "customer-claim-form")
    page.get_by_role("button", name="Send refund request").click()

    case = Case.objects.get(payment=payment)
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/$"))
    expect(page.get_by_role("heading", name=f"Case #{case.pk}: Espresso Grinder")).to_be_visible()
    expect(page.get_by_text("Grind & Co. has your refund request and 7 days to answer it.")).to_be_visible()
    expect(page.get_by_role("heading", name="Waiting for the merchant")).to_be_visible()
    expect(page.get_by_text("The merchant must answer by")).to_be_visible()
    expect(page.get_by_text("The burrs arrived chipped; photo attached.")).to_be_visible()
    screenshot(page, "customer-case-page")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="chipped-burr.png").click()
    download = download_info.value
    assert download.suggested_filename == "chipped-burr.png"
    with open(download.path(), "rb") as handle:
        assert handle.read() == tiny_png()

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    screenshot(page, "customer-case-page-mobile")


def test_customer_withdraws_after_confirming(new_page, shopper):
    """Withdraw needs a second, explicit click; then the case reads "Closed: withdrawn"."""
    from cases import services

    customer, payment = shopper
    case = services.case_open(customer=customer, payment=payment, reason="not_received", description="Never came")
    page = new_page()
    sign_in(page, customer.username)
    page.goto(f"/cases/{case.pk}/")

    confirm = page.get_by_role("button", name="Yes, withdraw my request")
    expect(confirm).to_be_hidden()
    page.get_by_text("Withdraw this request").click()
    confirm.click()

    expect(page.get_by_text("You withdrew your request. The case is closed.")).to_be_visible()
    expect(page.get_by_role("heading", name="Closed: withdrawn")).to_be_visible()
    case.refresh_from_db()
    assert case.status == CaseStatus.FINAL
