"""A cohort migration's cohort in set-based SQL: who is in it, when each contract moves, to which
package, and why a contract is skipped (DESIGN.md §7).

One SELECT (`_judged_sql`) decides all of it. The preview aggregates it and writes nothing; the
job's plan is the same SELECT inside one `INSERT … SELECT` of the items, so a preview and the
job agree by construction. Batches re-check, under lock, what may have changed since the plan
(services.cohort_migration_batches), with the same reason codes.

Each contract's effective instant:
- AT: the instant given;
- NEXT_BILLING_PERIOD: its first usage-statement boundary on or after `not_before`, from its own
  schedule (billing anchor + k periods, computed from the anchor, month ends clamped as in
  DESIGN.md §4): the SQL function `cohort_next_billing_boundary` (migration 0006), whose Python
  twin `next_billing_boundary` the tests hold it to;
- END_OF_TERM: its own `ending_before` (open-ended contracts are skipped as OPEN_ENDED).

An edited contract (one with a ContractEdit row) holds terms its package does not; the new
contract is built from the target package only, so by default (`edited_contracts` SKIP) it is
skipped as HAS_EDITS, and moved only when MIGRATE is asked for.
"""

from __future__ import annotations

import datetime as dt
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from contracts_app.models import (
    BillingProviderConfiguration,
    CohortMigration,
    CohortMigrationItem,
    Contract,
    ContractEdit,
)
from packages_app.models import AliasAssignment, Package
from packages_app.time_offsets import add_months

Timing = CohortMigration.Timing
Reason = CohortMigrationItem.Reason

# Usage statement frequency → months per period (WEEKLY is 7 days).
FREQUENCY_MONTHS = {"MONTHLY": 1, "QUARTERLY": 3, "ANNUAL": 12}


