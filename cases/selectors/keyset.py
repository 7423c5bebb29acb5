"""Keyset pagination: a page is the N rows after (or before) a position in the sort order."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.core import signing
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from resolution_center.formatting import BIGINT_MAX

# --- keyset pagination -------------------------------------------------------------------------
#
# A page is "the N rows after (or before) this position in the sort order", found with a WHERE
# on the sort keys instead of OFFSET: the database walks the index from the position, the cost
# does not grow with the page number, and a row inserted or moved meanwhile does not shift every
# later page by one (no row shown twice or skipped because the list changed under the reader).


class InvalidCursor(ValueError):
    """A cursor that was not made by this code (edited, truncated, or from another list)."""


@dataclass(frozen=True)
class SortKey:
    """One column of a keyset ordering. Null values sort after every other value going forward.
    The last key of an ordering must be unique (the primary key) so that positions are total.
    ``kind`` is the column's Python type (``int`` or ``datetime``): a cursor's value must be one."""

    name: str
    kind: type = int
    descending: bool = False
    nullable: bool = False

    def forward(self):
        expression = F(self.name)
        return expression.desc(nulls_last=True) if self.descending else expression.asc(nulls_last=True)

    def backward(self):
        expression = F(self.name)
        return expression.asc(nulls_first=True) if self.descending else expression.desc(nulls_first=True)

    def equal(self, value) -> Q:
        return Q(**{f"{self.name}__isnull": True}) if value is None else Q(**{self.name: value})

    def after(self, value) -> Q:
        if value is None:  # nulls come last: nothing follows a null on this key
            return Q(pk__in=[])
        beyond = Q(**{f"{self.name}__{'lt' if self.descending else 'gt'}": value})
        return beyond | Q(**{f"{self.name}__isnull": True}) if self.nullable else beyond

    def before(self, value) -> Q:
        if value is None:
            return Q(**{f"{self.name}__isnull": False})
        return Q(**{f"{self.name}__{'gt' if self.descending else 'lt'}": value})


def _keyset_condition(keys: Sequence[SortKey], values: Sequence, *, after: bool) -> Q:
    """Rows strictly after (or before) ``values``: (k1 > v1) or (k1 = v1 and k2 > v2) or ..."""
    condition = Q(pk__in=[])
    prefix = Q()
    for key, value in zip(keys, values, strict=True):
        condition |= prefix & (key.after(value) if after else key.before(value))
        prefix &= key.equal(value)
    return condition


def _encode_value(value) -> str | int | None:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _decode_value(key: SortKey, raw):
    if raw is None:
        if not key.nullable:
            raise InvalidCursor("null for a key that is never null")
        return None
    if key.kind is int:
        if not isinstance(raw, int) or isinstance(raw, bool) or not -BIGINT_MAX <= raw <= BIGINT_MAX:
            raise InvalidCursor("not a bigint")
        return raw
    if key.kind is datetime and isinstance(raw, str):
        try:
            parsed = parse_datetime(raw)
        except ValueError:
            parsed = None
        if parsed is None or timezone.is_naive(parsed):
            raise InvalidCursor("not an aware datetime")
        return parsed
    raise InvalidCursor("unexpected value type")


# Signed (HMAC with SECRET_KEY): a cursor is only ever one this code handed out, so no edited value
# reaches a query. The salt keeps these tokens from being accepted where other signed values are.
CURSOR_SALT = "cases.keyset.cursor"


def _signer() -> signing.Signer:
    return signing.Signer(salt=CURSOR_SALT)  # built per call: SECRET_KEY is read when used


def cursor_encode(*, direction: str, values: Sequence) -> str:
    """An opaque, signed, URL-safe token for a position. It only carries sort-key values, never a
    filter, so even a leaked cursor can at worst move the reader within a list they may see."""
    return _signer().sign_object([direction, [_encode_value(v) for v in values]], compress=True)


def cursor_decode(token: str, keys: Sequence[SortKey]) -> tuple[str, list]:
    """The position in ``token``; InvalidCursor for any token this code did not sign, and for a
    signed one whose values do not fit ``keys`` (a cursor of another list)."""
    try:
        payload = _signer().unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        raise InvalidCursor("unreadable or edited cursor") from None
    if not isinstance(payload, list) or len(payload) != 2:
        raise InvalidCursor("malformed cursor")
    direction, raw_values = payload
    if direction not in ("next", "prev") or not isinstance(raw_values, list) or len(raw_values) != len(keys):
        raise InvalidCursor("malformed cursor")
    return direction, [_decode_value(key, raw) for key, raw in zip(keys, raw_values, strict=True)]


@dataclass
class KeysetPage:
    rows: list
    next_cursor: str | None
    prev_cursor: str | None
    is_first: bool = field(default=True)


def keyset_page(queryset: QuerySet, *, keys: Sequence[SortKey], cursor: str | None, size: int) -> KeysetPage:
    """One page of ``queryset`` in ``keys`` order, starting at ``cursor`` (None: the first page).
    Raises InvalidCursor for a token this function did not hand out."""
    direction, values = cursor_decode(cursor, keys) if cursor else ("next", None)
    going_back = direction == "prev"
    ordered = queryset.order_by(*(key.backward() if going_back else key.forward() for key in keys))
    if values is not None:
        ordered = ordered.filter(_keyset_condition(keys, values, after=not going_back))
    rows = list(ordered[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if going_back:
        rows.reverse()

    def position(row) -> list:
        return [getattr(row, key.name) for key in keys]

    has_next = (more and not going_back) or (going_back and values is not None)
    has_prev = (values is not None and not going_back) or (more and going_back)
    next_cursor = cursor_encode(direction="next", values=position(rows[-1])) if rows and has_next else None
    prev_cursor = cursor_encode(direction="prev", values=position(rows[0])) if rows and has_prev else None
    return KeysetPage(rows=rows, next_cursor=next_cursor, prev_cursor=prev_cursor, is_first=not has_prev)
