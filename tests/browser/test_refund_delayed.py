"""In a real browser: a refund the processor refused reads, for the customer, as delayed with
nothing for them to do (and without the processor's internal words); for the merchant, with the
processor's reason and the next attempt."""

import os

import pytest
from playwright.sync_api import expect

from cases import services
from tests.browser.conftest import CHROMIUM, sign_in
from tests.factories import case_in_state

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Chromium is not installed"),
]


def test_customer_and_merchant_see_a_refused_refund_in_their_own_words(new_page, screenshot, settings):
    settings.REFUND_GATEWAY = "tests.web.test_merchant_actions.RefusingProcessor"
    scene = case_in_state("open")
    # With a real commit, the refund is sent (and refused) right after the decision.
    services.case_accept(case=scene.case, actor=scene.merchant)

    customer = new_page()
    sign_in(customer, scene.customer.username)
    customer.goto(f"/cases/{scene.case.pk}/")
    expect(customer.get_by_text("The $50.00 refund is delayed.").first).to_be_visible()
    expect(customer.get_by_text("you do not need to do anything").first).to_be_visible()
    expect(customer.get_by_text("Insufficient funds")).to_have_count(0)
    screenshot(customer, "refund-delayed-customer")

    merchant = new_page()
    sign_in(merchant, scene.merchant.username)
    merchant.goto(f"/merchant/{scene.case.company_id}/cases/{scene.case.pk}/")
    expect(merchant.get_by_text("The $50.00 refund is delayed.").first).to_be_visible()
    expect(merchant.get_by_text("Insufficient funds in the merchant account", exact=False).first).to_be_visible()
    screenshot(merchant, "refund-delayed-merchant")
