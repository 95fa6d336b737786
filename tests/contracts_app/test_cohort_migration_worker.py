"""Cohort migrations on real Celery workers through the real Redis broker: a job over ~2,000
contracts in many batches, and a worker SIGKILLed mid-job."""

from __future__ import annotations

import os
import signal
import time

import pytest

from contracts_app.models import CohortMigration, CohortMigrationItem
from contracts_app.services.cohort_migrations import (
    migrations_dispatch,
)
from tests.builders.migrations import (
    assert_each_customer_moved_once,
    counts,
    create,
    wait_for,
    wait_until,
)
from tests.contracts_app import cohort_builders

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("celery")]


def test_a_real_worker_pair_migrates_two_thousand_contracts_in_many_batches(workers):
    # given ~2,000 contracts and two workers, batches of 100
    source, target = cohort_builders.two_packages()
    cohort_builders.bulk_cohort(source, 2000)
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
    source, target = cohort_builders.two_packages()
    cohort_builders.bulk_cohort(source, 600)
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


def test_sigterm_mid_batch_lets_the_batch_in_hand_finish_and_the_worker_exit_0(workers):
    # given a worker in the middle of a batch of 40 (held on the subscriptions' locks)
    source, target = cohort_builders.two_packages()
    cohort_builders.bulk_cohort(source, 100)
    held = cohort_builders.HeldSubscriptions(workers.env["DATABASE_URL"], source)
    try:
        worker = workers.start(COHORT_MIGRATION_BATCH_SIZE="40", COHORT_MIGRATION_CHAINS="1")
        migration = create(source, target)
        wait_until(held.waiting_backends, 60, "the batch to block on the held locks")
        in_hand = cohort_builders.claimed_items(migration.id)
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
    assert (
        cohort_builders.claimed_items(migration.id) == set()
    )  # nothing left half-done for redelivery

    # and the job completes once a worker is up again: the chain's next batch waited in Redis
    workers.start(COHORT_MIGRATION_BATCH_SIZE="40", COHORT_MIGRATION_CHAINS="1")
    migration = wait_for(migration.id, lambda m: m.status == "COMPLETED", timeout=120)
    assert counts(migration)["migrated"] == 100
    assert_each_customer_moved_once(source, target, 100)
