"""Money is formatted for display in this one place."""

from decimal import Decimal

# ISO 4217 minor units for the currencies that do not use two decimals.
MINOR_UNITS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "HUF": 2, "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3}
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}


def format_money(amount_cents: int | None, currency: str) -> str:
    if amount_cents is None:
        return ""
    digits = MINOR_UNITS.get(currency, 2)
    value = Decimal(amount_cents).scaleb(-digits)
    text = f"{value:,.{digits}f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def parse_money(text: str, currency: str) -> int:
    """'12.50' -> 1250 minor units; raises ValueError on anything else."""
    digits = MINOR_UNITS.get(currency, 2)
    value = Decimal(text.strip().replace(",", ""))
    if value < 0 or value != round(value, digits):
        raise ValueError(text)
    return int(value.scaleb(digits))
