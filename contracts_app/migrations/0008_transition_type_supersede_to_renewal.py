"""Cohort migrations wrote transition links of type SUPERSEDE, a value Metronome's API (and the
official SDK in strict mode) does not have: RENEWAL is its one transition type. Rewrite the
stored links (a contract's `transition` and `transitions[]`, and the same in the settings a
migration item keeps for its revert) to RENEWAL. The kind of move stays on the job
(CohortMigration.timing). Not reversible: which links were SUPERSEDE is not kept."""

from django.db import migrations


def _renewed(settings: str) -> str:
    """SQL: the jsonb `settings` with each SUPERSEDE transition type made RENEWAL."""
    return f"""
    {settings}
    || CASE WHEN {settings} -> 'transition' ->> 'type' = 'SUPERSEDE'
       THEN jsonb_build_object(
           'transition', jsonb_set({settings} -> 'transition', '{{type}}', '"RENEWAL"'))
       ELSE '{{}}'::jsonb END
    || CASE WHEN jsonb_typeof({settings} -> 'transitions') = 'array'
       THEN jsonb_build_object('transitions', (
           SELECT coalesce(jsonb_agg(
               CASE WHEN link ->> 'type' = 'SUPERSEDE'
               THEN jsonb_set(link, '{{type}}', '"RENEWAL"') ELSE link END ORDER BY n),
               '[]'::jsonb)
           FROM jsonb_array_elements({settings} -> 'transitions') WITH ORDINALITY AS l(link, n)))
       ELSE '{{}}'::jsonb END"""


def _superseded(settings: str) -> str:
    return (
        f"({settings} -> 'transition' ->> 'type' = 'SUPERSEDE'"
        f" OR {settings} -> 'transitions' @> '[{{\"type\": \"SUPERSEDE\"}}]')"
    )


_SNAPSHOT_SETTINGS = "(snapshot -> 'settings')"

REWRITE_SQL = [
    f"UPDATE contracts_app_contract SET settings = {_renewed('settings')} "
    f"WHERE {_superseded('settings')}",
    "UPDATE contracts_app_cohortmigrationitem "
    f"SET snapshot = jsonb_set(snapshot, '{{settings}}', {_renewed(_SNAPSHOT_SETTINGS)}) "
    f"WHERE {_superseded(_SNAPSHOT_SETTINGS)}",
]


class Migration(migrations.Migration):
    dependencies = [
        ("contracts_app", "0007_cohort_migration_edited_contracts"),
    ]

    operations = [
        migrations.RunSQL(sql=REWRITE_SQL, reverse_sql=migrations.RunSQL.noop, elidable=True),
    ]
