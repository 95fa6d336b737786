"""Chains of cohort-migration batches and their leases (DESIGN.md §7; issue 19 item 4).

A job runs as `COHORT_MIGRATION_CHAINS` chains, each a self-requeueing batch task, one
CohortMigrationChain row each. A chain is alive while

- a batch of it runs: the batch holds the chain's row locked for its whole transaction, so no
  batch, however long, is ever taken for dead (the lease is renewed by being held); or
- its next task waits in the broker: on commit the batch leaves `expires_at` a lease ahead
  (settings.COHORT_MIGRATION_LEASE_SECONDS, the longest a task should wait for a worker).

A worker killed mid-batch rolls its transaction back, unlocking a row whose lease is already
running out; the dispatcher (beat, every few seconds) takes every unlocked expired chain of a
RUNNING or REVERTING job (`FOR UPDATE SKIP LOCKED`), bumps its token and queues it again: each
chain the job had comes back, within a lease and a beat of the death. Every task carries the
token it was queued with and each batch moves the token on, so a superseded chain's task, or a
message the broker redelivers after its visibility timeout, finds another token and does
nothing: a chain never runs twice at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from contracts_app.models import CohortMigration, CohortMigrationChain

Status = CohortMigration.Status


@dataclass(frozen=True)
class QueuedChain:
    migration_id: object
    number: int
    token: int
    revert: bool


def _lease() -> str:
    """The lease as an SQL interval literal (read at call time: tests and workers set it)."""
    return f"{int(settings.COHORT_MIGRATION_LEASE_SECONDS)} seconds"


def chains_claim(migration_id, *, chains: int, revert: bool) -> list[QueuedChain]:
    """Chains 0…chains-1 of the job with a fresh token and lease (new rows, or the ones it
    had): the chains to queue. Tasks queued before for them become no-ops."""
    table = connection.ops.quote_name(CohortMigrationChain._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (migration_id, number, token, expires_at)
            SELECT %s, n, 1, clock_timestamp() + %s::interval FROM generate_series(0, %s - 1) n
            ON CONFLICT (migration_id, number) DO UPDATE
              SET token = {table}.token + 1, expires_at = EXCLUDED.expires_at
            RETURNING number, token
            """,
            [migration_id, _lease(), chains],
        )
        rows = cursor.fetchall()
    return [QueuedChain(migration_id, number, token, revert) for number, token in rows]


def chains_expired_claim() -> list[QueuedChain]:
    """Every chain of a RUNNING or REVERTING job that died, with a fresh token and lease: its
    lease ran out and no batch holds it; or all of its job's chains ended while the job is not
    finished (its finishing step died with a worker). Plus chains for such a job that has none
    (queued before chains had leases). Two dispatchers never take the same chain."""
    table = connection.ops.quote_name(CohortMigrationChain._meta.db_table)
    jobs = connection.ops.quote_name(CohortMigration._meta.db_table)
    moving = f"('{Status.RUNNING}', '{Status.REVERTING}')"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH dead AS (
              SELECT c.id FROM {table} c JOIN {jobs} m ON m.id = c.migration_id
              WHERE m.status IN {moving}
                AND (c.expires_at < clock_timestamp()
                     OR (c.expires_at IS NULL AND NOT EXISTS (
                       SELECT 1 FROM {table} o
                       WHERE o.migration_id = c.migration_id AND o.expires_at IS NOT NULL)))
              FOR UPDATE OF c SKIP LOCKED
            )
            UPDATE {table} c SET token = c.token + 1,
              expires_at = clock_timestamp() + %s::interval
            FROM dead, {jobs} m
            WHERE c.id = dead.id AND m.id = c.migration_id
            RETURNING c.migration_id, c.number, c.token, m.status
            """,
            [_lease()],
        )
        revived = [
            QueuedChain(migration_id, number, token, status == Status.REVERTING)
            for migration_id, number, token, status in cursor.fetchall()
        ]
        without = CohortMigration.objects.filter(
            status__in=[Status.RUNNING, Status.REVERTING], chains__isnull=True
        ).values_list("id", "status")
        for migration_id, status in without:
            revived += chains_claim(
                migration_id,
                chains=settings.COHORT_MIGRATION_CHAINS,
                revert=status == Status.REVERTING,
            )
    return sorted(revived, key=lambda c: (str(c.migration_id), c.number))


# A batch's transaction, and only it (SET LOCAL):
# - work_mem large enough that the outcome statement's aggregates and the term copy's
#   materialised CTE stay in memory (4 MB, the default, spilled ~10 MB to disk per batch);
# - asynchronous commit: the batch does not wait for its WAL to reach the disk (a third of a
#   batch's database time was COMMIT). Only a PostgreSQL crash can lose such a commit, and then
#   the whole batch with its items' outcomes: they read PENDING again and the chain, whose token
#   and lease were lost with it, is revived by the dispatcher when its lease runs out — the
#   batch is redone, never half-applied. Nothing outside the database learns of a batch before
#   that: a batch records no webhook event (events_record asks for a synchronous commit where
#   one is recorded) and its next task carries a token the lost commit never reached;
# - no JIT: a batch's statements touch a few thousand rows by index, but their cost estimates
#   grow with the tables and cross jit_above_cost, and compiling took 15-50 ms per statement,
#   more than some statements ran.
BATCH_SESSION_SETTINGS = (
    "SELECT set_config('work_mem', '64MB', true), set_config('synchronous_commit', 'off', true), "
    "set_config('jit', 'off', true)"
)


def chain_batch_run(
    *, migration_id, number: int, token: int, run: Callable[..., int], batch_size: int
) -> tuple[int, int] | None:
    """One batch of chain `number` as the holder of `token`, in one transaction with its
    lease: None when the chain has another token (superseded: the task stops); else the
    number of items `run` (a batch service) claimed and the token for the chain's next task.
    A chain that claimed nothing ends (its job is done, or the other chains hold the rest)."""
    table = connection.ops.quote_name(CohortMigrationChain._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE migration_id = %s AND number = %s AND token = %s "
            "FOR NO KEY UPDATE",
            [migration_id, number, token],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        cursor.execute(BATCH_SESSION_SETTINGS)
        connection.asynchronous_commit = True  # read by events_record
        try:
            claimed = run(migration_id=migration_id, batch_size=batch_size)
        finally:
            connection.asynchronous_commit = False
        cursor.execute(
            f"UPDATE {table} SET token = token + 1, expires_at = CASE WHEN %s "
            "THEN clock_timestamp() + %s::interval END WHERE id = %s RETURNING token",
            [claimed > 0, _lease(), row[0]],
        )
        return claimed, cursor.fetchone()[0]
