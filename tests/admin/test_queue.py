"""The reviewer's queue: the Case changelist in admin."""

import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import services
from tests.admin.conftest import appealed_case, escalated_case, open_case
from tests.factories import CompanyFactory, UserFactory

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:cases_case_changelist")


@pytest.fixture
def reviewer_client(client, reviewer_user):
    client.force_login(reviewer_user)
    return client


def listed_cases(response) -> list[int]:
    """Case numbers in the order the changelist shows them."""
    return [int(n) for n in re.findall(r">Case #(\d+)</a>", response.content.decode())]


def test_queue_opens_on_escalated_and_appealed_cases_oldest_wait_first(reviewer_client):
    """Without a filter the queue lists only cases awaiting a reviewer, the longest wait at the top."""
    recent = escalated_case(waited_days=1)
    oldest = escalated_case(waited_days=5)
    appealed = appealed_case(waited_days=3)
    still_open = open_case()

    response = reviewer_client.get(QUEUE)

    assert response.status_code == 200
    assert listed_cases(response) == [oldest.pk, appealed.pk, recent.pk]
    assert still_open.pk not in listed_cases(response)
    assert "Cases awaiting a reviewer" in response.content.decode()


def test_queue_row_shows_wait_amount_company_customer_and_reason(reviewer_client):
    """Each row says how long the case has waited, its amount, company, customer and reason."""
    company = CompanyFactory(name="Lens Barn")
    customer = UserFactory(email="pat@example.test", username="pat@example.test")
    escalated_case(company=company, customer=customer, amount_cents=123456, waited_days=4, reason="not_received")

    page = reviewer_client.get(QUEUE).content.decode()

    row = page[page.index(">Case #") :]
    row = row[: row.index("</tr>")]
    for text in ["4\xa0days", "$1,234.56", "Lens Barn", "pat@example.test", "Item not received", "With the reviewers"]:
        assert text in row


def test_queue_all_states_filter_shows_every_case(reviewer_client):
    """The "All states" filter lists cases in every state, not just the queue."""
    waiting = escalated_case()
    still_open = open_case()

    response = reviewer_client.get(QUEUE, {"state": "all"})

    assert set(listed_cases(response)) == {waiting.pk, still_open.pk}


def test_queue_filters_by_one_state(reviewer_client):
    """Picking a state lists only that state."""
    escalated = escalated_case()
    appealed = appealed_case()

    assert listed_cases(reviewer_client.get(QUEUE, {"state": "appealed"})) == [appealed.pk]
    assert listed_cases(reviewer_client.get(QUEUE, {"state": "escalated"})) == [escalated.pk]


def test_queue_filters_by_reason_and_company(reviewer_client):
    """Reason and company filters narrow the queue."""
    acme = CompanyFactory()
    by_reason = escalated_case(reason="unauthorized")
    at_acme = escalated_case(company=acme, reason="not_received")

    assert listed_cases(reviewer_client.get(QUEUE, {"reason": "unauthorized"})) == [by_reason.pk]
    assert listed_cases(reviewer_client.get(QUEUE, {"company": acme.pk})) == [at_acme.pk]


def test_queue_filters_by_opened_date(reviewer_client):
    """The opened-date filter keeps cases opened in the period (here: the past 7 days)."""
    recent = appealed_case(waited_days=1)  # opened 4 days ago
    escalated_case(waited_days=2)  # opened 10 days ago

    response = reviewer_client.get(QUEUE)
    past_week = re.search(r'href="(\?[^"]*opened_at__gte[^"]*)"[^>]*>Past 7 days', response.content.decode())
    filtered = reviewer_client.get(QUEUE + past_week.group(1).replace("&amp;", "&"))

    assert listed_cases(filtered) == [recent.pk]


def test_queue_search_by_payment_id(reviewer_client):
    """Searching a payment id finds exactly its case (also written as #id), not every email or
    company name that happens to contain those digits."""
    wanted = escalated_case()
    escalated_case()

    assert listed_cases(reviewer_client.get(QUEUE, {"q": str(wanted.payment_id)})) == [wanted.pk]
    assert listed_cases(reviewer_client.get(QUEUE, {"q": f"#{wanted.payment_id}"})) == [wanted.pk]


def test_queue_search_by_customer_email_and_company_name(reviewer_client):
    """Searching part of the customer's email or of the company's name finds the case."""
    by_email = escalated_case(customer=UserFactory(email="zed@shop.test", username="zed@shop.test"))
    by_company = escalated_case(company=CompanyFactory(name="Quokka Supplies"))

    assert listed_cases(reviewer_client.get(QUEUE, {"q": "zed@shop"})) == [by_email.pk]
    assert listed_cases(reviewer_client.get(QUEUE, {"q": "quokka"})) == [by_company.pk]


@pytest.mark.parametrize("term", ["not-a-number", "99999999999999999999999", "#", "0"])
def test_queue_search_with_odd_terms_answers_200_and_no_cases(reviewer_client, term):
    """Searching words or huge numbers never errors; it just finds nothing, though the queue
    without the search lists the waiting case."""
    waiting = escalated_case()
    assert listed_cases(reviewer_client.get(QUEUE)) == [waiting.pk]

    response = reviewer_client.get(QUEUE, {"q": term})

    assert response.status_code == 200
    assert listed_cases(response) == []


