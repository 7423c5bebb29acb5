"""An owner registers a webhook endpoint on the Developers page, copies its secret (shown once), a
case is opened and the endpoint's delivery log shows the attempt that a real receiver verified."""

import re

import pytest

from cases import services
from tests.browser.conftest import sign_in
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, merchant_of
from tests.webhooks.receiver import start_receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def serious_accessibility_problems(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.fixture
def receiver():
    receiver = start_receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def test_owner_adds_an_endpoint_and_watches_a_delivery_in_the_log(new_page, screenshot, receiver):
    company = CompanyFactory(name="Hooked Goods")
    owner = merchant_of(company)
    page = new_page()
    sign_in(page, owner.username)
    page.goto(f"/merchant/{company.pk}/cases/")

    page.get_by_role("link", name="Developers").click()
    page.get_by_role("link", name="Manage webhook endpoints").click()
    page.get_by_label("Endpoint URL").fill(receiver.url)
    page.get_by_role("button", name="Add endpoint").click()

    secret = page.get_by_role("textbox", name="Your new signing secret").input_value()
    assert re.fullmatch(r"ws_[0-9a-f]{64}", secret)
    screenshot(page, "webhooks_endpoint_added")
    assert serious_accessibility_problems(page) == []
    receiver.secret = secret

    customer = UserFactory()
    payment = PaymentFactory(company=company, customer=customer)
    case = services.case_open(customer=customer, payment=payment, reason="not_received", description="Never came")
    assert [r.event["data"]["id"] for r in receiver.received] == [f"reso_{case.pk}"]

    page.reload()
    assert page.get_by_role("textbox", name="Your new signing secret").count() == 0
    log = page.locator("#delivery-log").inner_text()
    assert "resolution_center_case.created" in log and "HTTP 200" in log and "Delivered" in log
    screenshot(page, "webhooks_delivery_log")
    assert serious_accessibility_problems(page) == []
