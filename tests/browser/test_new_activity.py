"""In a real browser: a customer's message marks the case "New" in the merchant's Resolution Center
list (read aloud as "New activity"); the merchant opens the case and the mark is gone."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM, sign_in
from tests.factories import case_in_state

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Chromium is not installed"),
]


def test_customer_message_marks_the_case_new_for_the_merchant_until_opened(new_page, screenshot):
    scene = case_in_state("open", now=timezone.now() - timedelta(hours=1))
    case_number = scene.case.pk
    merchant = new_page()
    sign_in(merchant, scene.merchant.username)
    merchant.goto(f"/merchant/{scene.case.company_id}/cases/")
    row = merchant.locator(f'tr[data-case-id="{case_number}"]')
    # A case the merchant has never opened is new to them; opening it clears the mark.
    expect(row.get_by_text("New activity")).to_be_attached()
    row.get_by_role("link", name=f"#{case_number}").click()
    expect(merchant.get_by_role("heading", name=f"Case #{case_number}")).to_be_visible()
    merchant.goto(f"/merchant/{scene.case.company_id}/cases/")
    expect(row.locator(".badge-new")).to_have_count(0)

    customer = new_page()
    sign_in(customer, scene.customer.username)
    customer.goto(f"/cases/{case_number}/")
    customer.get_by_role("textbox", name="Message").fill("Any news about my parcel?")
    customer.get_by_role("button", name="Send message").click()
    expect(customer.get_by_text("Any news about my parcel?").first).to_be_visible()

    merchant.reload()
    mark = row.locator(".badge-new")
    expect(mark).to_be_visible()
    expect(mark).to_have_text("New activity")  # the visible "New" plus the words a screen reader adds
    screenshot(merchant, "merchant_list_new_mark")

    row.get_by_role("link", name=f"#{case_number}").click()
    expect(merchant.get_by_text("Any news about my parcel?").first).to_be_visible()
    merchant.go_back()
    merchant.reload()
    expect(row.locator(".badge-new")).to_have_count(0)
