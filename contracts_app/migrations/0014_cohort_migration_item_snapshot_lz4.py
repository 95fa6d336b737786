"""Item snapshots (a move's parked term rows, ~15 KB of JSON each) compress with lz4.

pglz compressed them at a few tens of MB/s, a measurable part of a cohort-migration batch's
database time; lz4 does it several times faster for a little more disk. A server built
without lz4 keeps pglz (the block ends quietly)."""

from django.db import migrations

FORWARD = """
DO $$
BEGIN
    ALTER TABLE contracts_app_cohortmigrationitem ALTER COLUMN snapshot SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available: item snapshots stay pglz-compressed';
END
$$;
"""
BACKWARD = (
    "ALTER TABLE contracts_app_cohortmigrationitem ALTER COLUMN snapshot SET COMPRESSION default"
)


class Migration(migrations.Migration):
    dependencies = [("contracts_app", "0013_cohort_migration_staged_rollouts")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
