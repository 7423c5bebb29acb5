"""Every product page usable by everyone (issue 12, §8), in a real Chromium:

- axe-core (axe-playwright-python) on each page of each person finds no "serious" or "critical"
  violation (they are printed readably when it does);
- a customer files a claim and a merchant answers one with the keyboard alone, each focused
  control showing a visible focus style;
- each person reads the case in their own words (§7), and the case pages are photographed at
  1280 px (artifacts/screenshots/*_1280.png).
"""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import expect

from cases import services
from cases.models import Case, CaseStatus
from cases.reviewers import reviewers_group_ensure
from cases.selectors.counts import TAB_LABELS
from tests.admin.conftest import escalated_case
from tests.browser.conftest import sign_in
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, merchant_of, reviewer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING = ("serious", "critical")


def axe_problems(page) -> list[str]:
    """Each serious or critical axe-core violation on the page, one readable line per element."""
    results = Axe().run(page)
    lines = []
    for violation in results.response["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            summary = node.get("failureSummary", "").replace("\n", " ")
            lines.append(f"{violation['impact']}: {violation['id']} ({violation['help']}) at {target}: {summary}")
    return lines


def assert_accessible(page, url: str) -> None:
    page.goto(url)
    problems = axe_problems(page)
    assert not problems, f"axe-core on {url}:\n" + "\n".join(problems)


@pytest.fixture
def world():
    """A customer with a case the merchant asked about (and a payment to claim), the merchant, and a
    reviewer with an escalated case of the same company."""
    reviewers_group_ensure()  # an earlier transactional test may have emptied the tables
    company = CompanyFactory(name="Lumen Lamps")
    merchant = merchant_of(company)
    customer = UserFactory(first_name="Nora", last_name="Buyer")
    lamp = PaymentFactory(customer=customer, company=company, amount_cents=8900, product__name="Desk Lamp")
    shade = PaymentFactory(customer=customer, company=company, amount_cents=3400, product__name="Lamp Shade")
    case = services.case_open(customer=customer, payment=lamp, reason="not_as_described", description="It flickers.")
    services.case_request_info(case=case, actor=merchant, message="Does it flicker on a plain switch?")
    staff = reviewer()
    escalated = escalated_case(company=company, amount_cents=5900, waited_days=3)
    return {
        "company": company,
        "merchant": merchant,
        "customer": customer,
        "case": Case.objects.get(pk=case.pk),
        "claimable": shade,
        "reviewer": staff,
        "escalated": escalated,
    }


def test_every_product_page_passes_axe_core(new_page, world):
    company, case = world["company"], world["case"]
    anonymous = new_page()
    assert_accessible(anonymous, reverse("login"))

    shopper = new_page()
    sign_in(shopper, world["customer"].username)
    for url in (
        reverse("cases:orders"),
        reverse("cases:case-open", args=[world["claimable"].pk]),
        reverse("cases:case-detail", args=[case.pk]),
        reverse("cases:case-list"),
        reverse("notifications:notification-list"),
        reverse("notifications:preferences"),
    ):
        assert_accessible(shopper, url)

    seller = new_page()
    sign_in(seller, world["merchant"].username)
    for url in (
        reverse("merchant:cases", args=[company.pk]),
        reverse("merchant:case", args=[company.pk, case.pk]),
        reverse("merchant:payments", args=[company.pk]),
        reverse("merchant:auto-respond", args=[company.pk]),
        reverse("notifications:merchant-list", args=[company.pk]),
        reverse("notifications:merchant-preferences", args=[company.pk]),
    ):
        assert_accessible(seller, url)

    admin = new_page()
    assert_accessible(admin, reverse("admin:login") + "?next=" + reverse("admin:cases_case_changelist"))
    admin.get_by_label("Email").fill(world["reviewer"].username)
    admin.get_by_label("Password").fill("pw-123456789")
    admin.get_by_role("button", name="Log in").click()
    expect(admin.get_by_role("heading", name="Cases awaiting a reviewer, longest wait first")).to_be_visible()
    for url in (
        reverse("admin:cases_case_changelist"),
        reverse("admin:cases_case_change", args=[world["escalated"].pk]),
    ):
        assert_accessible(admin, url)


def focus_shows(page) -> None:
    """The focused element draws a visible focus style (an outline or a box shadow)."""
    style = page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   const e = document.activeElement;
                   return {outline: s.outlineStyle, width: parseFloat(s.outlineWidth), shadow: s.boxShadow,
                           element: e.outerHTML.slice(0, 200)}; }"""
    )
    assert (style["outline"] != "none" and style["width"] > 0) or style["shadow"] != "none", style


def tab_to(page, pattern: str, *, limit: int = 80, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focused element's accessible text matches ``pattern``."""
    wanted = re.compile(pattern)
    seen = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        text = page.evaluate(
            """() => { const e = document.activeElement; if (!e || e === document.body) return "";
                       const label = e.labels && e.labels.length ? e.labels[0].innerText : "";
                       const parts = [e.getAttribute("aria-label") || "", label, e.innerText || "", e.value || ""];
                       return parts.join(" | "); }"""
        )
        if wanted.search(text):
            focus_shows(page)
            return
        seen.append(text)
    raise AssertionError(f"Tab never reached {pattern!r}; focus went through: {seen}")


