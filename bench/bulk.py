"""Fast bulk inserts for the dataset generator: COPY on PostgreSQL, executemany on SQLite.

Rows are plain tuples in the order of the field names given. Columns the caller does not name
(for instance a field another module adds later) are filled with the field's default, so the
generator keeps working as the models grow; a new required column without a default stops it
with a message instead of a half-loaded database.
"""

from collections.abc import Iterable, Sequence

from django.core.management.color import no_style
from django.db import connection, models
from django.db.models.fields import NOT_PROVIDED


class MissingColumnDefault(RuntimeError):
    pass


class BulkWriter:
    def __init__(self):
        self.vendor = connection.vendor
        self.counts: dict[str, int] = {}

    def _columns(self, model: type[models.Model], attnames: Sequence[str]) -> tuple[list[str], list]:
        fields = {field.attname: field for field in model._meta.concrete_fields}
        unknown = set(attnames) - set(fields)
        if unknown:
            raise ValueError(f"{model.__name__} has no fields {sorted(unknown)}")
        columns = [fields[name].column for name in attnames]
        extra_values = []
        for field in model._meta.concrete_fields:
            if field.attname in attnames or field.primary_key:
                continue
            if getattr(field, "db_default", NOT_PROVIDED) is not NOT_PROVIDED:
                continue  # the database fills it
            value = field.get_default()
            if value is None and not field.null:
                raise MissingColumnDefault(
                    f"{model._meta.db_table}.{field.column} is required and has no default: "
                    "teach bench/dataset.py to fill it."
                )
            columns.append(field.column)
            extra_values.append(field.get_db_prep_save(value, connection))
        return columns, extra_values

    def insert(self, model: type[models.Model], attnames: Sequence[str], rows: Iterable[tuple]) -> int:
        columns, extra = self._columns(model, attnames)
        table = model._meta.db_table
        quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
        extra_tuple = tuple(extra)
        count = 0
        if self.vendor == "postgresql":
            with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row + extra_tuple if extra_tuple else row)
                    count += 1
        else:
            datetime_positions = [
                index
                for index, name in enumerate(attnames)
                if isinstance(model._meta.get_field(_field_name(model, name)), models.DateTimeField)
            ]
            adapt = connection.ops.adapt_datetimefield_value
            placeholders = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})"
            batch: list[tuple] = []
            raw = connection.connection.cursor()  # a plain sqlite3 cursor: "?" placeholders, no wrapping
            for row in rows:
                if datetime_positions:
                    row = list(row)
                    for index in datetime_positions:
                        if row[index] is not None:
                            row[index] = adapt(row[index])
                    row = tuple(row)
                batch.append(row + extra_tuple if extra_tuple else row)
                if len(batch) >= 20_000:
                    raw.executemany(sql, batch)
                    count += len(batch)
                    batch.clear()
            if batch:
                raw.executemany(sql, batch)
                count += len(batch)
        self.counts[table] = self.counts.get(table, 0) + count
        return count


def _field_name(model: type[models.Model], attname: str) -> str:
    for field in model._meta.concrete_fields:
        if field.attname == attname:
            return field.name
    return attname


def next_id(model: type[models.Model]) -> int:
    """The first free primary key, so explicit ids never collide with rows already there."""
    last = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


def sequences_reset(model_list: Sequence[type[models.Model]]) -> None:
    """Explicit ids leave PostgreSQL's sequences behind; move them past the rows just written."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