def test_queue_query_count_does_not_grow_with_the_number_of_cases(reviewer_client):
    """The changelist runs the same number of queries for 1 case as for 50 (no per-row queries),
    with cases spread over many companies and customers, escalated and appealed."""
    escalated_case()
    reviewer_client.get(QUEUE)  # warm caches (content types, permissions) outside the measurement
    with CaptureQueriesContext(connection) as with_one:
        response = reviewer_client.get(QUEUE)
    assert len(listed_cases(response)) == 1

    for i in range(49):
        (appealed_case if i % 3 == 0 else escalated_case)(waited_days=1 + i % 5)
    with CaptureQueriesContext(connection) as with_fifty:
        response = reviewer_client.get(QUEUE)

    assert len(listed_cases(response)) == 50
    assert len(with_fifty) == len(with_one), [q["sql"] for q in with_fifty.captured_queries]


def test_queue_query_count_with_search_and_filters_does_not_grow(reviewer_client):
    """Searching and filtering keep the query count flat too."""
    company = CompanyFactory(name="Flat Co")
    escalated_case(company=company)
    params = {"q": "flat", "reason": "not_received", "state": "all"}
    reviewer_client.get(QUEUE, params)
    with CaptureQueriesContext(connection) as with_one:
        reviewer_client.get(QUEUE, params)
    for _ in range(20):
        escalated_case(company=company)
    with CaptureQueriesContext(connection) as with_many:
        response = reviewer_client.get(QUEUE, params)

    assert len(listed_cases(response)) == 21
    assert len(with_many) == len(with_one)


def test_case_credited_leaves_the_queue_others_stay(reviewer_client, reviewer_user):
    """A credited case is final and no longer waits in the queue; the case still waiting stays,
    and the credited one is still found under "All states"."""
    case = escalated_case(waited_days=3)
    other = escalated_case(waited_days=1)
    assert listed_cases(reviewer_client.get(QUEUE)) == [case.pk, other.pk]

    services.case_decide(case=case, actor=reviewer_user, decision="credit", note="Credited.")

    assert listed_cases(reviewer_client.get(QUEUE)) == [other.pk]
    assert case.pk in listed_cases(reviewer_client.get(QUEUE, {"state": "all"}))


def test_all_states_lists_newest_case_first(reviewer_client):
    """Outside the queue, cases are listed newest first (an indexed order at 100,000 cases)."""
    first, second, third = open_case(), escalated_case(), open_case()

    assert listed_cases(reviewer_client.get(QUEUE, {"state": "all"})) == [third.pk, second.pk, first.pk]


def test_case_page_query_count_does_not_grow_with_the_timeline(reviewer_client, reviewer_user):
    """The case page loads events, messages and files in a fixed number of queries."""
    case = escalated_case()
    url = reverse("admin:cases_case_change", args=[case.pk])
    reviewer_client.get(url)
    with CaptureQueriesContext(connection) as short:
        reviewer_client.get(url)
    for i in range(15):
        services.case_message_post(case=case, actor=reviewer_user, body=f"Note {i}", visibility="reviewers")

    with CaptureQueriesContext(connection) as long:
        response = reviewer_client.get(url)

    assert "Note 14" in response.content.decode()
    assert len(long) == len(short)


@pytest.mark.parametrize("object_id", ["abc", "999999"])
def test_case_page_for_unknown_case_redirects_with_a_message(reviewer_client, object_id):
    """A mistyped or unknown case id is not a server error: the reviewer is sent to the admin
    home with a message naming the id that was not found."""
    response = reviewer_client.get(f"/admin/cases/case/{object_id}/change/")

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"case with ID “{object_id}” doesn’t exist. Perhaps it was deleted?"
    ]


def test_queue_pages_keep_the_order_across_pages(reviewer_client, monkeypatch):
    """Later pages continue the queue's order without gaps or repeats (keys-first paging)."""
    from cases.admin import CaseAdmin

    monkeypatch.setattr(CaseAdmin, "list_per_page", 2)
    cases = [escalated_case(waited_days=days) for days in (5, 4, 3, 2, 1)]

    pages = [listed_cases(reviewer_client.get(QUEUE, {"p": page})) for page in (1, 2, 3)]

    assert pages == [[cases[0].pk, cases[1].pk], [cases[2].pk, cases[3].pk], [cases[4].pk]]


def test_company_filter_lists_only_companies_with_waiting_cases(reviewer_client):
    """The sidebar offers the companies that have cases in the queue, not every company."""
    waiting = escalated_case(company=CompanyFactory(name="Waiting Widgets")).company
    open_case(company=CompanyFactory(name="Calm Company"))
    CompanyFactory(name="No Cases Co")

    page = reviewer_client.get(QUEUE).content.decode()

    assert f"?company={waiting.pk}" in page
    assert "Calm Company" not in page
    assert "No Cases Co" not in page


def test_company_filter_with_a_bad_value_is_not_an_error(reviewer_client):
    """A mangled company parameter sends the reviewer back to the list instead of a server error."""
    escalated_case()

    response = reviewer_client.get(QUEUE, {"company": "x"})

    assert response.status_code == 302
    assert "e=1" in response["Location"]


def test_queue_and_case_page_write_the_opening_time_as_the_product_does(reviewer_client):
    """The queue's Opened column and the case page read "19 Nov 2026, 02:35 UTC", not Django's
    default "Nov. 19, 2026, 2:35 a.m." beside the product's own format on the same page."""
    from resolution_center.formatting import ADMIN_DATE_TIME, format_local

    case = escalated_case(waited_days=2)
    expected = format_local(case.opened_at, ADMIN_DATE_TIME)

    queue = reviewer_client.get(QUEUE).content.decode()
    page = reviewer_client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()

    for html in (queue, page):
        assert expected in html
        assert "a.m." not in html and "p.m." not in html