def test_customer_files_a_claim_with_the_keyboard_only(new_page, world):
    page = new_page()
    sign_in(page, world["customer"].username)
    page.goto(reverse("cases:orders"))
    tab_to(page, r"Request a refund\s+for Lamp Shade")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/refund/"))
    # The reasons are one radio group, one Tab stop: Space picks the focused one.
    tab_to(page, r"Forgot to cancel")
    page.keyboard.press("Space")
    expect(page.get_by_label("Forgot to cancel")).to_be_checked()
    tab_to(page, r"Describe the problem")
    page.keyboard.type("The shade is cracked along one side.")
    tab_to(page, r"Send refund request")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Waiting for the merchant")).to_be_visible()
    assert Case.objects.filter(payment=world["claimable"], status=CaseStatus.OPEN).exists()


def test_merchant_answers_a_case_with_the_keyboard_only(new_page, world):
    """The merchant opens the case from the list, opens "Deny the refund", picks a reason, types a
    message, ticks the confirmation and sends it: Tab, Shift+Tab, Enter, Space and typing only."""
    company = world["company"]
    case = services.case_open(
        customer=world["customer"], payment=world["claimable"], reason="poor_quality", description="Cracked."
    )
    page = new_page()
    sign_in(page, world["merchant"].username)
    page.goto(reverse("merchant:cases", args=[company.pk]))
    tab_to(page, rf"Case #{case.pk}\b")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/$"))
    tab_to(page, r"Deny the refund")
    page.keyboard.press("Enter")  # opens the <details>
    tab_to(page, r"Why you deny the refund")
    page.keyboard.type("Delivered")  # typing on a focused select picks the matching reason
    expect(page.get_by_label("Why you deny the refund")).to_have_value("delivered_as_described")
    tab_to(page, r"Your message to the customer")
    page.keyboard.type("It was checked before shipping.")
    tab_to(page, r"I understand a denial", limit=10)
    page.keyboard.press("Space")
    tab_to(page, r"Deny the refund", limit=10)
    # One step back and forth with Shift+Tab: the confirmation keeps its tick.
    tab_to(page, r"I understand a denial", limit=5, backwards=True)
    tab_to(page, r"Deny the refund", limit=5)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Refund denied")).to_be_visible()
    case.refresh_from_db()
    assert case.status == CaseStatus.DENIED


