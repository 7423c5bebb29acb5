"""Item 7: the timeline cannot be rewritten, by any code path, and refused look-ups are logged."""

import io
import logging
import time

import pytest
from django.db import IntegrityError, connection, transaction

from cases.models import CaseEvent
from cases.services.settlement import REFUND_REQUESTED_NOTE, REFUND_SENT_NOTE
from payments.models import Refund
from tests.factories import PaymentFactory, UserFactory

from .conftest import png_file

pytestmark = pytest.mark.django_db


def _first_event(case) -> CaseEvent:
    return CaseEvent.objects.filter(case=case).order_by("id").first()


def _rows(case) -> list[tuple]:
    """The case's timeline as (action, from_state, to_state, actor_kind, actor_id, note), oldest first."""
    return list(
        CaseEvent.objects.filter(case=case)
        .order_by("id")
        .values_list("action", "from_state", "to_state", "actor_kind", "actor_id", "note")
    )


def test_timeline_raw_update_refused_by_database_row_unchanged(open_case, customer):
    """A raw SQL UPDATE of a timeline row fails in the database itself and the row still says the
    customer opened the case, with its note and actor untouched."""
    case = open_case()
    event = _first_event(case)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_caseevent SET note = %s, actor_kind = %s WHERE id = %s", ["forged", "system", event.pk]
        )
    assert _rows(case) == [("opened", "", "open", "customer", customer.pk, "")]


def test_timeline_raw_delete_refused_by_database_rows_unchanged(open_case, customer):
    """A raw SQL DELETE of timeline rows fails in the database and the timeline still holds
    exactly the rows it had: the customer's "opened" and the attached file."""
    case = open_case(files=[png_file("receipt.png")])
    expected = [
        ("opened", "", "open", "customer", customer.pk, ""),
        ("file", "open", "open", "customer", customer.pk, "receipt.png"),
    ]
    assert _rows(case) == expected
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_caseevent WHERE case_id = %s", [case.pk])
    assert _rows(case) == expected


def test_timeline_queryset_update_and_delete_refused_rows_unchanged(open_case, customer):
    """QuerySet.update() and .delete() skip the model's save()/delete() guards; the trigger still
    refuses both and the timeline keeps exactly its row."""
    case = open_case()
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseEvent.objects.filter(case=case).update(note="rewritten")
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseEvent.objects.filter(case=case).delete()
    assert _rows(case) == [("opened", "", "open", "customer", customer.pk, "")]


def test_timeline_full_flow_appends_exact_rows_for_each_step(open_case, customer, merchant, reviewer_user):
    """The trigger refuses changes only: as the case moves from opening through a request for
    information, the reply, a denial, the customer's appeal and the reviewer's final refund, the
    services append exactly one row per step (plus the messages and the refund), each with the
    action, the state it left and entered, and who did it."""
    from cases import services

    case = open_case()
    services.case_request_info(case=case, actor=merchant, message="Photo of the box?")
    services.case_reply(case=case, actor=customer, message="Attached.")
    services.case_deny(
        case=case, actor=merchant, reason="delivered_as_described", message="The item matches its description."
    )
    services.case_appeal(case=case, actor=customer, statement="It does not.")
    services.case_decide_appeal(case=case, actor=reviewer_user, decision="refund", note="Refund it.")
    services.refunds_send_due()  # what runs after the decision commits

    assert Refund.objects.get(case=case).status == "succeeded"
    assert _rows(case) == [
        ("opened", "", "open", "customer", customer.pk, ""),
        ("info_requested", "open", "info_requested", "merchant", merchant.pk, "Photo of the box?"),
        ("message", "info_requested", "info_requested", "merchant", merchant.pk, "Photo of the box?"),
        ("replied", "info_requested", "open", "customer", customer.pk, ""),
        ("message", "open", "open", "customer", customer.pk, "Attached."),
        # The denial notes its reason; the merchant's message is a message row (issue 12 §3).
        ("denied", "open", "denied", "merchant", merchant.pk, "Reason: Delivered as described."),
        ("appealed", "denied", "appealed", "customer", customer.pk, "It does not."),
        ("decided", "appealed", "final", "reviewer", reviewer_user.pk, "Refund it."),
        ("refund_requested", "final", "final", "system", None, REFUND_REQUESTED_NOTE),
        ("refund_issued", "final", "final", "system", None, REFUND_SENT_NOTE),
    ]


@pytest.mark.postgres
def test_timeline_truncate_on_postgres_refused_rows_unchanged(open_case, customer):
    """On PostgreSQL even TRUNCATE (which skips row triggers) is refused for the timeline table,
    and the case's row is still there."""
    case = open_case()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        # Settle the test transaction's deferred foreign-key checks, or PostgreSQL refuses the
        # TRUNCATE for that reason before the trigger gets its say.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE cases_caseevent CASCADE")
    assert _rows(case) == [("opened", "", "open", "customer", customer.pk, "")]


def test_someone_elses_case_logged_with_who_what_when(client, open_case, caplog):
    """Another customer asking for a case gets a plain 404, and the security log records who
    (their user id), what (the case id) and when (the record's time)."""
    case = open_case()
    stranger = UserFactory()
    client.force_login(stranger)
    before = time.time()
    with caplog.at_level(logging.INFO, logger="resolution_center.security"):
        response = client.get(f"/cases/{case.pk}/")
    after = time.time()
    assert response.status_code == 404
    records = [r for r in caplog.records if r.name == "resolution_center.security"]
    assert len(records) == 1
    message = records[0].getMessage()
    assert f"user={stranger.pk}" in message
    assert f"case #{case.pk}" in message
    assert before <= records[0].created <= after


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
def test_timeline_delete_in_autocommit_refused_rows_unchanged(payment, customer):
    """With committed rows and no surrounding transaction (as in production), a DELETE is still
    refused and both committed rows (the opening and the customer's email, sent once the opening
    committed) stay; the test harness's own end-of-test flush is the only thing that may empty the
    table."""
    from cases import services

    case = services.case_open(customer=customer, payment=payment, reason="not_received", description="Never came.")
    with pytest.raises(IntegrityError), connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_caseevent WHERE case_id = %s", [case.pk])
    sent = (
        f"Email sent to the customer ({customer.email}): "
        f"Case #{case.pk} ({payment.product.name}): your refund request was sent to the merchant"
    )
    assert _rows(case) == [
        ("opened", "", "open", "customer", customer.pk, ""),
        ("notification", "open", "open", "system", None, sent),
    ]
