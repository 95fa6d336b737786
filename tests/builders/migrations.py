"""Cohort-migration worker helpers shared by the worker, cancel-recovery, launcher and metrics
tests (a helper module, not a test module): real Celery workers on a bulk queue of the test's
own, and waits and checks on a running migration."""

from __future__ import annotations

import datetime as dt
import subprocess
import time
import uuid

import pytest
from django.db import connection

from contracts_app.models import CohortMigration, Contract
from contracts_app.selectors.cohort_migrations import migration_progress
from contracts_app.services import cohort_migrations as services
from tests.conftest import (
    BASE_DIR,
    _OutputReader,
    celery_worker_argv,
    forget_queue,
    stop_processes,
)
from tests.contracts_app.cohort_builders import T0

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
        stop_processes(self.processes)


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
    """A job from `source` to `target` at AT, not started here: due now, it starts on commit and
    its batches go to the real workers."""
    return services.cohort_migration_create(
        data=services.migration_input(
            source={"package_id": source.id},
            target={"package_id": target.id},
            effective={"type": "AT", "at": AT},
        ),
        name="Starter v1 → v2",
    )


def create_migration(source, target=None, *, effective=None, start=True, target_ref=None, **kwargs):
    """A job from `source` to `target` at AT (or `effective`), started at once unless `start` is
    False: batches run wherever the test runs them (in process, or on real workers)."""
    data = services.migration_input(
        source={"package_id": source.id},
        target=target_ref or {"package_id": target.id},
        effective=effective or {"type": "AT", "at": AT},
        customer_ids=kwargs.pop("customer_ids", None),
        exclude_customer_ids=kwargs.pop("exclude_customer_ids", None),
        allow_past=kwargs.pop("allow_past", False),
    )
    migration = services.cohort_migration_create(data=data, **kwargs)
    if start:
        assert services.migration_start(migration_id=migration.id)
    return migration


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def wizard_post(source, target, **overrides) -> dict:
    """The migration wizard's form asking for a preview of `source` → `target` at AT (an
    override of None leaves that field out)."""
    data = {
        "source_package": str(source.id),
        "target_package": str(target.id),
        "timing": "AT",
        "effective_at": AT.strftime("%Y-%m-%d"),
        "edited_contracts": "SKIP",
        "name": "Starter v1 → v2",
        "_action": "preview",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}
