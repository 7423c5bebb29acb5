"""`manage.py migrate`, connected as the role that owns the tables when settings.MIGRATE_DATABASE
is set (the production settings read it from MIGRATE_DATABASE_URL).

The application itself connects (DATABASE_URL) as a role that may only read and write rows, so it
can never alter a table or disable the timeline's append-only trigger; only migrations, run once
per deploy, need the owner. Without MIGRATE_DATABASE (development, the tests, a single-role
install) this is Django's own migrate, unchanged.
"""

from django.conf import settings
from django.core.management.commands import migrate
from django.db import DEFAULT_DB_ALIAS, connections

# The parts of a database URL that say who connects and where; the rest (engine options, the
# test database's settings) stays the application's.
OWNER_KEYS = ("NAME", "USER", "PASSWORD", "HOST", "PORT")


class Command(migrate.Command):
    help = migrate.Command.help + " Connects as MIGRATE_DATABASE_URL's role (the tables' owner) when it is set."

    def handle(self, *args, **options):
        owner = getattr(settings, "MIGRATE_DATABASE", None)
        if not owner or options["database"] != DEFAULT_DB_ALIAS:
            return super().handle(*args, **options)
        connection = connections[DEFAULT_DB_ALIAS]
        saved = {key: connection.settings_dict.get(key) for key in OWNER_KEYS}
        connection.close()
        connection.settings_dict.update({key: owner.get(key, "") for key in OWNER_KEYS})
        try:
            return super().handle(*args, **options)
        finally:
            connection.close()
            connection.settings_dict.update(saved)
