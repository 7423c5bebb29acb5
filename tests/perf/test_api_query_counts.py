"""The API's list (the SDK's list call, which `make bench` drives) and a case's events run a fixed
number of queries whatever the page holds: 1 row and 50 rows count the same."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.credentials import api_key_create, customer_token_create
from tests.factories import CompanyFactory, UserFactory, merchant_of
from tests.perf.test_query_counts import MAX_QUERIES, open_cases

pytestmark = pytest.mark.django_db


def api_queries(client, secret: str, url: str) -> int:
    client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200, response.content
    return len(captured)


def test_api_list_queries_do_not_grow_with_cases(client):
    small, busy = CompanyFactory(), CompanyFactory()
    open_cases(small, 1)
    open_cases(busy, 50)
    small_key = api_key_create(company=small, actor=merchant_of(small), name="k", scope="write")[1]
    busy_key = api_key_create(company=busy, actor=merchant_of(busy), name="k", scope="write")[1]
    url = "/api/v1/resolution_center_cases?first=50"

    one, fifty = api_queries(client, small_key, url), api_queries(client, busy_key, url)

    assert one == fifty
    assert fifty <= MAX_QUERIES


def test_customer_token_list_queries_do_not_grow_with_cases(client):
    few, many = UserFactory(), UserFactory()
    open_cases(CompanyFactory(), 1, customer=few)
    open_cases(CompanyFactory(), 5, customer=many)
    url = "/api/v1/resolution_center_cases?first=50"

    one = api_queries(client, customer_token_create(user=few, name="t")[1], url)
    five = api_queries(client, customer_token_create(user=many, name="t")[1], url)

    assert one == five
