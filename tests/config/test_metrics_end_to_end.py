"""/metrics end to end: a gunicorn web process and a real Celery worker share one
PROMETHEUS_MULTIPROC_DIR (as under `make run`); after a provision through the API and a cohort
migration run by the worker, one scrape over HTTP carries every named series, non-zero."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import urllib.error
import urllib.request
import uuid

import pytest
from django.utils import timezone

from config.launcher import gunicorn_argv
from contracts_app.models import CohortMigration
from packages_app.services.packages import package_create
from tests.builders.migrations import AT, wait_until
from tests.conftest import (
    BASE_DIR,
    _OutputReader,
    celery_worker_argv,
    forget_queue,
    free_port,
    stop_processes,
)
from tests.contracts_app.cohort_builders import (
    HeldSubscriptions,
    bulk_cohort,
    two_packages,
)
from tests.factories import user_with_token

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("celery"),
    pytest.mark.slow,
]


def _call(url: str, token: str, body: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _value(text: str, name: str, **labels: str) -> float:
    """The value of the series `name` whose labels include `labels` (summed if several)."""
    total, found = 0.0, False
    for line in text.splitlines():
        if line.startswith("#") or not (line.startswith(name + "{") or line.startswith(name + " ")):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
            found = True
    assert found, f"no {name} {labels} in the scrape:\n{text}"
    return total


@pytest.fixture
def stack(subprocess_env, tmp_path, settings):
    """A gunicorn web process; `start_worker()` adds a worker on this test's bulk queue."""
    queue = f"test-bulk-{uuid.uuid4().hex[:8]}"
    settings.BULK_QUEUE = queue
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {**subprocess_env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    env["CELERY_BULK_QUEUE"] = queue
    port = free_port()
    processes = []

    def spawn(command: list[str], ready: str) -> subprocess.Popen:
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        processes.append(process)
        process.reader = _OutputReader(process.stdout)
        process.reader.start()
        if not process.reader.wait_for(ready, timeout=60):
            pytest.fail(f"{command[2]} did not start:\n" + "".join(process.reader.lines[-40:]))
        return process

    spawn(
        gunicorn_argv(port, 1),
        "Booting worker",
    )

    class Stack:
        url = f"http://127.0.0.1:{port}"
        bulk_queue = queue
        database_url = env["DATABASE_URL"]

        @staticmethod
        def start_worker():
            return spawn(
                celery_worker_argv(queue),
                " ready.",
            )

    yield Stack
    stop_processes(processes)
    forget_queue(queue)


def test_a_scrape_after_a_provision_and_a_migration_carries_every_named_series(stack):
    _, admin = user_with_token(superuser=True)
    _, scraper = user_with_token("metrics.view_metrics")
    source, target = two_packages()
    bulk_cohort(source, 30)
    package_create(
        created_by="tests",
        name="Starter v3",
        aliases=[{"name": "Starter next", "starting_at": timezone.now() + dt.timedelta(hours=3)}],
    )

    # a customer provisioned through the API
    status, body = _call(f"{stack.url}/v1/customers", admin, {"name": "Acme"})
    assert status == 200, body
    customer_id = json.loads(body)["data"]["id"]
    status, body = _call(
        f"{stack.url}/v1/contracts/create",
        admin,
        {
            "customer_id": customer_id,
            "starting_at": "2030-01-01T00:00:00Z",
            "package_id": str(source.id),
        },
    )
    assert status == 200, body

    # a migration created through the API waits in the bulk queue: no worker yet
    held = HeldSubscriptions(stack.database_url, source)
    try:
        status, body = _call(
            f"{stack.url}/v1/packages/migrations/create",
            admin,
            {
                "source": {"package_id": str(source.id)},
                "target": {"package_id": str(target.id)},
                "effective": {"type": "AT", "at": AT.isoformat()},
            },
        )
        assert status == 200, body
        migration_id = json.loads(body)["data"]["id"]
        status, queued = _call(f"{stack.url}/metrics", scraper)
        assert status == 200, queued
        assert _value(queued, "pricing_celery_queue_depth", queue=stack.bulk_queue) >= 1

        # the worker plans it and holds its first batch mid-way (the test holds the locks)
        stack.start_worker()
        wait_until(held.waiting_backends, 60, "the first batch")
        _, running = _call(f"{stack.url}/metrics", scraper)
        assert _value(running, "pricing_cohort_migrations", status="RUNNING") >= 1
        assert _value(running, "pricing_cohort_migration_items_pending") == 31
    finally:
        held.release()
    wait_until(
        lambda: CohortMigration.objects.get(id=migration_id).status == "COMPLETED",
        120,
        "the migration to complete",
    )

    _, text = _call(f"{stack.url}/metrics", scraper)
    route = {"route": "api-contract-create", "method": "POST", "status": "200"}
    assert _value(text, "pricing_http_requests_total", **route) == 1
    assert _value(text, "pricing_http_request_duration_seconds_count", **route) == 1
    assert _value(text, "pricing_http_request_duration_seconds_sum", **route) > 0
    assert _value(text, "pricing_db_queries_total", route="api-contract-create") > 0
    assert _value(text, "pricing_db_queries_per_request_count", route="api-migration-create") == 1
    assert (
        _value(
            text,
            "pricing_celery_tasks_total",
            task="contracts_app.tasks.migration_batch",
            outcome="succeeded",
        )
        >= 1
    )
    assert (
        _value(
            text,
            "pricing_celery_tasks_total",
            task="contracts_app.tasks.migration_start",
            outcome="succeeded",
        )
        == 1
    )
    assert _value(text, "pricing_cohort_migrations", status="COMPLETED") >= 1
    assert _value(text, "pricing_cohort_migration_items_processed_total", outcome="migrated") == 31
    assert _value(text, "pricing_cohort_migration_items_pending") == 0
    assert _value(text, "pricing_celery_queue_depth", queue=stack.bulk_queue) == 0
    assert _value(text, "pricing_alias_repoints_next_24h", kind="package") >= 1
