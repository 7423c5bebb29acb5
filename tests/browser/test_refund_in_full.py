"""In a real browser: a merchant gives up on a case the platform's reviewers hold and refunds the
customer in full from the case page; the case closes as refunded."""

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


def test_merchant_refunds_an_escalated_case_in_full_and_sees_it_closed_as_refunded(new_page, screenshot):
    # Escalated a day ago (its merchant let the 7 days pass), so the page reads in time order.
    scene = case_in_state("escalated", now=timezone.now() - timedelta(days=8, hours=2))
    case = scene.case

    page = new_page()
    sign_in(page, scene.merchant.username)
    page.goto(f"/merchant/{case.company_id}/cases/{case.pk}/")
    expect(page.get_by_role("heading", name="With the reviewers")).to_be_visible()

    page.get_by_text("Refund $50.00 now", exact=True).click()
    page.get_by_label("I understand the customer is refunded in full now").check()
    page.get_by_role("textbox", name="Note to the customer").fill("We would rather refund you than wait.")
    screenshot(page, "merchant-refund-in-full")
    page.get_by_role("button", name="Refund in full and close the case").click()

    expect(page.get_by_text("You refunded the customer in full and the case is closed")).to_be_visible()
    expect(page.get_by_role("heading", name="Closed: refunded", exact=True)).to_be_visible()
    expect(page.get_by_text("You refunded the payment in full").first).to_be_visible()
    expect(page.get_by_text("Refund $50.00 now", exact=True)).to_have_count(0)
    screenshot(page, "merchant-refunded-in-full")
    case.refresh_from_db()
    assert (case.status, case.outcome) == ("final", "refunded")
