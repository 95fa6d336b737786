# The boundary function learns every frequency of config/core/billing_periods.py (DAILY and
# SEMI_ANNUAL fell back to monthly), so the one Python table and its SQL twin agree everywhere.

import importlib

from django.db import migrations

NEXT_BILLING_BOUNDARY = """
CREATE OR REPLACE FUNCTION cohort_next_billing_boundary(
    anchor timestamptz, frequency text, not_before timestamptz
) RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN frequency = 'WEEKLY' THEN
      anchor + make_interval(
        days => 7 * ceil(extract(epoch FROM not_before - anchor) / 604800.0)::int)
    WHEN frequency = 'DAILY' THEN
      anchor + make_interval(
        days => ceil(extract(epoch FROM not_before - anchor) / 86400.0)::int)
    ELSE (
      SELECT CASE WHEN b0 >= not_before THEN b0 ELSE b1 END
      FROM (
        SELECT (a + make_interval(months => k * p)) AT TIME ZONE 'UTC' AS b0,
               (a + make_interval(months => (k + 1) * p)) AT TIME ZONE 'UTC' AS b1
        FROM (
          SELECT a, p,
                 floor(((extract(year FROM n) - extract(year FROM a)) * 12
                        + extract(month FROM n) - extract(month FROM a)) / p)::int AS k
          FROM (
            SELECT anchor AT TIME ZONE 'UTC' AS a, not_before AT TIME ZONE 'UTC' AS n,
                   CASE frequency
                     WHEN 'QUARTERLY' THEN 3 WHEN 'SEMI_ANNUAL' THEN 6 WHEN 'ANNUAL' THEN 12
                     ELSE 1
                   END AS p
          ) AS given
        ) AS counted
      ) AS boundaries)
  END
$$;
"""

PREVIOUS = importlib.import_module(
    "contracts_app.migrations.0006_cohort_migrations"
).NEXT_BILLING_BOUNDARY


class Migration(migrations.Migration):
    dependencies = [
        ("contracts_app", "0011_revert_blocked_and_contract_write_stamp"),
    ]

    operations = [
        migrations.RunSQL(NEXT_BILLING_BOUNDARY, reverse_sql=PREVIOUS),
    ]