def test_each_person_reads_the_case_in_their_words_at_1280(new_page, screenshot, world):
    """The customer reads "Waiting for you" with the question above her reply box; after her reply she
    reads "You replied" and the merchant "The customer replied", "Waiting for you", "You must answer
    by"; the tabs and the dropdown agree and fit on one line; the reviewer's page is photographed too."""
    company, case = world["company"], world["case"]
    shopper = new_page()
    sign_in(shopper, world["customer"].username)
    shopper.goto(reverse("cases:case-detail", args=[case.pk]))
    expect(shopper.get_by_role("heading", name="Waiting for you")).to_be_visible()
    expect(shopper.get_by_text("You must reply by")).to_be_visible()
    expect(shopper.locator("#merchant-question")).to_have_text("Does it flicker on a plain switch?")
    timeline = shopper.locator("ol.timeline")
    expect(timeline).not_to_contain_text("→")
    expect(timeline).not_to_contain_text("Notification sent")
    shopper.get_by_label("Your reply").fill("Yes, also on a plain switch.")
    shopper.get_by_role("button", name="Send reply").click()
    expect(shopper.get_by_role("heading", name="Waiting for the merchant")).to_be_visible()
    expect(timeline.get_by_text("You replied", exact=True)).to_be_visible()
    expect(timeline).not_to_contain_text("Customer replied")
    screenshot(shopper, "customer_case_1280")

    seller = new_page()
    sign_in(seller, world["merchant"].username)
    seller.goto(reverse("merchant:cases", args=[company.pk]))
    tabs = seller.locator(".m-status-tabs a")
    labels = [re.sub(r"\s*\d+$", "", text.strip()) for text in tabs.all_inner_texts()]
    options = seller.get_by_label("Status").locator("option").all_inner_texts()
    assert labels == options == [label for _, label in TAB_LABELS]
    tops = {round(box["y"]) for box in (tab.bounding_box() for tab in tabs.all())}
    assert len(tops) == 1, "the status tabs wrap onto a second line at 1280 px"
    assert seller.evaluate(
        "() => { const u = document.querySelector('.m-status-tabs ul'); return u.scrollWidth <= u.clientWidth; }"
    ), "the status tabs do not fit in the page's width at 1280 px"
    screenshot(seller, "merchant_list_1280")

    seller.goto(reverse("merchant:case", args=[company.pk, case.pk]))
    expect(seller.get_by_role("heading", name="Waiting for you")).to_be_visible()
    expect(seller.get_by_text("You must answer by")).to_be_visible()
    expect(seller.locator("ol.timeline").get_by_text("The customer replied", exact=True)).to_be_visible()
    expect(seller.get_by_role("heading", name=f"Payment pay-{case.payment_id}")).to_be_visible()
    screenshot(seller, "merchant_case_1280")

    seller.goto(reverse("notifications:merchant-list", args=[company.pk]))
    expect(seller.locator("#open-resolutions")).to_have_text("1 open resolution")
    screenshot(seller, "merchant_notifications_1280")

    admin = new_page()
    admin.goto(reverse("admin:login") + "?next=" + reverse("admin:cases_case_changelist"))
    admin.get_by_label("Email").fill(world["reviewer"].username)
    admin.get_by_label("Password").fill("pw-123456789")
    admin.get_by_role("button", name="Log in").click()
    queue = admin.locator("#result_list")
    expect(queue).to_be_visible()
    screenshot(admin, "admin_queue_1280")
    # Every column fits at 1280 px: the table is no wider than its box.
    assert admin.evaluate(
        "() => { const t = document.querySelector('#result_list');"
        " return t.scrollWidth <= t.parentElement.clientWidth + 1; }"
    ), "the queue's columns are cut off at 1280 px"
    expect(admin.locator("th.sorted")).to_have_count(1)
    expect(admin.locator("th.sorted")).to_contain_text("Waiting for")
    admin.goto(reverse("admin:cases_case_change", args=[world["escalated"].pk]))
    expect(admin.locator("#timeline")).to_be_visible()
    screenshot(admin, "admin_case_1280")
