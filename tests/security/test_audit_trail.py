"""Item 7: the timeline cannot be rewritten, by any code path, and refused look-ups are logged."""

import io
import logging

import pytest
from django.db import IntegrityError, connection, transaction

from cases.models import CaseEvent
from tests.factories import PaymentFactory, UserFactory

pytestmark = pytest.mark.django_db


def _first_event(case) -> CaseEvent:
    return CaseEvent.objects.filter(case=case).order_by("id").first()


def test_timeline_raw_update_refused_by_database(open_case):
    """A raw SQL UPDATE of a timeline row fails in the database itself and the row keeps its text."""
    event = _first_event(open_case())
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_caseevent SET note = %s, actor_kind = %s WHERE id = %s", ["forged", "system", event.pk]
        )
    event.refresh_from_db()
    assert (event.note, event.actor_kind) != ("forged", "system")


def test_timeline_raw_delete_refused_by_database(open_case):
    """A raw SQL DELETE of timeline rows fails in the database and every row is still there."""
    case = open_case()
    count = CaseEvent.objects.filter(case=case).count()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_caseevent WHERE case_id = %s", [case.pk])
    assert count > 0
    assert CaseEvent.objects.filter(case=case).count() == count


def test_timeline_queryset_update_and_delete_refused(open_case):
    """QuerySet.update() and .delete() skip the model's save()/delete() guards; the trigger still refuses."""
    case = open_case()
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseEvent.objects.filter(case=case).update(note="rewritten")
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseEvent.objects.filter(case=case).delete()
    assert not CaseEvent.objects.filter(case=case, note="rewritten").exists()
    assert CaseEvent.objects.filter(case=case).exists()


def test_timeline_append_still_allowed(open_case, merchant):
    """The trigger refuses changes only: the services keep appending events as the case moves on."""
    from cases import services

    case = open_case()
    before = CaseEvent.objects.filter(case=case).count()
    services.case_deny(case=case, actor=merchant, note="The item matches its description.")
    assert CaseEvent.objects.filter(case=case, action="denied").count() == 1
    assert CaseEvent.objects.filter(case=case).count() > before


@pytest.mark.postgres
def test_timeline_truncate_refused_on_postgres(open_case):
    """On PostgreSQL even TRUNCATE (which skips row triggers) is refused for the timeline table."""
    open_case()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        # Settle the test transaction's deferred foreign-key checks, or PostgreSQL refuses the
        # TRUNCATE for that reason before the trigger gets its say.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE cases_caseevent CASCADE")
    assert CaseEvent.objects.exists()


def test_someone_elses_case_logged_with_who_what_when(client, open_case, caplog):
    """Another customer asking for a case gets a plain 404, and the security log records who
    (their user id), what (the case id) and when (the record's time)."""
    case = open_case()
    stranger = UserFactory()
    client.force_login(stranger)
    with caplog.at_level(logging.INFO, logger="resolution_center.security"):
        response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 404
    records = [r for r in caplog.records if r.name == "resolution_center.security"]
    assert len(records) == 1
    message = records[0].getMessage()
    assert f"user={stranger.pk}" in message
    assert f"case #{case.pk}" in message
    assert records[0].created > 0


def test_security_log_reaches_the_configured_handler_with_time(client, open_case):
    """The project's logging config routes the security logger to the console handler, formatted
    with a timestamp, so the refusal is in the server's log and not only in the test's capture."""
    case = open_case()
    other_payment = PaymentFactory()
    stranger = other_payment.customer
    console = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    previous = console.setStream(stream)
    try:
        client.force_login(stranger)
        client.get(f"/cases/{case.pk}/")
    finally:
        console.setStream(previous)
    lines = [line for line in stream.getvalue().splitlines() if "resolution_center.security" in line]
    assert len(lines) == 1
    # "2026-11-27 04:31:33,651 WARNING resolution_center.security access denied: user=7 tried to reach case #3"
    date, time_of_day, level = lines[0].split()[:3]
    assert len(date) == 10 and date[4] == "-" and ":" in time_of_day
    assert level == "WARNING"
    assert f"user={stranger.pk}" in lines[0] and f"case #{case.pk}" in lines[0]


@pytest.mark.django_db(transaction=True)
def test_timeline_delete_refused_in_autocommit(payment, customer):
    """With committed rows and no surrounding transaction (as in production), a DELETE is still
    refused; the test harness's own end-of-test flush is the only thing that may empty the table."""
    from cases import services

    case = services.case_open(customer=customer, payment=payment, reason="not_received", description="Never came.")
    with pytest.raises(IntegrityError), connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_caseevent WHERE case_id = %s", [case.pk])
    assert CaseEvent.objects.filter(case=case).exists()
