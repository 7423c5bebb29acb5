"""The merchant's pages as a member sees them: the Resolution Center list (tabs, filters, closed
cases, deadline order, pagination), the CSV export, the case page, the Payments tab, the auto
respond settings and the dispute rate."""

import csv
import html
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import CaseStatus
from cases.selectors import CaseFilters, case_status_tabs, company_dispute_rate
from payments.models import Company, Membership
from tests.factories import CompanyFactory, MembershipFactory, PaymentFactory, ProductFactory, UserFactory, merchant_of

pytestmark = pytest.mark.django_db


# --- helpers ---------------------------------------------------------------------------------


def open_case(company, *, now=None, customer=None, reason="not_received", description="It never came.", **payment):
    now = now or timezone.now()
    payment.setdefault("paid_at", now - timedelta(days=1))
    paid = PaymentFactory(company=company, customer=customer or UserFactory(), **payment)
    return services.case_open(customer=paid.customer, payment=paid, reason=reason, description=description, now=now)


def page(client, name, company, *args, **query):
    response = client.get(reverse(f"merchant:{name}", args=[company.pk, *args]), query)
    return response, response.content.decode()


def listed_case_ids(text: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-case-id="(\d+)"', text)]


def tab_counts(text: str) -> dict[str, int]:
    return {
        status: int(count)
        for status, count in re.findall(r'data-status="(\w+)"[^>]*>[^<]*<span class="m-count">(\d+)</span>', text)
    }


def open_resolutions_button(text: str) -> str:
    match = re.search(r'id="open-resolutions"[^>]*>([^<]*)</a>', text)
    assert match, "the open resolutions button is missing"
    return match.group(1).strip()


@pytest.fixture
def signed_in(client, company, merchant):
    client.force_login(merchant)
    return client


# --- the bar on every page -------------------------------------------------------------------


def test_merchant_pages_each_show_open_resolutions_button_with_count(signed_in, company):
    """Every merchant page carries the "N open resolutions" button, counting cases that wait on
    the merchant (status open) and linking to exactly those."""
    case = open_case(company)
    open_case(company)
    waiting_on_customer = open_case(company)
    services.case_request_info(case=waiting_on_customer, actor=merchant_of(company), message="Photo?")
    for name, args in [("cases", []), ("case", [case.pk]), ("payments", []), ("auto-respond", [])]:
        response, text = page(signed_in, name, company, *args)
        assert response.status_code == 200
        assert open_resolutions_button(text) == "2 open resolutions"
        assert f'href="/merchant/{company.pk}/cases/?status=open"' in text


def test_merchant_open_resolutions_link_lists_only_cases_awaiting_merchant(signed_in, company):
    """Following the button shows the open cases and none that wait on someone else."""
    waiting = open_case(company)
    asked = open_case(company)
    services.case_request_info(case=asked, actor=merchant_of(company), message="Photo?")
    _, text = page(signed_in, "cases", company, status="open")
    assert listed_case_ids(text) == [waiting.pk]


def test_merchant_switcher_lists_every_company_of_the_user(client):
    """A member of two companies sees both in the switcher and can open the other's list."""
    first, second = CompanyFactory(name="Alpha Ltd"), CompanyFactory(name="Beta Ltd")
    user = merchant_of(first)
    MembershipFactory(company=second, user=user, role=Membership.Role.SUPPORT)
    client.force_login(user)
    _, text = page(client, "payments", first)
    assert "Beta Ltd" in text
    assert f'href="/merchant/{second.pk}/payments/"' in text
    response, text = page(client, "payments", second)
    assert response.status_code == 200
    assert "Support" in text


def test_merchant_home_redirects_to_first_company(client):
    """/merchant/ takes a member to their first company's Resolution Center."""
    company = CompanyFactory(name="Aardvark Inc")
    user = merchant_of(company)
    MembershipFactory(company=CompanyFactory(name="Zebra Inc"), user=user)
    client.force_login(user)
    response = client.get(reverse("merchant:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("merchant:cases", args=[company.pk])


# --- the Resolution Center list --------------------------------------------------------------


def test_case_list_tabs_count_each_status(signed_in, company):
    """The status tabs show how many cases each status holds (closed ones included in their own tab)."""
    merchant = merchant_of(company)
    open_case(company)
    open_case(company)
    services.case_request_info(case=open_case(company), actor=merchant, message="Photo?")
    services.case_deny(
        case=open_case(company), actor=merchant, reason="delivered_as_described", message="It was delivered."
    )
    services.case_accept(case=open_case(company), actor=merchant)
    _, text = page(signed_in, "cases", company)
    counts = tab_counts(text)
    assert counts == {
        "active": 4,
        "open": 2,
        "info_requested": 1,
        "escalated": 0,
        "accepted": 0,
        "denied": 1,
        "appealed": 0,
        "final": 1,
    }


def test_case_list_tab_counts_come_from_one_query(company):
    """All tab counts cost one grouped query, however many statuses and cases there are."""
    for _ in range(3):
        open_case(company)
    with CaptureQueriesContext(connection) as queries:
        tabs = case_status_tabs(company_id=company.pk, filters=CaseFilters())
    assert len(queries) == 1
    assert {tab.status: tab.count for tab in tabs}[CaseStatus.OPEN] == 3


def test_case_list_hides_closed_cases_unless_asked(signed_in, company):
    """Closed (final) cases are not listed by default; "Include closed cases" or the Closed tab shows them."""
    active = open_case(company)
    closed = open_case(company)
    services.case_accept(case=closed, actor=merchant_of(company))
    _, text = page(signed_in, "cases", company)
    assert listed_case_ids(text) == [active.pk]
    _, text = page(signed_in, "cases", company, closed="on")
    assert sorted(listed_case_ids(text)) == sorted([active.pk, closed.pk])
    _, text = page(signed_in, "cases", company, status="final")
    assert listed_case_ids(text) == [closed.pk]


def test_case_list_sorted_by_nearest_deadline_without_deadline_last(signed_in, company):
    """The case whose deadline comes first is on top; cases nobody races a clock on come last."""
    now = timezone.now()
    middle = open_case(company, now=now - timedelta(days=2))
    latest = open_case(company, now=now - timedelta(hours=1))
    soonest = open_case(company, now=now - timedelta(days=5))
    escalated = open_case(company, now=now - timedelta(days=9))
    services.case_escalate_overdue(case=escalated, now=now)
    _, text = page(signed_in, "cases", company)
    assert listed_case_ids(text) == [soonest.pk, middle.pk, latest.pk, escalated.pk]


def test_case_list_filters_by_reason(signed_in, company):
    """Picking a reason lists only cases opened for it, and the tab counts follow the filter."""
    wanted = open_case(company, reason="poor_quality")
    open_case(company, reason="not_received")
    _, text = page(signed_in, "cases", company, reason="poor_quality")
    assert listed_case_ids(text) == [wanted.pk]
    assert tab_counts(text)["open"] == 1


def test_case_list_filters_by_status(signed_in, company):
    """The status filter lists only cases in that status."""
    open_case(company)
    denied = open_case(company)
    services.case_deny(
        case=denied, actor=merchant_of(company), reason="delivered_as_described", message="It was delivered."
    )
    _, text = page(signed_in, "cases", company, status="denied")
    assert listed_case_ids(text) == [denied.pk]


def test_case_list_filters_by_opened_between_dates(signed_in, company):
    """ "Opened from/until" keeps the cases opened on those days, both days included."""
    now = timezone.now()
    too_early = open_case(company, now=now - timedelta(days=6))
    inside_first_day = open_case(company, now=now - timedelta(days=4))
    inside_last_day = open_case(company, now=now - timedelta(days=2))
    too_late = open_case(company, now=now)
    start = timezone.localdate(inside_first_day.opened_at)
    end = timezone.localdate(inside_last_day.opened_at)
    _, text = page(signed_in, "cases", company, opened_from=start.isoformat(), opened_to=end.isoformat())
    listed = listed_case_ids(text)
    assert sorted(listed) == sorted([inside_first_day.pk, inside_last_day.pk])
    assert too_early.pk not in listed and too_late.pk not in listed


def test_case_list_bad_filter_answers_400_with_message(signed_in, company):
    """A date range the wrong way round or an unknown status is a 400 with a message, not a 500."""
    response, text = page(signed_in, "cases", company, opened_from="2026-05-10", opened_to="2026-05-01")
    assert response.status_code == 400
    assert "The end date must be on or after the start date." in text
    response, text = page(signed_in, "cases", company, status="nonsense")
    assert response.status_code == 400
    assert "Select a valid choice" in text


def test_case_list_pages_by_next_link_show_every_case_once(signed_in, company, monkeypatch):
    """Following "Next" through the Resolution Center shows every case exactly once."""
    monkeypatch.setattr("cases.views.merchant.PAGE_SIZE", 2)
    now = timezone.now()
    created = [open_case(company, now=now - timedelta(days=day % 3)).pk for day in range(7)]
    seen = []
    response, text = page(signed_in, "cases", company)
    for _ in range(10):
        seen.extend(listed_case_ids(text))
        link = re.search(r'href="([^"]+)" rel="next"', text)
        if not link:
            break
        response = signed_in.get(html.unescape(link.group(1)))
        text = response.content.decode()
    assert sorted(seen) == sorted(created)
    assert len(seen) == len(set(seen))


def test_case_list_bad_cursor_answers_400_and_first_page(signed_in, company):
    """An edited page link is a 400 with a message and the first page, not a server error."""
    case = open_case(company)
    response, text = page(signed_in, "cases", company, cursor="garbage!!")
    assert response.status_code == 400
    assert "That page link is not valid any more" in text
    assert listed_case_ids(text) == [case.pk]


# --- CSV export -------------------------------------------------------------------------------


def export_rows(client, company, **query) -> list[list[str]]:
    response = client.get(reverse("merchant:cases-export", args=[company.pk]), query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_case_export_contains_every_matching_case_beyond_one_page(signed_in, company, monkeypatch):
    """The CSV holds every case the filters match (not only the visible page), in list order,
    and none of the filtered-out or closed ones."""
    monkeypatch.setattr("cases.views.merchant.PAGE_SIZE", 2)
    now = timezone.now()
    wanted = [open_case(company, reason="poor_quality", now=now - timedelta(hours=h)) for h in (5, 1, 3, 4, 2)]
    open_case(company, reason="not_received")
    services.case_accept(case=open_case(company, reason="poor_quality"), actor=merchant_of(company))

    rows = export_rows(signed_in, company, reason="poor_quality")

    assert rows[0][:3] == ["Case number", "Status", "Outcome"]
    expected_order = [c.pk for c in sorted(wanted, key=lambda c: (c.next_deadline_at, c.pk))]
    assert [int(row[0]) for row in rows[1:]] == expected_order


def test_case_export_row_shows_the_case_and_payment(signed_in, company):
    """A row carries the case's status, reason, the amount in major units, currency, product and
    the customer's email."""
    product = ProductFactory(company=company, name="Blue lamp")
    customer = UserFactory(email="ann@example.test", username="ann@example.test")
    case = open_case(company, product=product, customer=customer, amount_cents=12345, currency="EUR")
    header, row = export_rows(signed_in, company)
    record = dict(zip(header, row, strict=True))
    assert record["Case number"] == str(case.pk)
    assert record["Status"] == "Waiting for you"
    assert record["Payment reference"] == f"pay-{case.payment_id}"
    assert record["Reason"] == "Item not received"
    assert record["Amount"] == "123.45"
    assert record["Currency"] == "EUR"
    assert record["Product"] == "Blue lamp"
    assert record["Customer email"] == "ann@example.test"


def test_case_export_escapes_commas_quotes_and_newlines(signed_in, company):
    """Text with commas, quotes and line breaks comes back intact from a CSV reader."""
    description = 'Broken, "badly" —\nsecond line'
    open_case(company, description=description)
    header, row = export_rows(signed_in, company)
    assert dict(zip(header, row, strict=True))["Description"] == description


@pytest.mark.parametrize("dangerous", ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)"])
def test_case_export_neutralises_formula_cells(signed_in, company, dangerous):
    """A cell a spreadsheet would run as a formula is written with a leading quote."""
    product = ProductFactory(company=company, name=dangerous)
    open_case(company, description=dangerous, product=product)
    header, row = export_rows(signed_in, company)
    record = dict(zip(header, row, strict=True))
    assert record["Description"] == f"'{dangerous}"
    assert record["Product"] == f"'{dangerous}"


def test_case_export_neutralises_cell_starting_with_tab(signed_in, company):
    """A leading tab (which some spreadsheets skip before reading a formula) is quoted too."""
    open_case(company, product=ProductFactory(company=company, name="\t=1+2"))
    header, row = export_rows(signed_in, company)
    assert dict(zip(header, row, strict=True))["Product"] == "'\t=1+2"


# --- the case page ------------------------------------------------------------------------------


def test_case_page_shows_claim_status_timeline_and_answers(signed_in, company):
    """The case page shows the claim, the status in plain words with its deadline, the timeline,
    and the three answers with the info requests left."""
    case = open_case(company, description="The parcel never arrived at my door.")
    response, text = page(signed_in, "case", company, case.pk)
    assert response.status_code == 200
    assert "The parcel never arrived at my door." in text
    assert "Waiting for you" in text
    assert "You must answer by" in text
    assert "The customer opened the case" in text
    assert "Accept and refund" in text and "Deny the refund" in text
    assert "(3 of 3 requests left)" in text
    assert 'name="confirm"' in text


def test_case_page_shows_customer_payment_history_with_this_company_only(signed_in, company):
    """The sidebar lists what this customer bought from this company, with each case's status,
    and nothing they bought elsewhere."""
    customer = UserFactory()
    earlier = PaymentFactory(
        company=company, customer=customer, product=ProductFactory(company=company, name="Old mug")
    )
    elsewhere = PaymentFactory(customer=customer, product=ProductFactory(name="Other shop's hat"))
    case = open_case(company, customer=customer, product=ProductFactory(company=company, name="New kettle"))
    _, text = page(signed_in, "case", company, case.pk)
    history = text[text.index('id="payment-history"') :]
    assert "Old mug" in history and f"pay-{earlier.pk}" in history
    assert "New kettle" in history and "this case" in history
    assert "Other shop&#x27;s hat" not in history and f"pay-{elsewhere.pk} " not in history


def test_case_page_offers_appeal_on_reviewer_refund(signed_in, company, reviewer_user):
    """When a reviewer decided a refund, the merchant is offered Appeal and Accept the decision,
    and no longer Accept/Deny."""
    case = open_case(company, now=timezone.now() - timedelta(days=8))
    services.case_escalate_overdue(case=case)
    services.case_decide(case=case, actor=reviewer_user, decision="refund", note="Refund it.")
    _, text = page(signed_in, "case", company, case.pk)
    assert "Appeal the decision" in text and "Accept the decision now" in text
    assert "Deny the refund" not in text


def test_case_page_query_count_does_not_grow_with_messages(signed_in, company):
    """The case page costs the same number of queries with 1 or 6 messages (no per-row queries)."""
    case = open_case(company)
    url = reverse("merchant:case", args=[company.pk, case.pk])
    signed_in.get(url)
    with CaptureQueriesContext(connection) as few:
        signed_in.get(url)
    merchant = merchant_of(company)
    for n in range(5):
        services.case_message_post(case=case, actor=merchant, body=f"Message {n}")
    with CaptureQueriesContext(connection) as many:
        assert signed_in.get(url).status_code == 200
    assert len(many) == len(few)


def test_case_list_query_count_does_not_grow_with_rows(signed_in, company):
    """The Resolution Center costs the same number of queries for 2 or 12 cases."""
    for _ in range(2):
        open_case(company)
    url = reverse("merchant:cases", args=[company.pk])
    signed_in.get(url)
    with CaptureQueriesContext(connection) as few:
        signed_in.get(url)
    for _ in range(10):
        open_case(company)
    with CaptureQueriesContext(connection) as many:
        signed_in.get(url)
    assert len(many) == len(few)


# --- the Payments tab ---------------------------------------------------------------------------


def test_payments_tab_lists_payments_with_case_status(signed_in, company):
    """Each payment is listed with its case and the case's status; payments without a case say so."""
    plain = PaymentFactory(company=company)
    case = open_case(company)
    PaymentFactory()  # another company's
    response, text = page(signed_in, "payments", company)
    assert response.status_code == 200
    ids = [int(pk) for pk in re.findall(r'data-payment-id="(\d+)"', text)]
    assert sorted(ids) == sorted([plain.pk, case.payment_id])
    row = text[text.index(f'data-payment-id="{case.payment_id}"') :]
    assert f"Case #{case.pk}</a>" in row[:1500] and "Waiting for you" in row[:1500]
    assert f"pay-{case.payment_id}" in row[:200]
    assert "No case" in text


@pytest.mark.parametrize("field", ["hash_id", "email", "product"])
def test_payments_tab_search_finds_by_id_email_or_product(signed_in, company, field):
    """The search box finds a payment by "#" and its id, part of the customer's email or part of
    the product name, and only that payment."""
    target = PaymentFactory(
        company=company,
        customer=UserFactory(email="zoe.target@example.test", username="zoe.target@example.test"),
        product=ProductFactory(company=company, name="Walnut desk"),
    )
    PaymentFactory(company=company)
    query = {"id": str(target.pk), "hash_id": f"#{target.pk}", "email": "zoe.target", "product": "walnut"}[field]
    _, text = page(signed_in, "payments", company, q=query)
    assert [int(pk) for pk in re.findall(r'data-payment-id="(\d+)"', text)] == [target.pk]


def test_payments_tab_search_by_bare_number_includes_that_payment(signed_in, company):
    """A bare number finds the payment with that id (and anything whose email or product name
    contains the digits)."""
    target = PaymentFactory(company=company)
    other = PaymentFactory(company=company, product=ProductFactory(company=company, name="Plain lamp"))
    _, text = page(signed_in, "payments", company, q=str(target.pk))
    ids = [int(pk) for pk in re.findall(r'data-payment-id="(\d+)"', text)]
    assert target.pk in ids
    if str(target.pk) not in other.customer.email:
        assert other.pk not in ids


def test_payments_tab_search_with_no_match_says_so(signed_in, company):
    """A search that matches nothing says so in words."""
    PaymentFactory(company=company)
    _, text = page(signed_in, "payments", company, q="no-such-thing")
    assert "No payment matches" in text


# --- dispute rate -------------------------------------------------------------------------------


def test_dispute_rate_counts_last_30_days_only(company):
    """Cases opened ÷ payments made in the last 30 days; older ones do not count."""
    now = timezone.now()
    for _ in range(8):
        PaymentFactory(company=company, paid_at=now - timedelta(days=5))
    PaymentFactory(company=company, paid_at=now - timedelta(days=45))
    open_case(company, now=now - timedelta(days=2))  # its payment is in the window too
    open_case(company, now=now - timedelta(days=40))  # both outside
    rate = company_dispute_rate(company_id=company.pk, now=now)
    assert (rate.cases_opened, rate.payments) == (1, 9)
    assert str(rate.percent) == "11.11"
    assert rate.is_high


def test_dispute_rate_above_two_percent_shows_warning(signed_in, company):
    """Above 2% the Resolution Center shows the rate and a warning."""
    for _ in range(9):
        PaymentFactory(company=company)
    open_case(company)
    _, text = page(signed_in, "cases", company)
    assert "10.00%" in text
    assert "Warning:" in text


def test_dispute_rate_at_or_below_two_percent_shows_no_warning(signed_in, company):
    """At 2% or less the rate is shown without a warning."""
    PaymentFactory.create_batch(49, company=company)
    open_case(company)
    _, text = page(signed_in, "cases", company)
    assert "2.00%" in text
    assert "Warning:" not in text


# --- auto respond settings ----------------------------------------------------------------------


def test_auto_respond_owner_saves_thresholds_in_minor_units(signed_in, company):
    """An owner types money as shown ("$12.50", "1,000") and it is stored in cents; the page
    shows it back the same way."""
    url = reverse("merchant:auto-respond", args=[company.pk])
    response = signed_in.post(url, {"card_below": "$12.50", "paypal_below": "1,000", "message": " Sorry! "})
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.auto_refund_card_below_cents == 1250
    assert company.auto_refund_paypal_below_cents == 100000
    assert company.auto_refund_message == "Sorry!"
    text = signed_in.get(url).content.decode()
    assert 'value="12.50"' in text and 'value="1000.00"' in text
    assert "Auto respond settings saved." in text


def test_auto_respond_threshold_then_refunds_small_case_at_once(signed_in, company):
    """After the owner sets a card threshold, a card case below it is refunded automatically."""
    signed_in.post(
        reverse("merchant:auto-respond", args=[company.pk]),
        {"card_below": "20", "paypal_below": "", "message": "No worries."},
    )
    case = open_case(company, amount_cents=1999, method="card")
    assert case.status == CaseStatus.FINAL and case.auto_refunded
    assert case.auto_refund_message == "No worries."


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", "Please enter an amount like 12.50"),
        ("-5", "Please enter zero or a positive amount."),
        ("1.234", "at most 2 decimals"),
        ("99999999999999", "That amount is too large."),
    ],
)
def test_auto_respond_bad_amount_refused_with_400_and_kept(signed_in, company, typed, message):
    """A value that is not an amount is refused with a 400 and a message; nothing is saved and
    what was typed stays in the field."""
    Company.objects.filter(pk=company.pk).update(auto_refund_card_below_cents=700)
    response = signed_in.post(
        reverse("merchant:auto-respond", args=[company.pk]),
        {"card_below": typed, "paypal_below": "5", "message": "Kept message"},
    )
    text = response.content.decode()
    assert response.status_code == 400
    assert message in text
    assert f'value="{html.escape(typed)}"' in text and "Kept message" in text
    company.refresh_from_db()
    assert company.auto_refund_card_below_cents == 700
    assert company.auto_refund_paypal_below_cents == 0


def test_auto_respond_support_member_sees_read_only_page(client, company):
    """A support member sees the settings but no way to save them."""
    Company.objects.filter(pk=company.pk).update(auto_refund_card_below_cents=900)
    client.force_login(merchant_of(company, role=Membership.Role.SUPPORT))
    response, text = page(client, "auto-respond", company)
    assert response.status_code == 200
    assert 'value="9.00"' in text
    assert "only owners and admins can change them" in text
    assert "Save settings" not in text
    assert re.search(r'<input[^>]*name="card_below"[^>]*disabled', text)


def test_auto_respond_support_member_post_is_refused_403(client, company):
    """A support member posting the form anyway gets a 403 and nothing changes; the page still
    shows the saved values."""
    Company.objects.filter(pk=company.pk).update(auto_refund_paypal_below_cents=400)
    client.force_login(merchant_of(company, role=Membership.Role.SUPPORT))
    response = client.post(
        reverse("merchant:auto-respond", args=[company.pk]), {"card_below": "50", "paypal_below": "50", "message": "x"}
    )
    assert response.status_code == 403
    assert "Only the company's owners and admins" in html.unescape(response.content.decode())
    assert 'value="4.00"' in response.content.decode()
    company.refresh_from_db()
    assert company.auto_refund_card_below_cents == 0
    assert company.auto_refund_paypal_below_cents == 400


def test_auto_respond_admin_can_save(client, company):
    """An admin (not only the owner) can change the settings."""
    client.force_login(merchant_of(company, role=Membership.Role.ADMIN))
    response = client.post(
        reverse("merchant:auto-respond", args=[company.pk]), {"card_below": "3", "paypal_below": "", "message": ""}
    )
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.auto_refund_card_below_cents == 300
