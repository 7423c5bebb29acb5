"""Money and time for display, each formatted in this one place.

Money is integer minor units plus an ISO 4217 code; times are aware datetimes shown in the reader's
zone (the request's active zone on pages, the recipient's zone in emails, UTC in a refusal that
may be read anywhere).
"""

import zoneinfo
from datetime import UTC, datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.dateformat import format as date_format

# ISO 4217 minor units for the currencies that do not use two decimals.
MINOR_UNITS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "HUF": 2, "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3}
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}

# The formats the pages use (Django's date-filter syntax).
DATE = "j M Y"
DATE_TIME = "j M Y, H:i T"
ISO = "c"
# Admin's own style (zero-padded day), as its change lists show dates.
ADMIN_DATE_TIME = "d M Y, H:i T"


def minor_units_to_decimal(amount_cents: int, currency: str) -> Decimal:
    """1250 USD minor units -> Decimal('12.50')."""
    return Decimal(amount_cents).scaleb(-MINOR_UNITS.get(currency, 2))


def format_money(amount_cents: int | None, currency: str) -> str:
    if amount_cents is None:
        return ""
    digits = MINOR_UNITS.get(currency, 2)
    text = f"{minor_units_to_decimal(amount_cents, currency):,.{digits}f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def parse_money(text: str, currency: str) -> int:
    """'12.50' -> 1250 minor units; raises ValueError on anything else."""
    digits = MINOR_UNITS.get(currency, 2)
    value = Decimal(text.strip().replace(",", ""))
    if value < 0 or value != round(value, digits):
        raise ValueError(text)
    return int(value.scaleb(digits))


def format_local(value: datetime | None, fmt: str = DATE_TIME, tz: zoneinfo.ZoneInfo | None = None) -> str:
    """``value`` in ``tz`` (default: the current time zone) like the template's date filter; "" for None."""
    return date_format(timezone.localtime(value, tz), fmt) if value else ""


def format_deadline_utc(value: datetime) -> str:
    """For refusals, which may be read in any zone: '05 Dec 2026 at 14:00 UTC'."""
    return f"{value.astimezone(UTC):%d %b %Y at %H:%M} UTC"


def format_deadline_for_email(value: datetime | None, tz: zoneinfo.ZoneInfo) -> str:
    """The absolute deadline in a recipient's own zone: 'Saturday 5 December 2026, 14:00 CET (Europe/Berlin)'."""
    if value is None:
        return ""
    local = value.astimezone(tz)
    zone = local.tzname() or tz.key
    where = "" if zone == tz.key else f" ({tz.key})"
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} {zone}{where}"


# The largest value of a 64-bit signed integer column (every id and amount the project stores).
BIGINT_MAX = 2**63 - 1


def parse_row_id(text: str) -> int | None:
    """A row id as a person types it ("42"): ASCII digits only, at most a bigint; None for anything
    else. (``str.isdigit()`` also accepts "²" and "٣", and a number past 64 bits overflows SQLite.)"""
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= BIGINT_MAX else None