def next_billing_boundary(
    anchor: dt.datetime, frequency: str, not_before: dt.datetime
) -> dt.datetime:
    """The first `anchor + k periods` (k any integer) on or after `not_before`."""
    if frequency == "WEEKLY":
        week = dt.timedelta(days=7)
        k = -((anchor - not_before) // week)  # ceil((not_before - anchor) / week)
        return anchor + k * week
    months = FREQUENCY_MONTHS.get(frequency, 1)
    elapsed = (not_before.year - anchor.year) * 12 + not_before.month - anchor.month
    k = elapsed // months
    boundary = add_months(anchor, k * months)
    return boundary if boundary >= not_before else add_months(anchor, (k + 1) * months)


# Its SQL twin, `cohort_next_billing_boundary(anchor, frequency, not_before)`, is created by
# migration 0006_cohort_migrations (timestamps taken to UTC wall time, so month arithmetic
# clamps at UTC month ends whatever the session's time zone).


@dataclass(frozen=True)
class CohortSpec:
    """What a migration moves, resolved (ids checked to exist): the input of preview and plan."""

    source_package_id: uuid.UUID
    timing: str
    at: dt.datetime | None = None  # AT: the instant; NEXT_BILLING_PERIOD: not_before
    target_package_id: uuid.UUID | None = None
    target_alias_name_id: int | None = None
    customer_ids: list[str] | None = None
    exclude_customer_ids: list[str] | None = None
    edited_contracts: str = CohortMigration.EditedContracts.SKIP
    now: dt.datetime = field(default_factory=timezone.now)

    @property
    def cutoff(self) -> dt.datetime:
        """Contracts ended by then are not in the cohort at all (history, not customers)."""
        return self.now if self.timing == Timing.END_OF_TERM or self.at is None else self.at


@contextmanager
def cohort_sql_session():
    """A transaction in which the cohort's SQL runs without JIT: the judged cohort is a few
    joins, CASEs and aggregates, and compiling it cost more than it saved (0.85 s of 1.0 s
    at 10k, 2.6 s per statement at 100k on a busy machine). SET LOCAL ends with the outermost
    transaction."""
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        yield


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _effective_sql(timing: str) -> str:
    if timing == Timing.AT:
        return "%(at)s::timestamptz"
    if timing == Timing.NEXT_BILLING_PERIOD:
        # A contract starting at `not_before` or later moves at its first boundary after its
        # start: its start itself is a boundary, and a move there would leave nothing behind.
        return (
            "cohort_next_billing_boundary("
            "COALESCE((c.settings -> 'usage_statement_schedule' ->> 'billing_anchor_date')"
            "::timestamptz, c.starting_at), "
            "COALESCE(c.settings -> 'usage_statement_schedule' ->> 'frequency', 'MONTHLY'), "
            "GREATEST(%(at)s::timestamptz, c.starting_at + interval '1 microsecond'))"
        )
    return "c.ending_before"


def _cohort_where(spec: CohortSpec, *, ended: bool = False) -> str:
    """The source's contracts within the customer filters still running at the cutoff (the
    cohort), or (`ended`) the live ones that ended by then."""
    where = [
        "c.package_id = %(source)s",
        "c.ending_before <= %(cutoff)s AND c.archived_at IS NULL"
        if ended
        else "(c.ending_before IS NULL OR c.ending_before > %(cutoff)s)",
    ]
    if spec.customer_ids is not None:
        where.append("c.customer_id = ANY(%(include)s::uuid[])")
    if spec.exclude_customer_ids:
        where.append("NOT (c.customer_id = ANY(%(exclude)s::uuid[]))")
    return " AND ".join(where)


def _params(spec: CohortSpec, migration_id: uuid.UUID | None) -> dict:
    return {
        "source": spec.source_package_id,
        "cutoff": spec.cutoff,
        "at": spec.at,
        "include": spec.customer_ids or [],
        "exclude": spec.exclude_customer_ids or [],
        "target": spec.target_package_id,
        "alias_name": spec.target_alias_name_id,
        "me": migration_id,
        "end_of_term": spec.timing == Timing.END_OF_TERM,
        "migrate_edited": spec.edited_contracts == CohortMigration.EditedContracts.MIGRATE,
    }


def _judged_sql(spec: CohortSpec) -> str:
    """Rows (contract_id, customer_id, starting_at, ending_before, effective_at,
    target_package_id, has_edits, reason): one per contract of the cohort, reason NULL when
    eligible. The CASE has one branch per rule of cohort_migration_rules.ELIGIBILITY_RULES, in
    its order."""
    contract = _table(Contract)
    edit = _table(ContractEdit)
    item = _table(CohortMigrationItem)
    package = _table(Package)
    assignment = _table(AliasAssignment)
    configuration = _table(BillingProviderConfiguration)
    if spec.target_package_id is not None:
        target_join = f"LEFT JOIN {package} tp ON tp.id = %(target)s"
    else:
        target_join = (
            f"LEFT JOIN LATERAL (SELECT p.* FROM {assignment} a JOIN {package} p "
            "ON p.id = a.package_id WHERE a.alias_name_id = %(alias_name)s "
            "AND a.superseded_at IS NULL AND a.starting_at <= k.effective_at "
            "AND (a.ending_before IS NULL OR a.ending_before > k.effective_at) LIMIT 1) tp ON true"
        )
    return f"""
        SELECT k.id AS contract_id, k.customer_id, k.starting_at, k.ending_before,
               k.effective_at, tp.id AS target_package_id, k.has_edits,
          CASE
            WHEN k.archived_at IS NOT NULL THEN '{Reason.CONTRACT_ARCHIVED}'
            WHEN k.effective_at IS NULL THEN '{Reason.OPEN_ENDED}'
            WHEN EXISTS (SELECT 1 FROM {item} o WHERE o.contract_id = k.id
                         AND o.status = 'PENDING' AND o.migration_id IS DISTINCT FROM %(me)s)
              THEN '{Reason.IN_OTHER_MIGRATION}'
            WHEN NOT %(end_of_term)s AND k.ending_before <= k.effective_at
              THEN '{Reason.ENDS_BEFORE_EFFECTIVE}'
            WHEN k.starting_at >= k.effective_at THEN '{Reason.STARTS_AFTER_EFFECTIVE}'
            WHEN EXISTS (SELECT 1 FROM {contract} s WHERE s.subscription_id = k.subscription_id
                         AND s.id <> k.id AND s.archived_at IS NULL
                         AND s.starting_at > k.starting_at)
              THEN '{Reason.SUCCESSOR_EXISTS}'
            WHEN k.has_edits AND NOT %(migrate_edited)s THEN '{Reason.HAS_EDITS}'
            WHEN tp.id IS NULL THEN '{Reason.TARGET_ALIAS_UNRESOLVED}'
            WHEN tp.archived_at IS NOT NULL THEN '{Reason.TARGET_ARCHIVED}'
            WHEN tp.id = k.package_id THEN '{Reason.ALREADY_ON_TARGET}'
            WHEN bc.n = 0 THEN '{Reason.NO_BILLING_CONFIGURATION}'
            WHEN bc.n > 1 THEN '{Reason.AMBIGUOUS_BILLING_CONFIGURATION}'
          END AS reason
        FROM (
          SELECT c.id, c.customer_id, c.subscription_id, c.package_id, c.starting_at,
                 c.ending_before, c.archived_at, {_effective_sql(spec.timing)} AS effective_at,
                 EXISTS (SELECT 1 FROM {edit} e WHERE e.contract_id = c.id) AS has_edits
          FROM {contract} c WHERE {_cohort_where(spec)}
          -- A fence: each contract's effective instant is computed once, not wherever the
          -- outer query names it (NEXT_BILLING_PERIOD's boundary is a subquery per call).
          OFFSET 0
        ) k
        {target_join}
        LEFT JOIN LATERAL (
          SELECT count(*) AS n FROM (
            SELECT 1 FROM {configuration} b WHERE b.customer_id = k.customer_id
              AND b.archived_at IS NULL AND b.billing_provider = tp.billing_provider
              AND (tp.delivery_method = '' OR b.delivery_method = tp.delivery_method) LIMIT 2
          ) AS matches
        ) bc ON tp.billing_provider <> ''
    """


def cohort_counts_and_sample(
    spec: CohortSpec, *, limit: int
) -> tuple[dict[str | None, int], list[dict], int]:
    """({reason or None (eligible): contracts}, up to `limit` judged contracts, eligible ones
    first, the source's contracts that ended before the effective time): one pass over the
    cohort. Each reason's first `limit` rows carry its count, so the counts and the sample
    come from the same scan (a preview at 100,000 contracts judged them twice before)."""
    contract = _table(Contract)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT ranked.*,
                   (SELECT count(*) FROM {contract} c WHERE {_cohort_where(spec, ended=True)})
                     AS ended_before_effective
            FROM (SELECT 1) AS one LEFT JOIN (
              SELECT j.*,
                     row_number() OVER (PARTITION BY j.reason
                                        ORDER BY j.customer_id, j.contract_id) AS reason_rank,
                     count(*) OVER (PARTITION BY j.reason) AS reason_total
              FROM ({_judged_sql(spec)}) j
            ) ranked ON ranked.reason_rank <= %(limit)s
            ORDER BY reason NULLS FIRST, customer_id, contract_id
            """,
            {**_params(spec, None), "limit": limit},
        )
        columns = [col.name for col in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    # An empty cohort is one row of NULLs (the LEFT JOIN), kept only for the ended count.
    ended = rows[0]["ended_before_effective"]
    rows = [row for row in rows if row["contract_id"] is not None]
    counts = {row["reason"]: row["reason_total"] for row in rows}
    hidden = ("reason_rank", "reason_total", "ended_before_effective")
    sample = [{k: v for k, v in row.items() if k not in hidden} for row in rows[:limit]]
    return counts, sample, ended


def _moves_sql(spec: CohortSpec) -> str:
    """The eligible contracts of the judged cohort with their effective instant, their end
    now, and their new contract's end (the target package's duration from the effective
    instant; NULL when open-ended)."""
    package = _table(Package)
    return f"""
        SELECT j.contract_id, j.effective_at, j.ending_before,
               j.effective_at + CASE np.duration_unit
                 WHEN 'DAYS' THEN make_interval(days => np.duration_value)
                 WHEN 'WEEKS' THEN make_interval(weeks => np.duration_value)
                 WHEN 'MONTHS' THEN make_interval(months => np.duration_value)
                 WHEN 'YEARS' THEN make_interval(years => np.duration_value)
               END AS new_ending_before
        FROM ({_judged_sql(spec)}) j JOIN {package} np ON np.id = j.target_package_id
        WHERE j.reason IS NULL
    """


# At instant p: a moved contract has left the source if it moves by then while it would still
# have run there, and its new contract runs on the target from its move to its new end.
_LEAVING_AT = """count(m.contract_id) FILTER (WHERE m.effective_at <= p.at
                AND (m.ending_before IS NULL OR m.ending_before > p.at))"""
_ARRIVING_AT = """count(m.contract_id) FILTER (WHERE m.effective_at <= p.at
                AND (m.new_ending_before IS NULL OR m.new_ending_before > p.at))"""


def cohort_moves_over_time(spec: CohortSpec, *, points: list[dt.datetime]) -> list[tuple[int, int]]:
    """At each point, (contracts the job would take off the source while they would still
    have run there, contracts the job would have on their target then): one pass over the
    judged cohort, for the preview's "after" chart. An eligible contract runs on the source
    until its effective instant instead of its end, and a new contract runs from that instant
    for the target package's duration (open-ended when it has none)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT p.at, {_LEAVING_AT}, {_ARRIVING_AT}
            FROM unnest(%(points)s::timestamptz[]) AS p(at)
            LEFT JOIN ({_moves_sql(spec)}) m ON true
            GROUP BY p.at ORDER BY p.at
            """,
            {**_params(spec, None), "points": list(points)},
        )
        return [(int(leaving), int(arriving)) for _, leaving, arriving in cursor.fetchall()]


def cohort_on_date_counts(
    spec: CohortSpec, *, target_id: uuid.UUID | None
) -> tuple[int, int, int, int]:
    """At the migration's date (`spec.at`): (contracts on the source now, on the target now,
    leaving the source by then, arriving on the target by then), in one query. "On" is
    listContractsOnPackage's covering rule: not archived, starting_at <= date < ending_before."""
    contract = _table(Contract)

    def on_package(param: str) -> str:
        return (
            f"(SELECT count(*) FROM {contract} c WHERE c.package_id = %({param})s "
            "AND c.archived_at IS NULL AND c.starting_at <= %(at)s "
            "AND (c.ending_before IS NULL OR c.ending_before > %(at)s))"
        )

    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT {on_package("source")}, {on_package("on_date_target")},
                   {_LEAVING_AT}, {_ARRIVING_AT}
            FROM (SELECT %(at)s::timestamptz AS at) AS p
            LEFT JOIN ({_moves_sql(spec)}) m ON true
            """,
            {**_params(spec, None), "on_date_target": target_id},
        )
        return tuple(int(n) for n in cursor.fetchone())


def cohort_edit_counts(spec: CohortSpec) -> dict[str | None, int]:
    """{edit kind: contracts of the cohort with at least one edit of that kind, None: contracts
    with any edit}: one aggregate (grouping sets) over the cohort's edits."""
    contract = _table(Contract)
    edit = _table(ContractEdit)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.kind, count(DISTINCT c.id) FROM {contract} c "
            f"JOIN {edit} e ON e.contract_id = c.id WHERE {_cohort_where(spec)} "
            "GROUP BY GROUPING SETS ((e.kind), ())",
            _params(spec, None),
        )
        return dict(cursor.fetchall())


