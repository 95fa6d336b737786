"""Issue 19, items 1 and 4, on real Celery workers through the real Redis broker: a cancel
stops a running job at its next batch (answering at once), and a job whose workers were
SIGKILLed mid-batch moves again within 30 s on every chain it had."""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.conf import settings
from django.db.models import Count

from contracts_app.models import CohortMigration, CohortMigrationItem
from contracts_app.services.cohort_migrations import migrations_dispatch
from tests.builders.migrations import (
    assert_each_customer_moved_once,
    counts,
    create,
    wait_for,
    wait_until,
)
from tests.contracts_app.cohort_builders import (
    HeldSubscriptions,
    bulk_cohort,
    claimed_items,
    two_packages,
)
from tests.factories import api_post, user_with_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("celery")]


class HeldMidJob(HeldSubscriptions):
    """HeldSubscriptions taken while batches run: in id order, the order batches lock them in,
    so taking them never deadlocks with a batch (which would kill the batch, not the worker)."""

    def __init__(self, database_url: str, package):
        super().__init__(database_url, package, in_id_order=True)


def item_statuses(migration_id) -> dict[str, int]:
    return dict(
        CohortMigrationItem.objects.filter(migration_id=migration_id)
        .values_list("status")
        .annotate(n=Count("id"))
    )


def test_cancel_answers_at_once_and_stops_a_running_job_at_the_next_batch(workers, client):
    # given a job running on two workers, two chains of batches of 200 overlapping
    source, target = two_packages()
    bulk_cohort(source, 2000)
    batch_size, chains = 200, 2
    for _ in range(2):
        workers.start(COHORT_MIGRATION_BATCH_SIZE=str(batch_size), COHORT_MIGRATION_CHAINS="2")
    migration = create(source, target)
    wait_for(migration.id, lambda m: counts(m)["migrated"] >= 2 * batch_size, timeout=120)
    token = user_with_token(
        "contracts_app.view_cohortmigration", "contracts_app.change_cohortmigration"
    )[1]

    def post(action: str):
        return api_post(
            client, token, f"/v1/packages/migrations/{action}", {"migration_id": str(migration.id)}
        )

    assert post("get").json()["data"]["status"] == "RUNNING"  # (warm: not timing first imports)

    # when it is cancelled through the API while batches are in flight
    started = time.monotonic()
    response = post("cancel")
    answered_in = time.monotonic() - started

    # then the answer comes at once, and says CANCELLED
    assert response.status_code == 200, response.content
    answer = response.json()["data"]
    assert answer["status"] == "CANCELLED"
    assert answered_in < 1.0, f"cancel took {answered_in:.2f} s"
    # with nothing left pending but the items of the batches in flight (one per chain)
    assert answer["counts"]["pending"] <= chains * batch_size, answer["counts"]
    migrated_at_cancel = answer["counts"]["migrated"]
    # and only the batches already in flight finish; every other item is CANCELLED
    wait_until(
        lambda: "PENDING" not in item_statuses(migration.id) and not claimed_items(migration.id),
        60,
        "the batches in flight to finish",
    )
    time.sleep(2)  # a chain that would go on has had time to take another batch
    statuses = item_statuses(migration.id)
    assert set(statuses) <= {"MIGRATED", "CANCELLED"}, statuses
    assert statuses["MIGRATED"] <= migrated_at_cancel + chains * batch_size, statuses
    assert statuses["CANCELLED"] >= 2000 - migrated_at_cancel - chains * batch_size, statuses
    migration = CohortMigration.objects.get(id=migration.id)
    assert migration.status == "CANCELLED"
    assert counts(migration) == {
        "total": 2000,
        "pending": 0,
        "migrated": statuses["MIGRATED"],
        "skipped": 0,
        "failed": 0,
        "cancelled": statuses["CANCELLED"],
        "reverted": 0,
        "revert_blocked": 0,
    }
    # every migrated contract moved exactly once, nothing else moved
    assert_each_customer_moved_once(source, target, statuses["MIGRATED"])


def test_workers_killed_mid_batch_are_replaced_within_30_s_on_every_chain(workers):
    # given a job on two workers (two chains, batches of 40) that has made progress
    source, target = two_packages()
    n, batch_size = 800, 40
    bulk_cohort(source, n)
    doomed = [
        workers.start(COHORT_MIGRATION_BATCH_SIZE=str(batch_size), COHORT_MIGRATION_CHAINS="2")
        for _ in range(2)
    ]
    migration = create(source, target)
    wait_for(migration.id, lambda m: counts(m)["migrated"] >= batch_size, timeout=120)
    # and both workers held mid-batch, their items claimed (their messages unacknowledged)
    held = HeldMidJob(workers.env["DATABASE_URL"], source)
    try:
        wait_until(lambda: held.waiting_backends() >= 2, 60, "both batches to block")
        assert len(claimed_items(migration.id)) == 2 * batch_size
        # two fresh workers are up, idle: nothing is queued for them
        for _ in range(2):
            workers.start(COHORT_MIGRATION_BATCH_SIZE=str(batch_size))
        migrated_at_kill = counts(CohortMigration.objects.get(id=migration.id))["migrated"]

        # when both held workers are SIGKILLed
        for process in doomed:
            os.kill(process.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        for process in doomed:
            process.wait(timeout=10)
    finally:
        held.release()

    # then the dispatcher, run at its beat interval, re-queues both chains and the job moves
    # again within 30 s of the kill
    interval = settings.CELERY_BEAT_SCHEDULE["cohort-migrations-dispatch"]["schedule"]
    requeued: list = []
    resumed_after = None
    while time.monotonic() - killed_at < 60:
        requeued += [m for m in migrations_dispatch()["requeued"] if m == migration.id]
        deadline = time.monotonic() + interval
        while time.monotonic() < deadline:
            if counts(CohortMigration.objects.get(id=migration.id))["migrated"] > migrated_at_kill:
                resumed_after = time.monotonic() - killed_at
                break
            time.sleep(0.2)
        if resumed_after is not None and len(requeued) >= 2:
            break
    assert resumed_after is not None and resumed_after <= 30, f"resumed after {resumed_after}"
    assert len(requeued) == 2, requeued  # every chain the job had, each once

    # and the job completes with every contract migrated exactly once
    migration = wait_for(migration.id, lambda m: m.status == "COMPLETED", timeout=180)
    assert counts(migration)["migrated"] == n
    assert counts(migration)["pending"] == 0
    assert item_statuses(migration.id) == {"MIGRATED": n}
    assert_each_customer_moved_once(source, target, n)
