"""Cohort migrations on real Celery workers through the real Redis broker: a job over ~2,000
contracts in many batches, and a worker SIGKILLed mid-job."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time
import uuid

import pytest
from django.db import connection

from contracts_app.models import CohortMigration, CohortMigrationItem, Contract
from contracts_app.selectors.cohort_migrations import migration_progress
from contracts_app.services.cohort_migrations import (
    cohort_migration_create,
    migration_input,
    migrations_dispatch,
)
from tests.conftest import BASE_DIR, _OutputReader, celery_worker_argv, forget_queue
from tests.contracts_app.cohort_builders import (
    T0,
    HeldSubscriptions,
    bulk_cohort,
    claimed_items,
    two_packages,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("celery")]

AT = T0 + dt.timedelta(days=40)


class Workers:
    """Real `celery worker` processes consuming a bulk queue of this test's own."""

    def __init__(self, env: dict[str, str], queue: str):
        self.env = {**env, "CELERY_BULK_QUEUE": queue}
        self.queue = queue
        self.processes: list[subprocess.Popen] = []

    def start(self, **env: str) -> subprocess.Popen:
        process = subprocess.Popen(
            celery_worker_argv(self.queue),
            cwd=BASE_DIR,
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        reader = _OutputReader(process.stdout)
        reader.start()
        if not reader.wait_for(" ready.", timeout=60):
            process.kill()
            pytest.fail("celery worker did not start:\n" + "".join(reader.lines[-40:]))
        process.reader = reader
        self.processes.append(process)
        return process

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()


@pytest.fixture
def workers(subprocess_env, settings):
    queue = f"test-bulk-{uuid.uuid4().hex[:8]}"
    settings.BULK_QUEUE = queue
    pool = Workers(subprocess_env, queue)
    yield pool
    pool.stop()
    forget_queue(queue)


def wait_for(migration_id, condition, timeout: float = 180.0) -> CohortMigration:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        migration = CohortMigration.objects.get(id=migration_id)
        if condition(migration):
            return migration
        time.sleep(0.3)
    pytest.fail(f"timed out; migration is {CohortMigration.objects.get(id=migration_id).status}")


def counts(migration) -> dict:
    return migration_progress([migration])[migration.id]["counts"]


def assert_each_customer_moved_once(source, target, n: int):
    """Every old contract ends at t, exactly one new contract starts there in its subscription,
    linked to it; nothing overlaps (the timeline constraint) and nothing is left between."""
    assert Contract.objects.filter(package=target).count() == n
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM contracts_app_contract old
            JOIN contracts_app_contract new ON new.subscription_id = old.subscription_id
              AND new.package_id = %s AND new.starting_at = old.ending_before
              AND new.settings -> 'transition' ->> 'from_contract_id' = old.id::text
            WHERE old.package_id = %s AND old.ending_before = %s AND old.archived_at IS NULL
            """,
            [target.id, source.id, AT],
        )
        assert cursor.fetchone()[0] == n


def create(source, target) -> CohortMigration:
    return cohort_migration_create(
        data=migration_input(
            source={"package_id": source.id},
            target={"package_id": target.id},
            effective={"type": "AT", "at": AT},
        ),
        name="Starter v1 → v2",
    )


def test_a_real_worker_pair_migrates_two_thousand_contracts_in_many_batches(workers):
    # given ~2,000 contracts and two workers, batches of 100
    source, target = two_packages()
    bulk_cohort(source, 2000)
    workers.start(COHORT_MIGRATION_BATCH_SIZE="100")
    workers.start(COHORT_MIGRATION_BATCH_SIZE="100")
    # when the job is created (due now: started on commit)
    migration = create(source, target)
    # then
    migration = wait_for(migration.id, lambda m: m.status == "COMPLETED")
    assert counts(migration) == {
        "total": 2000,
        "pending": 0,
        "migrated": 2000,
        "skipped": 0,
        "failed": 0,
        "cancelled": 0,
        "reverted": 0,
        "revert_blocked": 0,
    }
    assert migration.progress.count() > 20  # the plan and one row per batch
    assert_each_customer_moved_once(source, target, 2000)


def test_a_worker_killed_mid_job_loses_nothing_and_migrates_nobody_twice(workers):
    # given a job running on one worker in batches of 40
    source, target = two_packages()
    bulk_cohort(source, 600)
    first = workers.start(COHORT_MIGRATION_BATCH_SIZE="40", COHORT_MIGRATION_CHAINS="1")
    migration = create(source, target)
    wait_for(migration.id, lambda m: counts(m)["migrated"] > 0, timeout=60)
    # when it is killed mid-job, and a new worker comes up
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    progress = counts(CohortMigration.objects.get(id=migration.id))
    assert progress["pending"] > 0
    workers.start(COHORT_MIGRATION_BATCH_SIZE="40")
    # the beat dispatcher revives the chain that died with the worker once its lease runs out
    wait_until(
        lambda: migration.id in migrations_dispatch()["requeued"], 30, "the chain to be revived"
    )
    # then
    migration = wait_for(migration.id, lambda m: m.status == "COMPLETED")
    assert counts(migration)["migrated"] == 600
    assert counts(migration)["pending"] == 0
    assert (
        not CohortMigrationItem.objects.filter(migration=migration)
        .exclude(status="MIGRATED")
        .exists()
    )
    assert_each_customer_moved_once(source, target, 600)


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def test_sigterm_mid_batch_lets_the_batch_in_hand_finish_and_the_worker_exit_0(workers):
    # given a worker in the middle of a batch of 40 (held on the subscriptions' locks)
    source, target = two_packages()
    bulk_cohort(source, 100)
    held = HeldSubscriptions(workers.env["DATABASE_URL"], source)
    try:
        worker = workers.start(COHORT_MIGRATION_BATCH_SIZE="40", COHORT_MIGRATION_CHAINS="1")
        migration = create(source, target)
        wait_until(held.waiting_backends, 60, "the batch to block on the held locks")
        in_hand = claimed_items(migration.id)
        assert len(in_hand) == 40

        # when the worker is asked to stop (SIGTERM: what `make run`, systemd and docker send)
        worker.send_signal(signal.SIGTERM)
        assert worker.reader.wait_for("Warm shutdown", timeout=10), "".join(worker.reader.lines)
        time.sleep(0.5)
        assert worker.poll() is None  # still finishing the batch in hand
        held.release()

        # then the batch in hand finishes and the worker exits 0, taking no further batch
        assert worker.wait(timeout=30) == 0, "".join(worker.reader.lines[-40:])
    finally:
        held.release()
    items = CohortMigrationItem.objects.filter(migration_id=migration.id)
    assert set(items.filter(status="MIGRATED").values_list("id", flat=True)) == in_hand
    assert items.filter(status="PENDING").count() == 60
    assert claimed_items(migration.id) == set()  # nothing left half-done for redelivery

    # and the job completes once a worker is up again: the chain's next batch waited in Redis
    workers.start(COHORT_MIGRATION_BATCH_SIZE="40", COHORT_MIGRATION_CHAINS="1")
    migration = wait_for(migration.id, lambda m: m.status == "COMPLETED", timeout=120)
    assert counts(migration)["migrated"] == 100
    assert_each_customer_moved_once(source, target, 100)
