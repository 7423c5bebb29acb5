"""The path converter for row ids: ``<id:case_id>`` in every URL pattern that names a row."""

from django.urls import register_converter

from resolution_center.formatting import BIGINT_MAX


class RowIdConverter:
    """ASCII digits that fit a bigint. A longer number matches no pattern (a 404) instead of
    reaching a query: SQLite cannot bind an integer past 64 bits, and a foreign-key lookup is not
    protected by Django's own integer range check."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > BIGINT_MAX:
            raise ValueError("beyond a bigint")  # Django treats this as "no match"
        return number

    def to_url(self, value: int) -> str:
        return str(value)


def row_id_converter_register() -> None:
    register_converter(RowIdConverter, "id")
