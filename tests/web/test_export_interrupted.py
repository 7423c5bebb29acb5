"""The CSV export when producing the rows fails (#11 §3, never a 500 and never a silently cut
file): before the first row the merchant gets the normal error page; after it, the file ends with
one marked "EXPORT INCOMPLETE" row and the error is logged with its traceback."""

import csv
import io
import logging
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.selectors import CSV_HEADER
from resolution_center.formatting import minor_units_to_decimal
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, merchant_of

pytestmark = pytest.mark.django_db

EXPORT_LOGGER = "cases.selectors.export"


@pytest.fixture
def company(db):
    return CompanyFactory(name="Lamp shop")


@pytest.fixture
def merchant_client(company):
    # Errors come back as the response a browser would get, not as an exception in the test.
    client = Client(raise_request_exception=False)
    client.force_login(merchant_of(company))
    return client


@pytest.fixture
def cases(company):
    """Four open cases, in the export's order (nearest deadline first)."""
    now = timezone.now()
    opened = []
    for hours_ago in (4, 3, 2, 1):
        paid = PaymentFactory(company=company, customer=UserFactory(), paid_at=now - timedelta(days=1))
        opened.append(
            services.case_open(
                customer=paid.customer,
                payment=paid,
                reason="not_received",
                description="It never came.",
                now=now - timedelta(hours=hours_ago),
            )
        )
    return sorted(opened, key=lambda case: (case.next_deadline_at, case.pk))


def export(client, company):
    return client.get(reverse("merchant:cases-export", args=[company.pk]))


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def fail_on_call(number: int):
    """minor_units_to_decimal (one call per case row) raising on its ``number``-th call, as a row
    with broken data would."""
    calls = {"count": 0}

    def amount(cents, currency):
        calls["count"] += 1
        if calls["count"] == number:
            raise ValueError("broken amount in this row")
        return minor_units_to_decimal(cents, currency)

    return amount


def test_error_mid_stream_ends_the_file_with_a_marked_row_and_is_logged(
    merchant_client, company, cases, monkeypatch, caplog
):
    monkeypatch.setattr("cases.selectors.export.minor_units_to_decimal", fail_on_call(3))

    with caplog.at_level(logging.ERROR, logger=EXPORT_LOGGER):
        response = export(merchant_client, company)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        rows = csv_rows(response)  # the stream ends normally: no exception while reading it

    assert rows[0] == CSV_HEADER
    assert [int(row[0]) for row in rows[1:3]] == [cases[0].pk, cases[1].pk]
    assert len(rows) == 4  # header, two cases, the mark
    assert rows[-1][0].startswith("EXPORT INCOMPLETE")
    assert "after 2 cases" in rows[-1][0]
    assert len(rows[-1]) == 1  # not a case row: a program can tell

    logged = [record for record in caplog.records if record.name == EXPORT_LOGGER]
    assert len(logged) == 1
    assert logged[0].levelno == logging.ERROR
    assert logged[0].exc_info and logged[0].exc_info[0] is ValueError  # with its traceback


def test_error_on_the_first_case_is_the_error_page_not_a_csv(merchant_client, company, cases, monkeypatch):
    monkeypatch.setattr("cases.selectors.export.minor_units_to_decimal", fail_on_call(1))

    response = export(merchant_client, company)

    assert response.status_code == 500
    assert not response.streaming
    assert response["Content-Type"].startswith("text/html")
    assert "Content-Disposition" not in response
    text = response.content.decode()
    assert "Something went wrong on our side" in text
    assert "Traceback" not in text and "broken amount" not in text


def test_failing_query_is_the_error_page_not_a_csv(merchant_client, company, cases, monkeypatch):
    def lost_connection(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("cases.selectors.export.case_page_for_merchant", lost_connection)

    response = export(merchant_client, company)

    assert response.status_code == 500
    assert not response.streaming
    text = response.content.decode()
    assert "Something went wrong on our side" in text
    assert "server closed the connection" not in text


def test_complete_export_has_no_mark_and_is_unchanged(merchant_client, company, cases, caplog):
    with caplog.at_level(logging.ERROR, logger=EXPORT_LOGGER):
        response = export(merchant_client, company)
        body = b"".join(response.streaming_content)

    assert response.status_code == 200
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == CSV_HEADER
    assert [int(row[0]) for row in rows[1:]] == [case.pk for case in cases]
    assert all(len(row) == len(CSV_HEADER) for row in rows)
    assert b"EXPORT INCOMPLETE" not in body
    assert not [record for record in caplog.records if record.name == EXPORT_LOGGER]


def test_export_without_cases_is_the_header_only(merchant_client, company):
    rows = csv_rows(export(merchant_client, company))
    assert rows == [CSV_HEADER]


def test_export_longer_than_one_page_has_every_case_once_in_list_order(merchant_client, company, cases, monkeypatch):
    """The export reads the list a keyset page at a time: with pages of 2, every case still comes
    once, in the list's order."""
    monkeypatch.setattr("cases.selectors.export.EXPORT_PAGE_SIZE", 2)
    body = b"".join(export(merchant_client, company).streaming_content)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert [int(row[0]) for row in rows[1:]] == [case.pk for case in cases]
