"""In a real browser (issue 12 §3): the merchant denies a case with a reason, a message and a file;
the customer opens the case and reads the reason and the message, with the file, at the top."""

import os
import struct
import zlib
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import DenialReason
from tests.browser.conftest import CHROMIUM, sign_in
from tests.factories import case_in_state

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Chromium is not installed"),
]


def serious_accessibility_problems(page) -> list[str]:
    """axe-core's serious and critical violations on the page (issue 12 §8 asks for none)."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    return [f"{v['id']}: {v['help']}" for v in violations if v["impact"] in ("serious", "critical")]


def small_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes((200, 220, 240)) * 40
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 40, 30, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * 30))
        + chunk(b"IEND", b"")
    )


def test_merchant_denies_with_reason_message_and_file_and_customer_reads_it_at_the_top(new_page, screenshot):
    scene = case_in_state("open", now=timezone.now() - timedelta(hours=3))
    case = scene.case

    merchant = new_page()
    sign_in(merchant, scene.merchant.username)
    merchant.goto(f"/merchant/{case.company_id}/cases/{case.pk}/")
    merchant.locator("summary", has_text="Deny the refund").click()
    deny = merchant.locator("details.m-action--deny")
    deny.get_by_label("Why you deny the refund").select_option(label="Delivered as described")
    deny.get_by_label("Your message to the customer").fill("Tracking shows the parcel was signed for on Monday.")
    deny.get_by_label("Proof files").set_input_files(
        files=[{"name": "signed-delivery.png", "mimeType": "image/png", "buffer": small_png()}]
    )
    deny.get_by_label("I understand a denial cannot be undone").check()
    assert serious_accessibility_problems(merchant) == []
    screenshot(merchant, "merchant_case_deny")
    deny.get_by_role("button", name="Deny the refund").click()
    expect(merchant.get_by_text("You denied the refund.")).to_be_visible()
    case.refresh_from_db()
    assert case.status == "denied" and case.denial_reason == DenialReason.DELIVERED_AS_DESCRIBED

    customer = new_page()
    sign_in(customer, scene.customer.username)
    customer.goto(f"/cases/{case.pk}/")
    denial = customer.locator("#denial")
    expect(denial.get_by_role("heading", name=f"{case.company.name} denied your refund request")).to_be_visible()
    expect(denial).to_contain_text("Reason: Delivered as described")
    expect(denial).to_contain_text("Tracking shows the parcel was signed for on Monday.")
    expect(denial.get_by_role("link", name="signed-delivery.png")).to_be_visible()
    # At the top: right under the status, above the appeal form and the timeline.
    denial_top = denial.bounding_box()["y"]
    assert denial_top < customer.get_by_role("heading", name="Not happy with the decision?").bounding_box()["y"]
    assert denial_top < customer.get_by_role("heading", name="What has happened").bounding_box()["y"]
    assert serious_accessibility_problems(customer) == []
    screenshot(customer, "customer_case_denied")


def test_owner_writes_policies_and_the_customer_reads_them_on_the_claim_form(new_page, screenshot):
    """Issue 12 §4 in the browser: the owner fills in the Policies tab (a link that is not a web
    address is refused and the typed text stays), then a customer reads them before sending a claim."""
    from tests.factories import CompanyFactory, PaymentFactory, merchant_of

    company = CompanyFactory(name="Acme Courses")
    owner = merchant_of(company)
    payment = PaymentFactory(company=company, product__name="Django Mastery course")

    merchant = new_page()
    sign_in(merchant, owner.username)
    merchant.goto(f"/merchant/{company.pk}/cases/")
    merchant.get_by_role("link", name="Policies").click()
    merchant.get_by_label("Refund policy text").fill("Refunds within 30 days of purchase.")
    merchant.get_by_label("Link to your terms").fill("acme.example/terms")
    merchant.get_by_role("button", name="Save policies").click()
    expect(merchant.get_by_text("must be a web address starting with https://").first).to_be_visible()
    expect(merchant.get_by_label("Refund policy text")).to_have_value("Refunds within 30 days of purchase.")
    merchant.get_by_label("Link to your terms").fill("https://acme.example/terms")
    merchant.get_by_role("button", name="Save policies").click()
    expect(merchant.get_by_text("Refund policy and terms saved.")).to_be_visible()
    assert serious_accessibility_problems(merchant) == []
    screenshot(merchant, "merchant_policies")

    customer = new_page()
    sign_in(customer, payment.customer.username)
    customer.goto(f"/orders/{payment.pk}/refund/")
    policies = customer.locator("#company-policies")
    expect(
        policies.get_by_role("heading", name="Before you send it: the refund policy and terms of Acme Courses")
    ).to_be_visible()
    expect(policies).to_contain_text("Refunds within 30 days of purchase.")
    expect(policies.get_by_role("link", name="Read the full terms")).to_have_attribute(
        "href", "https://acme.example/terms"
    )
    assert serious_accessibility_problems(customer) == []
    screenshot(customer, "customer_claim_policies")


def test_reviewer_reads_the_policies_the_case_was_opened_under(new_page, screenshot):
    """Issue 12 §4: the admin case page shows the snapshot taken at opening, not the company's
    policies as edited since, and the merchant's denial reason."""
    from cases import services
    from cases.reviewers import reviewers_group_ensure
    from payments.services import company_policies_update
    from tests.factories import CompanyFactory, PaymentFactory, merchant_of, reviewer

    reviewers_group_ensure()  # an earlier transactional test may have emptied the tables
    company = CompanyFactory(name="Acme Courses")
    owner = merchant_of(company)
    policies = {"refund_policy_url": "", "terms_text": ""}
    company_policies_update(
        company=company,
        actor=owner,
        refund_policy_text="Refunds within 30 days.\n\nCompleted courses are not refunded.",
        terms_url="https://acme.example/terms",
        **policies,
    )
    payment = PaymentFactory(company=company)
    case = services.case_open(
        customer=payment.customer, payment=payment, reason="not_as_described", description="Lessons missing."
    )
    company_policies_update(company=company, actor=owner, refund_policy_text="No refunds.", terms_url="", **policies)
    services.case_deny(case=case, actor=owner, reason="outside_policy", message="You completed the course.")
    services.case_appeal(case=case, actor=payment.customer, statement="Half the lessons are empty.")
    user = reviewer()

    page = new_page()
    page.goto(f"/admin/login/?next=/admin/cases/case/{case.pk}/change/")
    page.get_by_label("Email").fill(user.username)
    page.get_by_label("Password").fill("pw-123456789")
    page.get_by_role("button", name="Log in").click()

    snapshot = page.locator("fieldset", has_text="Refund policy and terms when the case was opened")
    expect(snapshot).to_contain_text("Completed courses are not refunded.")
    expect(snapshot.get_by_role("link", name="https://acme.example/terms")).to_be_visible()
    expect(snapshot).not_to_contain_text("No refunds.")
    expect(page.locator(".field-denial")).to_contain_text("Outside the refund policy")
    screenshot(page, "admin_case_policies")
