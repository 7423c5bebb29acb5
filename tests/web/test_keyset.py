"""Keyset pagination of the merchant's lists: every row exactly once, in order, across pages, with
ties on the deadline, cases without a deadline, and cursors that were tampered with."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import services
from cases.models import Case
from cases.selectors import (
    CASE_SORT,
    PAYMENT_SORT,
    CaseFilters,
    InvalidCursor,
    case_list_for_merchant,
    case_page_for_merchant,
    cursor_encode,
    keyset_page,
    payment_page_for_merchant,
)
from payments.models import Payment
from tests.factories import CompanyFactory, PaymentFactory, UserFactory, merchant_of

pytestmark = pytest.mark.django_db


def _cases_with_tied_deadlines(company, *, now):
    """Nine active cases: three share one deadline, two share another, two have none (escalated),
    and the rest are spread out; returned in the order the list must show them."""
    opened_at = [
        now - timedelta(days=3),
        now - timedelta(days=3),
        now - timedelta(days=3),
        now - timedelta(days=2),
        now - timedelta(days=2),
        now - timedelta(days=1),
        now - timedelta(hours=5),
        now - timedelta(days=20),
        now - timedelta(days=19),
    ]
    cases = []
    for moment in opened_at:
        payment = PaymentFactory(company=company, customer=UserFactory(), paid_at=moment - timedelta(days=1))
        cases.append(
            services.case_open(
                customer=payment.customer, payment=payment, reason="not_received", description="x", now=moment
            )
        )
    # The two oldest are escalated: no deadline, so they sort last.
    for case in cases[-2:]:
        assert services.case_escalate_overdue(case=case, now=now)
    return list(case_list_for_merchant(company_id=company.pk, filters=CaseFilters()))


def _walk(fetch, size: int) -> tuple[list[int], list[str | None]]:
    ids, cursors, cursor = [], [], None
    for _ in range(100):
        page = fetch(cursor, size)
        ids.extend(row.pk for row in page.rows)
        cursors.append(page.next_cursor)
        cursor = page.next_cursor
        if cursor is None:
            return ids, cursors
    raise AssertionError("pagination never ended")


@pytest.mark.parametrize("size", [1, 2, 3, 4, 8, 9, 50])
def test_keyset_cases_walk_every_row_once_in_deadline_order(size):
    """Walking the Resolution Center list page by page shows every case exactly once, in the
    nearest-deadline order (ties broken by id, cases without a deadline last), whatever the
    page size."""
    company = CompanyFactory()
    now = timezone.now()
    expected = _cases_with_tied_deadlines(company, now=now)
    deadlines = [case.next_deadline_at for case in expected]
    assert deadlines.count(deadlines[0]) == 3  # real ties on the deadline
    assert deadlines[-2:] == [None, None]

    ids, _ = _walk(
        lambda cursor, n: case_page_for_merchant(company_id=company.pk, filters=CaseFilters(), cursor=cursor, size=n),
        size,
    )

    assert ids == [case.pk for case in expected]
    assert len(set(ids)) == len(ids) == 9


def test_keyset_cases_order_is_deadline_then_id_with_nulls_last():
    """The list order itself: ascending deadline, equal deadlines by id, no deadline at the end."""
    company = CompanyFactory()
    ordered = _cases_with_tied_deadlines(company, now=timezone.now())
    keys = [(case.next_deadline_at is None, case.next_deadline_at or timezone.now(), case.pk) for case in ordered]
    assert keys == sorted(keys)


def test_keyset_cases_previous_pages_mirror_next_pages():
    """Going back with "Previous" from the last page returns the same pages, in the same order."""
    company = CompanyFactory()
    expected = [case.pk for case in _cases_with_tied_deadlines(company, now=timezone.now())]

    def fetch(cursor):
        return case_page_for_merchant(company_id=company.pk, filters=CaseFilters(), cursor=cursor, size=2)

    forward, page = [], fetch(None)
    forward.append([c.pk for c in page.rows])
    while page.next_cursor:
        page = fetch(page.next_cursor)
        forward.append([c.pk for c in page.rows])
    backward = [[c.pk for c in page.rows]]
    while page.prev_cursor:
        page = fetch(page.prev_cursor)
        backward.append([c.pk for c in page.rows])

    assert [pk for chunk in forward for pk in chunk] == expected
    assert backward == list(reversed(forward))
    assert page.is_first


def test_keyset_page_uses_no_offset_and_one_query():
    """A page is one query that starts from the cursor's position (WHERE on the sort keys), never
    OFFSET, so a late page costs what the first does."""
    company = CompanyFactory()
    _cases_with_tied_deadlines(company, now=timezone.now())
    first = case_page_for_merchant(company_id=company.pk, filters=CaseFilters(), cursor=None, size=4)

    with CaptureQueriesContext(connection) as queries:
        case_page_for_merchant(company_id=company.pk, filters=CaseFilters(), cursor=first.next_cursor, size=4)

    assert len(queries) == 1
    assert "OFFSET" not in queries[0]["sql"].upper()


def test_keyset_row_moved_between_pages_is_not_shown_twice():
    """A case answered while the merchant reads page 1 (its deadline changes) does not push
    another case off page 2: the cursor is a position, not a count of rows."""
    company = CompanyFactory()
    now = timezone.now()
    ordered = _cases_with_tied_deadlines(company, now=now)
    first = case_page_for_merchant(company_id=company.pk, filters=CaseFilters(), cursor=None, size=3)
    # The first case on page 1 gets a later deadline (the merchant asked for more information).
    services.case_request_info(case=ordered[0], actor=merchant_of(company), message="Photo?", now=now)
    rest, _ = _walk(
        lambda cursor, n: case_page_for_merchant(
            company_id=company.pk, filters=CaseFilters(), cursor=cursor or first.next_cursor, size=n
        ),
        3,
    )
    assert set(rest).isdisjoint({c.pk for c in first.rows} - {ordered[0].pk})
    assert {c.pk for c in ordered[3:]} <= set(rest)


def test_keyset_payments_walk_every_row_once_newest_first():
    """The Payments tab walks all payments once, newest first, including payments made at the
    very same moment (ties broken by id)."""
    company = CompanyFactory()
    moment = timezone.now() - timedelta(days=1)
    for offset in [0, 0, 0, 1, 2, 2, 5]:
        PaymentFactory(company=company, paid_at=moment - timedelta(hours=offset))
    PaymentFactory()  # another company's payment never appears
    expected = list(Payment.objects.filter(company=company).order_by("-paid_at", "-id").values_list("pk", flat=True))

    ids, _ = _walk(
        lambda cursor, n: payment_page_for_merchant(company_id=company.pk, search="", cursor=cursor, size=n), 2
    )

    assert ids == expected


@pytest.mark.parametrize(
    "token",
    [
        "not-base64-$$$",
        "bm90IGpzb24",  # "not json"
        cursor_encode(direction="sideways", values=[None, 1]),
        cursor_encode(direction="next", values=[1]),  # wrong number of keys
        cursor_encode(direction="next", values=["yesterday", 1]),
        cursor_encode(direction="next", values=["2026-01-01T00:00:00", 1]),  # naive time
        cursor_encode(direction="next", values=[None, "1"]),
    ],
)
def test_keyset_cursor_tampered_is_refused(token):
    """A cursor that this code did not hand out raises InvalidCursor (the page answers 400)
    instead of a database error."""
    with pytest.raises(InvalidCursor):
        keyset_page(Case.objects.all(), keys=CASE_SORT, cursor=token, size=5)


def test_keyset_payment_cursor_with_null_is_refused():
    """Payment dates are never null, so a cursor claiming one is refused."""
    with pytest.raises(InvalidCursor):
        keyset_page(
            Payment.objects.all(), keys=PAYMENT_SORT, cursor=cursor_encode(direction="next", values=[None, 3]), size=5
        )
