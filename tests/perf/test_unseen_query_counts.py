"""The "New activity" marks cost one EXISTS per row inside each list's own query: every list runs the
same queries with 1 case and with 50, some opened and some not (tests/perf/test_query_counts.py
holds the limits); opening a case page writes its mark only when there is something to clear."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import services
from tests.factories import CompanyFactory, UserFactory, merchant_of, reviewer

from .test_query_counts import MAX_QUERIES, open_cases, queries_for

pytestmark = pytest.mark.django_db


def _with_activity(company, count: int, *, customer=None, days_ago: int = 1):
    """``count`` cases with a message from each side; the first half opened by both parties since."""
    cases = open_cases(company, count, customer=customer, days_ago=days_ago)
    merchant = company.memberships.get().user
    for case in cases:
        services.case_message_post(case=case, actor=case.customer, body="Hello?")
        services.case_message_post(case=case, actor=merchant, body="Hi.")
    for case in cases[: count // 2]:
        services.case_mark_seen(case=case, user=merchant)
        services.case_mark_seen(case=case, user=case.customer)
    return cases


def test_merchant_list_with_marks_costs_the_same_for_1_and_50_cases(client):
    counts = []
    for size in (1, 50):
        company = CompanyFactory()
        merchant = merchant_of(company)
        _with_activity(company, size)
        client.force_login(merchant)
        counts.append(queries_for(client, reverse("merchant:cases", kwargs={"company_id": company.pk})))
    assert counts[0] == counts[1] <= MAX_QUERIES


def test_customer_cases_with_marks_cost_the_same_for_1_and_50_cases(client):
    counts = []
    for size in (1, 50):
        customer = UserFactory()
        company = CompanyFactory()
        merchant_of(company)
        _with_activity(company, size, customer=customer)
        client.force_login(customer)
        counts.append(queries_for(client, reverse("cases:case-list")))
    assert counts[0] == counts[1] <= MAX_QUERIES


def test_reviewer_queue_with_marks_costs_the_same_for_1_and_49_cases(client):
    user = reviewer()
    client.force_login(user)
    counts = []
    for size in (1, 49):
        company = CompanyFactory()
        merchant_of(company)
        for case in open_cases(company, size, days_ago=10):
            assert services.case_escalate_overdue(case=case)
            services.case_message_post(case=case, actor=case.customer, body="Still waiting.")
            if case.pk % 2:
                services.case_mark_seen(case=case, user=user)
        counts.append(queries_for(client, reverse("admin:cases_case_changelist")))
    assert counts[0] == counts[1] <= MAX_QUERIES


def test_opening_a_case_with_news_writes_one_mark_and_reopening_writes_nothing(client):
    """The first visit after new activity costs the upsert (one query); a visit with nothing new
    costs nothing more than before the marks existed."""
    company = CompanyFactory()
    merchant = merchant_of(company)
    (case,) = open_cases(company, 1)
    client.force_login(merchant)
    url = reverse("merchant:case", kwargs={"company_id": company.pk, "case_id": case.pk})

    client.get(url)
    quiet = queries_for(client, url)
    services.case_message_post(case=case, actor=case.customer, body="Hello?")
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    with_news = len(captured)

    assert with_news == quiet + 1
    assert quiet <= MAX_QUERIES
