"""Both parties in two real browsers (separate sessions), each step done by clicking:

- a customer files a claim with a file; the merchant requests more information; the customer
  replies with a file; the merchant denies; the customer appeals;
- a merchant accepts a claim and the customer sees the refund;
- the merchant's "N open resolutions" button follows every step.
"""

import re

import pytest
from playwright.sync_api import expect

from cases.models import Case, CaseStatus
from payments.models import Refund
from tests.browser.conftest import sign_in
from tests.browser.test_customer_flow import tiny_png
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, merchant_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def parties():
    company = CompanyFactory(name="Lumen Lamps")
    merchant = merchant_of(company)
    customer = UserFactory(first_name="Nora", last_name="Buyer")
    lamp = PaymentFactory(customer=customer, company=company, amount_cents=8900, product__name="Desk Lamp")
    shade = PaymentFactory(customer=customer, company=company, amount_cents=3400, product__name="Lamp Shade")
    return company, merchant, customer, lamp, shade


def open_resolutions(page):
    """The merchant's "N open resolutions" button, fresh from the server."""
    page.reload()
    return page.locator("#open-resolutions")


def file_claim(page, product: str, reason: str, description: str, files=None) -> None:
    page.goto("/orders/")
    page.get_by_role("link", name=f"Request a refund for {product}").click()
    page.get_by_label(reason).check()
    page.get_by_label("Describe the problem").fill(description)
    if files:
        page.get_by_label("Files").set_input_files(files=files)
    page.get_by_role("button", name="Send refund request").click()
    expect(page.get_by_role("heading", name="Waiting for the merchant")).to_be_visible()


