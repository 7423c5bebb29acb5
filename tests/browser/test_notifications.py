"""In a real browser: the unread count in the page header, the list, and marking read."""

import os

import pytest
from playwright.sync_api import expect

from cases import services
from notifications.models import Notification
from tests.browser.conftest import CHROMIUM, sign_in
from tests.factories import case_in_state

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Chromium is not installed"),
]


def test_customer_sees_the_unread_count_opens_the_list_and_marks_all_read(new_page, screenshot):
    """A customer whose case was denied sees "1" on Notifications in the header; the list says what
    happened and what to do next; after "Mark all as read" the count is gone."""
    scene = case_in_state("open")
    services.case_deny(
        case=scene.case, actor=scene.merchant, reason="delivered_as_described", message="The parcel was delivered."
    )
    Notification.objects.filter(recipient=scene.customer, kind="opened").update(read_at=scene.now)
    page = new_page()

    sign_in(page, scene.customer.username)
    badge = page.locator(".notifications-link")
    expect(badge).to_have_attribute("aria-label", "Notifications: 1 unread")
    badge.click()

    expect(page.get_by_role("heading", name="Notifications", exact=True)).to_be_visible()
    expect(page.get_by_text("your refund request was denied")).to_be_visible()
    # The notice names the merchant's reason (issue 12 §3); their message is on the case page.
    expect(page.get_by_text("Their reason: Delivered as described.")).to_be_visible()
    expect(page.get_by_text("What to do next:").first).to_be_visible()
    screenshot(page, "notifications-list")
    page.get_by_role("button", name="Mark all as read").click()

    expect(page.get_by_text("Marked 1 notification as read.")).to_be_visible()
    expect(page.locator(".notifications-link")).to_have_attribute("aria-label", "Notifications: none unread")