def cohort_ended_before_effective(spec: CohortSpec) -> int:
    """Live (not archived) contracts of the source, within the customer filters, that ended by
    the cutoff: not in the cohort, reported so that cohort + these = the package's contracts."""
    contract = _table(Contract)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {contract} c WHERE {_cohort_where(spec, ended=True)}",
            _params(spec, None),
        )
        return cursor.fetchone()[0]


def plan_statement(spec: CohortSpec) -> str:
    """The plan as one statement (params: `_params(spec, migration_id)`): the judged cohort,
    materialised once; its items inserted; the eligible contracts another job claimed
    meanwhile (the unique index said so: ON CONFLICT dropped them) inserted as skipped; counts
    by status.

    Why so: the dropped contracts used to be found by a second statement, NOT EXISTS against
    the items just written. After a bulk load the statistics do not know the source's
    contracts (a package id they have not seen is estimated at one row), so the planner took
    that anti-join for a nested loop whose inner side walks all the job's items through the
    (migration, status, id) index for each contract: quadratic, 244 s at 100k. An anti-join
    between the two CTEs has the same trap (both estimated at one row). EXCEPT ALL is a set
    operation (hashed or sorted), never a nested loop, whatever the estimates."""
    item = _table(CohortMigrationItem)
    columns = (
        "migration_id, contract_id, customer_id, status, reason, message, effective_at, "
        "target_package_id"
    )
    return f"""
        WITH judged AS MATERIALIZED ({_judged_sql(spec)}),
        inserted AS (
          INSERT INTO {item} ({columns})
          SELECT %(me)s, j.contract_id, j.customer_id,
                 CASE WHEN j.reason IS NULL THEN 'PENDING' ELSE 'SKIPPED' END,
                 COALESCE(j.reason, ''), '', j.effective_at, j.target_package_id
          FROM judged j
          ON CONFLICT (contract_id) WHERE status = 'PENDING' DO NOTHING
          RETURNING contract_id, customer_id, status
        ),
        claimed_meanwhile AS (
          INSERT INTO {item} ({columns})
          SELECT %(me)s, lost.contract_id, lost.customer_id, 'SKIPPED',
                 '{Reason.IN_OTHER_MIGRATION}', '', NULL, NULL
          FROM (
            SELECT contract_id, customer_id FROM judged WHERE reason IS NULL
            EXCEPT ALL
            SELECT contract_id, customer_id FROM inserted WHERE status = 'PENDING'
          ) AS lost
          RETURNING status
        )
        SELECT status, count(*) FROM (
          SELECT status FROM inserted UNION ALL SELECT status FROM claimed_meanwhile
        ) AS planned GROUP BY status
    """


def cohort_plan_insert(*, migration_id: uuid.UUID, spec: CohortSpec) -> dict[str, int]:
    """Insert the migration's items in one statement; {"pending": n, "skipped": n,
    "ended_before_effective": n}."""
    with cohort_sql_session(), connection.cursor() as cursor:
        cursor.execute(plan_statement(spec), _params(spec, migration_id))
        counts = {status.lower(): n for status, n in cursor.fetchall()}
    counts.setdefault("pending", 0)
    counts.setdefault("skipped", 0)
    counts["ended_before_effective"] = cohort_ended_before_effective(spec)
    return counts


def plan_explain(*, migration_id: uuid.UUID, spec: CohortSpec) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the plan statement, for the bench when the plan is slow.
    It executes the statement: the caller rolls back."""
    with cohort_sql_session(), connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (ANALYZE, BUFFERS) " + plan_statement(spec), _params(spec, migration_id)
        )
        return "\n".join(row[0] for row in cursor.fetchall())
