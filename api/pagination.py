"""Keyset cursors, as Whop's lists page: ``first``/``after`` forwards, ``last``/``before``
backwards, ``page_info`` with the cursors to go on.

A cursor is the sort value and the id of a row, base64-encoded JSON: opaque to callers, stable
while rows are added (page 1,000 costs what page 1 does: the query starts at the cursor's place in
the index). ``end_cursor`` is given only when there is a next page and ``start_cursor`` only when
there is a previous one, so the SDK's pager (which goes on while ``end_cursor`` is set) stops at the
last page without asking for an empty one."""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from resolution_center.exceptions import ApplicationError

from .representation import iso

DEFAULT_PAGE = 20


class BadCursor(ApplicationError):
    pass


def cursor_encode(value: datetime | None, pk: int) -> str:
    raw = json.dumps([iso(value), pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(text: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        value, pk = json.loads(raw)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if not isinstance(pk, int) or moment.tzinfo is None:
            raise ValueError
    except (ValueError, TypeError, AttributeError, binascii.Error, UnicodeDecodeError):
        raise BadCursor("This cursor is not one this API gave out; use page_info from the previous page.") from None
    return moment, pk


@dataclass(frozen=True)
class Page:
    rows: list
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    def page_info(self) -> dict:
        return {
            "has_next_page": self.has_next_page,
            "has_previous_page": self.has_previous_page,
            "start_cursor": self.start_cursor,
            "end_cursor": self.end_cursor,
        }


def _beyond(field: str, cursor: tuple[datetime, int], descending: bool) -> Q:
    """The rows after ``cursor`` in the order (``field``, id), ascending or descending."""
    value, pk = cursor
    op = "lt" if descending else "gt"
    return Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"pk__{op}": pk})


def keyset_page(
    queryset: QuerySet,
    *,
    field: str,
    descending: bool,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Page:
    """One page of ``queryset`` ordered by (``field``, id); ``field`` must never be null."""
    after_at = cursor_decode(after) if after else None
    before_at = cursor_decode(before) if before else None
    forwards = last is None or first is not None
    size = (first if forwards else last) or DEFAULT_PAGE
    rows_q = queryset
    if after_at:
        rows_q = rows_q.filter(_beyond(field, after_at, descending))
    if before_at:
        rows_q = rows_q.filter(_beyond(field, before_at, not descending))
    order_desc = descending if forwards else not descending
    sign = "-" if order_desc else ""
    rows = list(rows_q.order_by(f"{sign}{field}", f"{sign}pk")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if forwards:
        has_next, has_previous = more, after_at is not None
    else:
        rows.reverse()
        has_next, has_previous = before_at is not None, more

    def cursor(row) -> str:
        return cursor_encode(getattr(row, field), row.pk)

    return Page(
        rows=rows,
        has_next_page=has_next,
        has_previous_page=has_previous,
        start_cursor=cursor(rows[0]) if rows and has_previous else None,
        end_cursor=cursor(rows[-1]) if rows and has_next else None,
    )
