"""Test-harness support for the append-only timeline trigger (cases/migrations/0004).

Transactional tests (``transaction=True``, the browser tests) end with Django's ``flush``, which
empties every table — including the timeline the trigger protects. Only for that flush, and only
inside the test run, the guard is lifted and put back in the same transaction. Application code
and ``manage.py flush`` outside the tests still meet the trigger.
"""

import importlib
from contextlib import contextmanager
from unittest import mock

from django.db import connection

timeline_migration = importlib.import_module("cases.migrations.0004_timeline_append_only")
TABLE = timeline_migration.TABLE


def _guard_lifted(statements: list[str], vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [*timeline_migration.SQLITE_BACKWARD, *statements, *timeline_migration.SQLITE_FORWARD]
    if vendor == "postgresql":
        return [
            f"ALTER TABLE {TABLE} DISABLE TRIGGER cases_caseevent_no_truncate",
            *statements,
            f"ALTER TABLE {TABLE} ENABLE TRIGGER cases_caseevent_no_truncate",
        ]
    return statements


@contextmanager
def timeline_guard_lifted_for_flush():
    operations_class = type(connection.ops)
    original_sql_flush = operations_class.sql_flush

    def sql_flush(self, style, tables, *args, **kwargs):
        statements = original_sql_flush(self, style, tables, *args, **kwargs)
        if TABLE not in tables or not statements:
            return statements
        return _guard_lifted(statements, self.connection.vendor)

    with mock.patch.object(operations_class, "sql_flush", sql_flush):
        yield