def test_claim_info_request_reply_deny_appeal(new_page, screenshot, parties):
    """The whole exchange over one case, with the merchant's count moving at each step."""
    company, merchant, customer, lamp, _ = parties
    shopper, seller = new_page(), new_page()
    sign_in(shopper, customer.username)
    sign_in(seller, merchant.username)
    expect(seller).to_have_url(re.compile(rf"/merchant/{company.pk}/cases/"))
    expect(open_resolutions(seller)).to_have_text("0 open resolutions")

    # 1. The customer files a claim with a photo.
    photo = {"name": "flicker.png", "mimeType": "image/png", "buffer": tiny_png()}
    file_claim(shopper, "Desk Lamp", "Not as described", "The lamp flickers constantly.", files=[photo])
    case = Case.objects.get(payment=lamp)
    expect(open_resolutions(seller)).to_have_text("1 open resolution")
    screenshot(seller, "merchant-resolution-center")

    # 2. The merchant opens it from the button and asks for more information.
    seller.locator("#open-resolutions").click()
    seller.get_by_role("link", name=f"Case #{case.pk}", exact=True).click()
    expect(seller.get_by_text("The lamp flickers constantly.").first).to_be_visible()
    expect(seller.get_by_role("link", name="flicker.png")).to_be_visible()
    screenshot(seller, "merchant-case-page")
    seller.locator("summary", has_text="Request more info").click()
    expect(seller.locator("#info-requests-left")).to_have_text("(3 of 3 requests left)")
    seller.get_by_label("What do you need from the customer?").fill("Please send a video of the flicker.")
    seller.get_by_role("button", name="Send the request").click()
    expect(seller.get_by_role("heading", name="Waiting for the customer")).to_be_visible()
    expect(open_resolutions(seller)).to_have_text("0 open resolutions")

    # 3. The customer sees the request and replies with a file.
    shopper.reload()
    expect(shopper.get_by_role("heading", name="Waiting for you")).to_be_visible()
    expect(shopper.locator("#merchant-question")).to_have_text("Please send a video of the flicker.")
    expect(shopper.get_by_text("You must reply by")).to_be_visible()
    shopper.get_by_label("Your reply").fill("Here is a second photo; it flickers every few seconds.")
    shopper.get_by_label("Files").set_input_files(
        files=[{"name": "flicker-2.png", "mimeType": "image/png", "buffer": tiny_png()}]
    )
    shopper.get_by_role("button", name="Send reply").click()
    expect(shopper.get_by_text("Your reply was sent.")).to_be_visible()
    expect(shopper.get_by_role("heading", name="Waiting for the merchant")).to_be_visible()
    expect(open_resolutions(seller)).to_have_text("1 open resolution")

    # 4. The merchant sees the reply and its file, and denies (after ticking the confirmation).
    expect(seller.get_by_role("link", name="flicker-2.png")).to_be_visible()
    expect(seller.locator("#info-requests-left")).to_have_text("(2 of 3 requests left)")
    deny = seller.locator("details.m-action--deny")
    deny.locator("summary").click()
    deny.get_by_label("Why you deny the refund").select_option(label="Delivered as described")
    deny.locator("textarea[name=message]").fill("Flicker comes from a dimmer.")
    deny.get_by_role("button", name="Deny the refund").click()
    expect(seller.get_by_text("Please tick the box to confirm the denial").first).to_be_visible()
    deny = seller.locator("details.m-action--deny")
    expect(deny.locator("textarea[name=message]")).to_have_value("Flicker comes from a dimmer.")
    expect(deny.get_by_label("Why you deny the refund")).to_have_value("delivered_as_described")
    deny.locator("input[name=confirm]").check()
    deny.get_by_role("button", name="Deny the refund").click()
    expect(seller.get_by_role("heading", name="Refund denied")).to_be_visible()
    expect(open_resolutions(seller)).to_have_text("0 open resolutions")

    # 5. The customer sees the denial with its deadline and appeals.
    shopper.reload()
    expect(shopper.get_by_role("heading", name="Refund denied")).to_be_visible()
    # The reason and the merchant's message at the top of the page (issue 12 §3).
    expect(shopper.locator("#denial")).to_contain_text("Reason: Delivered as described")
    expect(shopper.locator("#denial")).to_contain_text("Flicker comes from a dimmer.")
    expect(shopper.get_by_text("You may appeal until")).to_be_visible()
    screenshot(shopper, "customer-case-denied")
    shopper.get_by_label("Why do you appeal?").fill("No dimmer here: it flickers on a plain switch.")
    shopper.get_by_role("button", name="Appeal to the platform").click()
    expect(shopper.get_by_role("heading", name="Appealed")).to_be_visible()
    expect(shopper.get_by_role("button", name="Appeal to the platform")).to_have_count(0)
    screenshot(shopper, "customer-case-appealed")

    case.refresh_from_db()
    assert case.status == CaseStatus.APPEALED
    assert sorted(case.attachments.values_list("original_name", flat=True)) == ["flicker-2.png", "flicker.png"]
    expect(open_resolutions(seller)).to_have_text("0 open resolutions")


def test_merchant_accepts_and_customer_sees_refund(new_page, screenshot, parties):
    """The merchant accepts; the customer's case and orders show the refund, once."""
    company, merchant, customer, _, shade = parties
    shopper, seller = new_page(), new_page()
    sign_in(shopper, customer.username)
    sign_in(seller, merchant.username)

    file_claim(shopper, "Lamp Shade", "Item not received", "The shade never arrived.")
    case = Case.objects.get(payment=shade)
    expect(open_resolutions(seller)).to_have_text("1 open resolution")

    seller.goto(f"/merchant/{company.pk}/cases/{case.pk}/")
    accept = seller.locator("details.m-action--accept")
    accept.locator("summary", has_text="Accept and refund $34.00").click()
    accept.locator("input[name=confirm]").check()
    accept.get_by_role("button", name="Accept and refund").click()
    expect(seller.get_by_role("heading", name="Closed: refunded")).to_be_visible()
    expect(open_resolutions(seller)).to_have_text("0 open resolutions")

    shopper.reload()
    expect(shopper.get_by_role("heading", name="Closed: refunded")).to_be_visible()
    expect(shopper.get_by_text("$34.00 refunded to the original payment method.")).to_be_visible()
    expect(shopper.locator(".money-list")).to_contain_text("$34.00 refunded")
    screenshot(shopper, "customer-case-refunded")
    shopper.goto("/orders/")
    expect(shopper.get_by_text("$34.00 refunded")).to_be_visible()

    assert Refund.objects.filter(payment=shade).count() == 1
