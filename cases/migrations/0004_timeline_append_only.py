"""The timeline is append-only in the database itself, not only in CaseEvent.save()/delete().

A trigger refuses every UPDATE and DELETE on cases_caseevent (and TRUNCATE on PostgreSQL), so no
code path — a queryset .update(), a raw query, an admin bulk action, a bug — can rewrite or erase
what happened on a case. Both refusals surface in Django as IntegrityError.

On SQLite, Django alters a table by rebuilding it, which drops its triggers: a later migration that
changes cases_caseevent must create these triggers again (tests/security/test_audit_trail.py fails
if they are missing after all migrations have run).
"""

from django.db import migrations

TABLE = "cases_caseevent"
MESSAGE = "cases_caseevent is append-only: timeline events cannot be changed or deleted"

POSTGRESQL_FORWARD = [
    f"""
    CREATE OR REPLACE FUNCTION cases_caseevent_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP USING ERRCODE = 'restrict_violation';
    END;
    $$
    """,
    f"""
    CREATE TRIGGER cases_caseevent_no_update_or_delete
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION cases_caseevent_refuse_change()
    """,
    f"""
    CREATE TRIGGER cases_caseevent_no_truncate
    BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION cases_caseevent_refuse_change()
    """,
]
POSTGRESQL_BACKWARD = [
    f"DROP TRIGGER IF EXISTS cases_caseevent_no_truncate ON {TABLE}",
    f"DROP TRIGGER IF EXISTS cases_caseevent_no_update_or_delete ON {TABLE}",
    "DROP FUNCTION IF EXISTS cases_caseevent_refuse_change()",
]

SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER cases_caseevent_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE} (UPDATE refused)'); END
    """,
    f"""
    CREATE TRIGGER cases_caseevent_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE} (DELETE refused)'); END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS cases_caseevent_no_update",
    "DROP TRIGGER IF EXISTS cases_caseevent_no_delete",
]

FORWARD = {"postgresql": POSTGRESQL_FORWARD, "sqlite": SQLITE_FORWARD}
BACKWARD = {"postgresql": POSTGRESQL_BACKWARD, "sqlite": SQLITE_BACKWARD}


def _run(statements_by_vendor, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in statements_by_vendor:
        raise NotImplementedError(f"The append-only timeline trigger is not written for {vendor}.")
    for statement in statements_by_vendor[vendor]:
        # params=None: the PL/pgSQL body holds a literal % that must not be read as a placeholder.
        schema_editor.execute(statement, params=None)


def create_triggers(apps, schema_editor):
    _run(FORWARD, schema_editor)


def drop_triggers(apps, schema_editor):
    _run(BACKWARD, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0003_reviewers_group"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
