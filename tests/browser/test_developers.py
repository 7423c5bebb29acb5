"""The merchant makes an API key on the Developers page, sees it once, and Whop's official client
works with it against the same server; the API docs page renders from our own static files."""

import re

import pytest

from tests.api.conftest import sdk_for
from tests.browser.conftest import sign_in
from tests.factories import case_in_state

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def serious_accessibility_problems(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_owner_makes_a_key_and_the_sdk_lists_with_it(new_page, screenshot, live_server):
    scene = case_in_state("open")
    page = new_page()
    sign_in(page, scene.merchant.username)
    page.goto(f"/merchant/{scene.case.company_id}/cases/")

    page.get_by_role("link", name="Developers").click()
    page.get_by_label("Key name").fill("Helpdesk sync")
    page.get_by_label("Read and write").check()
    page.get_by_role("button", name="Make key").click()

    secret = page.get_by_role("textbox", name="Your new API key").input_value()
    assert re.fullmatch(r"rc_key_[A-Za-z0-9_-]+", secret)
    assert page.get_by_text("Copy it now").first.is_visible()
    screenshot(page, "developers_key_made")
    assert serious_accessibility_problems(page) == []

    cases = list(sdk_for(live_server.url, secret).resolution_center_cases.list())
    assert [c.id for c in cases] == [f"reso_{scene.case.pk}"]

    page.reload()
    assert page.get_by_role("textbox", name="Your new API key").count() == 0
    row = page.locator("#api-keys tbody tr").first
    assert "Helpdesk sync" in row.inner_text()
    assert "Never" not in row.inner_text()
    page.get_by_role("button", name="Revoke the key Helpdesk sync").click()
    assert "Revoked" in page.locator("#api-keys tbody tr").first.inner_text()
    screenshot(page, "developers_key_revoked")


def test_api_docs_page_renders_swagger_from_our_static_files(new_page, screenshot):
    page = new_page()
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto("/api/v1/docs")
    page.get_by_text("/api/v1/resolution_center_cases/{id}/accept").first.wait_for()

    screenshot(page, "api_docs")
    base = page.url.split("/api/")[0]
    assert all(url.startswith(base) or url.startswith("data:") for url in requested), requested


def test_customer_makes_a_personal_token_from_the_user_menu(new_page, screenshot, live_server):
    scene = case_in_state("open")
    page = new_page()
    sign_in(page, scene.customer.username)

    page.locator("details.user-menu summary").click()
    page.get_by_role("link", name="Settings: personal API tokens").click()
    page.get_by_label("Token name").fill("My scripts")
    page.get_by_role("button", name="Make token").click()

    secret = page.get_by_role("textbox", name="Your new personal token").input_value()
    screenshot(page, "api_token_made")
    assert serious_accessibility_problems(page) == []
    case = sdk_for(live_server.url, secret).resolution_center_cases.withdraw(f"reso_{scene.case.pk}")
    assert case.outcome == "withdrawn"
