"""Every page the benchmark drives runs a fixed number of queries, whatever its row count: each is
rendered with 1 and with 50 rows, and both runs must count the same, at most MAX_QUERIES (the
whole request: session, user, time zone, the page frame and the page itself). The two actions
(filing a claim, a merchant's message) must cost the same however much the case or the
customer already holds. Counts, not timings: timings live in `make bench`."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import Case
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, merchant_of, reviewer

pytestmark = pytest.mark.django_db

MAX_QUERIES = 10


def queries_for(client, url: str) -> int:
    """Queries one GET runs, after a first request has warmed per-process caches."""
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


def open_cases(company, count: int, *, customer=None, days_ago: int = 0) -> list[Case]:
    """``count`` open cases at ``company``, each on its own payment, through the real service."""
    start = timezone.now() - timedelta(days=days_ago)
    cases = []
    for index in range(count):
        now = start - timedelta(minutes=13 * index)  # within the hourly claim limit
        payment = PaymentFactory(company=company, customer=customer or UserFactory(), paid_at=now - timedelta(days=1))
        cases.append(
            services.case_open(
                customer=payment.customer, payment=payment, reason="not_received", description="Lost.", now=now
            )
        )
    return cases


@pytest.fixture
def two_companies(db):
    """A merchant's company with 1 case and one with 50, both with a few states represented."""
    small, large = CompanyFactory(), CompanyFactory()
    small_cases, large_cases = open_cases(small, 1), open_cases(large, 50)
    for case in large_cases[:10]:
        services.case_deny(case=case, actor=merchant_of(large), reason="delivered_as_described", message="No.")
    for case in large_cases[10:15]:
        services.case_accept(case=case, actor=merchant_of(large))
    return (small, small_cases), (large, large_cases)


def test_resolution_center_list_queries_do_not_grow_with_cases(client, two_companies):
    """The Resolution Center runs the same few queries for a company with 1 case and with 50."""
    (small, _), (large, _) = two_companies
    counts = []
    for company in (small, large):
        client.force_login(merchant_of(company))
        counts.append(queries_for(client, reverse("merchant:cases", kwargs={"company_id": company.pk})))
    assert counts[0] == counts[1] <= MAX_QUERIES


def test_resolution_center_later_page_costs_what_the_first_does(client, two_companies, monkeypatch):
    """Following the keyset cursor to a later page, closed cases included, runs the queries of page 1."""
    monkeypatch.setattr("cases.views.merchant.PAGE_SIZE", 5)
    _, (large, _) = two_companies
    client.force_login(merchant_of(large))
    url = reverse("merchant:cases", kwargs={"company_id": large.pk}) + "?closed=on"
    first = queries_for(client, url)
    page = client.get(url).context["page"]
    for _ in range(5):  # walk to page 6
        page = client.get(f"{url}&cursor={page.next_cursor}").context["page"]
    later = queries_for(client, f"{url}&cursor={page.next_cursor}")
    assert first == later <= MAX_QUERIES


def _case_with_history(entries: int) -> Case:
    """A case whose timeline holds ``entries`` messages, alternately from each party."""
    company = CompanyFactory()
    merchant = merchant_of(company)
    (case,) = open_cases(company, 1)
    for number in range(entries):
        author = merchant if number % 2 else case.customer
        services.case_message_post(case=case, actor=author, body=f"Message {number}")
    return case


def test_merchant_case_page_queries_do_not_grow_with_the_timeline(client):
    """A case page with 1 message and one with 50 (plus their events) run the same queries."""
    counts = []
    for entries in (1, 50):
        case = _case_with_history(entries)
        client.force_login(case.company.memberships.get().user)
        url = reverse("merchant:case", kwargs={"company_id": case.company_id, "case_id": case.pk})
        counts.append(queries_for(client, url))
    assert counts[0] == counts[1] <= MAX_QUERIES


def test_merchant_case_page_with_a_refund_stays_within_the_limit(client):
    """A closed case whose timeline shows a refund still fits the limit."""
    company = CompanyFactory()
    (case,) = open_cases(company, 1)
    merchant = merchant_of(company)
    services.case_accept(case=case, actor=merchant)
    client.force_login(merchant)
    url = reverse("merchant:case", kwargs={"company_id": company.pk, "case_id": case.pk})
    assert queries_for(client, url) <= MAX_QUERIES


def test_customer_orders_queries_do_not_grow_with_payments(client):
    """'Your orders' runs the same queries for 1 payment and for 50 (a page of eligible payments,
    payments with cases, a crypto one and a refused old one)."""
    counts = []
    for size in (1, 50):
        customer = UserFactory()
        company = CompanyFactory()
        PaymentFactory.create_batch(size - 1 if size > 1 else 1, customer=customer, company=company)
        if size > 1:
            open_cases(company, 5, customer=customer)
            PaymentFactory(customer=customer, company=company, method="crypto")
            PaymentFactory(customer=customer, company=company, paid_at=timezone.now() - timedelta(days=200))
        client.force_login(customer)
        counts.append(queries_for(client, reverse("cases:orders")))
    assert counts[0] == counts[1] <= MAX_QUERIES


def test_claim_form_queries_do_not_grow_with_the_customers_payments(client):
    """The claim form costs the same for a customer with 1 payment and with 50."""
    counts = []
    for size in (1, 50):
        customer = UserFactory()
        payments = PaymentFactory.create_batch(size, customer=customer)
        client.force_login(customer)
        counts.append(queries_for(client, reverse("cases:case-open", kwargs={"payment_id": payments[0].pk})))
    assert counts[0] == counts[1] <= MAX_QUERIES


def test_reviewer_queue_queries_do_not_grow_with_waiting_cases(client):
    """The admin queue runs the same queries with 1 escalated case and with 50."""
    user = reviewer()
    client.force_login(user)
    url = reverse("admin:cases_case_changelist")
    counts = []
    for size in (1, 49):
        company = CompanyFactory()
        for case in open_cases(company, size, days_ago=10):
            assert services.case_escalate_overdue(case=case)
        counts.append(queries_for(client, url))
    assert counts[0] == counts[1] <= MAX_QUERIES


def test_filing_a_claim_costs_the_same_whatever_the_customer_already_has(client):
    """Opening a case runs the same queries for a customer with no other case and one with 50."""
    counts = []
    for earlier in (0, 50):
        customer = UserFactory()
        company = CompanyFactory()
        merchant_of(company)
        if earlier:
            open_cases(company, earlier, customer=customer, days_ago=3)
        payment = PaymentFactory(customer=customer, company=company)
        client.force_login(customer)
        url = reverse("cases:case-open", kwargs={"payment_id": payment.pk})
        data = {"reason": "not_received", "description": "It never came."}
        with CaptureQueriesContext(connection) as captured:
            response = client.post(url, data=data)
        assert response.status_code == 302
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_merchant_message_costs_the_same_on_a_long_case(client):
    """A merchant's message on a case with 1 earlier message and on one with 50 runs the same queries."""
    counts = []
    for entries in (1, 50):
        case = _case_with_history(entries)
        client.force_login(case.company.memberships.get().user)
        url = reverse("merchant:case-message", kwargs={"company_id": case.company_id, "case_id": case.pk})
        with CaptureQueriesContext(connection) as captured:
            response = client.post(url, data={"body": "We are on it."})
        assert response.status_code == 302
        counts.append(len(captured))
    assert counts[0] == counts[1]
