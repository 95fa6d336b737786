import time
import uuid

import pytest
from django.db import connection

from config.api.models import WorkerHeartbeat
from config.api.tasks import worker_heartbeat


def test_the_database_is_postgresql(db):
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        assert int(cursor.fetchone()[0]) >= 150000


def test_migrations_apply_from_scratch_and_are_complete(db):
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    assert executor.migration_plan(targets) == []  # every migration applied to the fresh test DB
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id::text, name FROM packages_app_credittype WHERE id = %s",
            ["2714e483-4ff1-48e4-9e25-ac732e8f24f2"],
        )
        assert cursor.fetchone() == ("2714e483-4ff1-48e4-9e25-ac732e8f24f2", "USD (cents)")


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_sent_through_redis_and_writes_the_database(celery_worker_queue):
    # given a worker consuming its own queue
    token = uuid.uuid4().hex
    # when a task is sent through the broker
    worker_heartbeat.apply_async(args=[token], queue=celery_worker_queue)
    # then the worker's write reaches the database
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if WorkerHeartbeat.objects.filter(token=token).exists():
            break
        time.sleep(0.2)
    assert WorkerHeartbeat.objects.filter(token=token).exists()
