"""In a real browser: the merchant offers a partial refund from the case page, the customer sees it
at the top of theirs and accepts it; the refund of the offered amount is on its way."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import CaseOffer
from payments.models import Refund
from tests.browser.conftest import CHROMIUM, sign_in
from tests.factories import case_in_state

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Chromium is not installed"),
]


def test_merchant_offers_a_partial_refund_and_the_customer_accepts_it(new_page, screenshot):
    scene = case_in_state("open", now=timezone.now() - timedelta(days=1))
    case = scene.case
    company = case.company.name

    merchant = new_page()
    sign_in(merchant, scene.merchant.username)
    merchant.goto(f"/merchant/{case.company_id}/cases/{case.pk}/")
    merchant.get_by_text("Offer a partial refund", exact=False).first.click()
    amount = merchant.get_by_role("textbox", name="Amount to refund")
    amount.fill("50")
    merchant.get_by_role("textbox", name="Message to the customer").fill("Would $20 settle it? The box was opened.")
    merchant.get_by_role("button", name="Offer the partial refund").click()
    # All of what is left is not an offer: the form comes back with the bounds and what was typed.
    expect(merchant.get_by_text("An offer must be less than the $50.00 left to refund").first).to_be_visible()
    expect(merchant.get_by_role("textbox", name="Message to the customer")).to_have_value(
        "Would $20 settle it? The box was opened."
    )
    screenshot(merchant, "merchant_case_offer_refused")
    merchant.get_by_role("textbox", name="Amount to refund").fill("20.00")
    merchant.get_by_role("button", name="Offer the partial refund").click()
    expect(merchant.get_by_text("You offered the customer a $20.00 refund")).to_be_visible()
    expect(merchant.get_by_role("heading", name="Waiting for the customer's answer to your offer")).to_be_visible()
    screenshot(merchant, "merchant_case_offer_pending")

    customer = new_page()
    sign_in(customer, scene.customer.username)
    customer.goto(f"/cases/{case.pk}/")
    expect(customer.get_by_role("heading", name=f"{company} offers you a $20.00 refund")).to_be_visible()
    expect(customer.get_by_text("Would $20 settle it? The box was opened.").first).to_be_visible()
    screenshot(customer, "customer_case_offer")

    customer.get_by_text("Accept the offer", exact=True).click()
    customer.get_by_role("button", name="Yes, accept $20.00").click()

    expect(customer.get_by_text("the $20.00 refund is on its way").first).to_be_visible()
    expect(customer.get_by_role("heading", name="You accepted a $20.00 refund")).to_be_visible()
    screenshot(customer, "customer_case_offer_accepted")
    case.refresh_from_db()
    assert (case.status, case.outcome) == ("final", "refunded")
    assert list(Refund.objects.filter(case=case).values_list("amount_cents", flat=True)) == [2000]
    assert CaseOffer.objects.get(case=case).status == CaseOffer.Status.ACCEPTED
