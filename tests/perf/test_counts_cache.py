"""The Resolution Center's status-tab counts and dispute rate, kept a few seconds in production's
"page_counts" cache: served from the cache while nothing changed, and exact again right after the
merchant's own action."""

import re
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import services
from tests.factories import PaymentFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the cache is cleared on commit

LOCAL_COUNTS = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "page_counts": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "test-counts"},
}


@pytest.fixture
def counts_cached():
    with override_settings(CACHES=LOCAL_COUNTS):
        caches["page_counts"].clear()
        yield
        caches["page_counts"].clear()


def open_case(company):
    now = timezone.now()
    paid = PaymentFactory(company=company, customer=UserFactory(), paid_at=now - timedelta(days=1))
    return services.case_open(customer=paid.customer, payment=paid, reason="not_received", description="Lost", now=now)


def tab_counts(client, company) -> dict[str, int]:
    text = client.get(reverse("merchant:cases", args=[company.pk])).content.decode()
    return {
        status: int(count)
        for status, count in re.findall(r'data-status="(\w+)"[^>]*>[^<]*<span class="m-count">(\d+)</span>', text)
    }


def test_tab_counts_after_merchant_accepts_are_exact_at_once(client, merchant, company, counts_cached):
    """With the counts cached, accepting a case moves it from "Awaiting you" to "Closed" on the very
    next list view, not a few seconds later."""
    first, _second = open_case(company), open_case(company)
    client.force_login(merchant)
    assert tab_counts(client, company)["open"] == 2

    response = client.post(
        reverse("merchant:case-accept", args=[company.pk, first.pk]), {"confirm": "on", "note": "Sorry."}
    )

    assert response.status_code == 302
    counts = tab_counts(client, company)
    assert counts["open"] == 1
    assert counts["final"] == 1


def test_tab_counts_are_served_from_cache_while_nothing_changed(client, merchant, company, counts_cached):
    """A second list view within the cache's lifetime shows the same counts without counting again
    (fewer queries than the first view)."""
    open_case(company)
    client.force_login(merchant)
    url = reverse("merchant:cases", args=[company.pk])

    with CaptureQueriesContext(connection) as cold:
        client.get(url)
    with CaptureQueriesContext(connection) as warm:
        text = client.get(url).content.decode()

    assert len(warm) == len(cold) - 2
    assert re.search(r'data-status="open"[^>]*>[^<]*<span class="m-count">1</span>', text)
