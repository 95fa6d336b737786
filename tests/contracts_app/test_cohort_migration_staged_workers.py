"""Staged cohort migrations (issue 22) on real Celery workers through the real Redis broker: a
canary of 5 pauses with exactly 5 moved and resume finishes; a pause mid-run stops the job
after the batches in hand (answering at once) and resume finishes it, each contract moved
once; a pause and a cancel racing while batches run end CANCELLED with nothing left pending."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection
from django.db.models import Count
from django.test import Client

from contracts_app.models import CohortMigration, CohortMigrationItem
from contracts_app.services.cohort_migrations import migrations_dispatch
from tests.builders.migrations import (
    AT,
    assert_each_customer_moved_once,
    counts,
    wait_for,
    wait_until,
)
from tests.contracts_app.cohort_builders import bulk_cohort, claimed_items, two_packages
from tests.contracts_app.staged_builders import job_events
from tests.factories import user_with_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("celery")]

BASE = "/v1/packages/migrations"


def item_statuses(migration_id) -> dict[str, int]:
    return dict(
        CohortMigrationItem.objects.filter(migration_id=migration_id)
        .values_list("status")
        .annotate(n=Count("id"))
    )


@pytest.fixture
def api():
    token = user_with_token(
        "contracts_app.view_cohortmigration",
        "contracts_app.add_cohortmigration",
        "contracts_app.change_cohortmigration",
    )[1]

    def post(action: str, body: dict, client: Client | None = None):
        return (client or Client()).post(
            f"{BASE}/{action}",
            data=json.dumps(body, default=str),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    return post


def create(api, source, target, **extra) -> str:
    response = api(
        "create",
        {
            "source": {"package_id": source.id},
            "target": {"package_id": target.id},
            "effective": {"type": "AT", "at": AT},
            **extra,
        },
    )
    assert response.status_code == 200, response.content
    return response.json()["data"]["id"]


def test_a_canary_of_five_pauses_with_exactly_five_moved_and_resume_finishes(workers, api):
    # given 60 contracts, a worker with two chains of batches of 2
    source, target = two_packages()
    bulk_cohort(source, 60)
    workers.start(COHORT_MIGRATION_BATCH_SIZE="2", COHORT_MIGRATION_CHAINS="2")
    # when a job with a canary of 5 is created
    migration_id = create(api, source, target, canary={"count": 5})
    # then it pauses with exactly 5 moved
    migration = wait_for(migration_id, lambda m: m.status == "PAUSED", timeout=120)
    time.sleep(2)  # a chain that would go on has had time to take another batch
    assert migrations_dispatch()["requeued"] == []  # beat never resumes it
    time.sleep(1)
    assert item_statuses(migration_id) == {"MIGRATED": 5, "PENDING": 55}
    got = api("get", {"migration_id": migration_id}).json()["data"]
    assert got["status"] == "PAUSED"
    assert got["canary"] == {"count": 5} and got["canary_open"] is False
    assert got["counts"]["migrated"] == 5 and got["counts"]["pending"] == 55
    # when resumed
    resumed = api("resume", {"migration_id": migration_id})
    assert resumed.status_code == 200, resumed.content
    assert resumed.json()["data"]["status"] == "RUNNING"
    # then it finishes, every contract moved once
    migration = wait_for(migration_id, lambda m: m.status == "COMPLETED", timeout=180)
    assert item_statuses(migration_id) == {"MIGRATED": 60}
    assert_each_customer_moved_once(source, target, 60)
    assert [t for t, _ in job_events(migration)] == [
        "cohort_migration.started",
        "cohort_migration.paused",
        "cohort_migration.resumed",
        "cohort_migration.completed",
    ]


N, BATCH_SIZE, CHAINS = 1200, 100, 2


def running_on_two_workers(workers, api, *, batches_moved: int):
    """A job over N contracts on two workers, each with CHAINS chains of BATCH_SIZE batches,
    once `batches_moved` batches have moved: (source, target, migration id)."""
    source, target = two_packages()
    bulk_cohort(source, N)
    for _ in range(2):
        workers.start(
            COHORT_MIGRATION_BATCH_SIZE=str(BATCH_SIZE), COHORT_MIGRATION_CHAINS=str(CHAINS)
        )
    migration_id = create(api, source, target)
    wait_for(
        migration_id, lambda m: counts(m)["migrated"] >= batches_moved * BATCH_SIZE, timeout=120
    )
    return source, target, migration_id


def test_a_pause_mid_run_stops_after_the_batches_in_hand_and_resume_finishes(workers, api):
    # given a job running on two workers, two chains of batches of 100
    n, batch_size, chains = N, BATCH_SIZE, CHAINS
    source, target, migration_id = running_on_two_workers(workers, api, batches_moved=2)
    assert api("get", {"migration_id": migration_id}).json()["data"]["status"] == "RUNNING"
    # when paused through the API while batches are in flight
    started = time.monotonic()
    response = api("pause", {"migration_id": migration_id})
    answered_in = time.monotonic() - started
    # then the answer comes at once and says PAUSED
    assert response.status_code == 200, response.content
    answer = response.json()["data"]
    assert answer["status"] == "PAUSED"
    assert answered_in < 1.0, f"pause took {answered_in:.2f} s"
    migrated_at_pause = answer["counts"]["migrated"]
    # and only the batches in hand finish; the rest stays PENDING, nothing is cancelled
    wait_until(lambda: not claimed_items(migration_id), 60, "the batches in flight to finish")
    time.sleep(2)
    assert migrations_dispatch()["requeued"] == []
    time.sleep(1)
    statuses = item_statuses(migration_id)
    assert set(statuses) == {"MIGRATED", "PENDING"}, statuses
    assert statuses["MIGRATED"] <= migrated_at_pause + chains * batch_size, statuses
    assert CohortMigration.objects.get(id=migration_id).status == "PAUSED"
    # when resumed
    assert api("resume", {"migration_id": migration_id}).status_code == 200
    # then it completes, every contract moved exactly once
    migration = wait_for(migration_id, lambda m: m.status == "COMPLETED", timeout=240)
    assert item_statuses(migration_id) == {"MIGRATED": n}
    assert counts(migration)["pending"] == 0 and counts(migration)["migrated"] == n
    assert_each_customer_moved_once(source, target, n)


def test_a_pause_and_a_cancel_racing_while_batches_run_end_cancelled(workers, api):
    # given a job running on two workers
    n, batch_size, chains = N, BATCH_SIZE, CHAINS
    source, target, migration_id = running_on_two_workers(workers, api, batches_moved=1)
    # when a pause and a cancel are sent at the same time
    answers: dict[str, int] = {}
    gate = threading.Barrier(2)

    def send(action: str):
        try:
            gate.wait()
            answers[action] = api(action, {"migration_id": migration_id}).status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(action,)) for action in ("pause", "cancel")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # then the cancel wins either way (a paused job can be cancelled; a cancelled one not paused)
    assert answers["cancel"] == 200, answers
    assert answers["pause"] in (200, 400), answers
    wait_until(
        lambda: "PENDING" not in item_statuses(migration_id) and not claimed_items(migration_id),
        60,
        "the batches in flight to finish",
    )
    time.sleep(2)
    migrations_dispatch()
    statuses = item_statuses(migration_id)
    assert set(statuses) <= {"MIGRATED", "CANCELLED"}, statuses
    migration = CohortMigration.objects.get(id=migration_id)
    assert migration.status == "CANCELLED"
    assert counts(migration)["pending"] == 0
    assert counts(migration)["migrated"] == statuses["MIGRATED"]
    assert statuses["MIGRATED"] < n - chains * batch_size
    assert_each_customer_moved_once(source, target, statuses["MIGRATED"])
