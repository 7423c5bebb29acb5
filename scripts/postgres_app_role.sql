-- The application role's rights on the Resolution Center database: rows only, never the tables.
-- The tables belong to the owner role (MIGRATE_DATABASE_URL), which runs the migrations; the
-- application (DATABASE_URL) may read and write rows but cannot alter a table, so it cannot disable
-- the timeline's append-only trigger (cases/migrations/0004_timeline_append_only.py).
-- Run as the owner, connected to the app's database (docs/deploy.md, step 4); safe to run again:
--   psql "$MIGRATE_DATABASE_URL" -v app_role=resolution_app -f scripts/postgres_app_role.sql
GRANT USAGE ON SCHEMA public TO :"app_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app_role";
-- Tables and sequences that later migrations create get the same rights.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app_role";
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO :"app_role";
