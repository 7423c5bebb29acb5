"""A platform reviewer works the queue in Django admin in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from cases.models import Case, CaseStatus
from cases.reviewers import reviewers_group_ensure
from payments.models import BalanceCredit, Refund
from tests.admin.conftest import appealed_case, escalated_case
from tests.factories import CompanyFactory, reviewer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reviewer_opens_queue_opens_case_and_decides_it(new_page, screenshot):
    """The reviewer signs in at /admin/login/, sees the waiting cases longest wait first, opens the
    oldest, is told what is missing when the note is left out, then credits the customer: the case
    closes with one balance credit and leaves the queue."""
    reviewers_group_ensure()  # an earlier transactional test may have emptied the tables
    user = reviewer()
    oldest = escalated_case(company=CompanyFactory(name="Pixel Supply Co."), amount_cents=2900, waited_days=4)
    appealed = appealed_case(amount_cents=14900, waited_days=2)
    page = new_page()

    page.goto("/admin/login/?next=/admin/cases/case/")
    page.get_by_label("Email").fill(user.username)
    page.get_by_label("Password").fill("pw-123456789")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Cases awaiting a reviewer, longest wait first")).to_be_visible()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(f"Case #{oldest.pk}")
    expect(rows.nth(0)).to_contain_text("4\xa0days")
    expect(rows.nth(0)).to_contain_text("$29.00")
    expect(rows.nth(0)).to_contain_text("Pixel Supply Co.")
    expect(rows.nth(1)).to_contain_text(f"Case #{appealed.pk}")
    expect(rows.nth(1)).to_contain_text("$149.00")
    screenshot(page, "admin-reviewer-queue")

    page.get_by_role("link", name=f"Case #{oldest.pk}").click()
    expect(page.locator("#timeline")).to_contain_text("Escalated to the platform")
    expect(page.locator("#messages")).to_contain_text("It never arrived.")
    expect(page.get_by_role("heading", name="Decide this escalated case")).to_be_visible()
    screenshot(page, "admin-reviewer-case")

    page.get_by_label("Credit the customer's platform balance").check()
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator(".messagelist .error")).to_contain_text("Please write a note to the parties")
    assert Case.objects.get(pk=oldest.pk).status == CaseStatus.ESCALATED

    page.get_by_label("Note to the parties").fill("The merchant never answered; credited as a goodwill gesture.")
    page.get_by_role("button", name="Record decision").click()

    expect(page.locator(".messagelist .success")).to_contain_text("final decision recorded (credited to balance)")
    expect(page.locator("#timeline")).to_contain_text("credited as a goodwill gesture")
    expect(page.locator("#money")).to_contain_text("Balance credit")
    screenshot(page, "admin-reviewer-decided")
    case = Case.objects.get(pk=oldest.pk)
    assert (case.status, case.outcome) == (CaseStatus.FINAL, "credited")
    assert [c.amount_cents for c in BalanceCredit.objects.filter(case=case)] == [2900]
    assert not Refund.objects.filter(payment_id=case.payment_id).exists()

    page.get_by_role("link", name=re.compile("^Cases$")).first.click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
