"""Request-scoped logs: ids on every line, JSON lines on request, ids carried into tasks."""

import json
import logging
import subprocess
import sys
import time
import uuid

import pytest
import redis

from config.api.tasks import worker_heartbeat
from config.audit.context import audit_actor
from config.logs import JsonFormatter, ReadableFormatter
from tests.conftest import BASE_DIR
from tests.factories import user_with_token


@pytest.mark.django_db
def test_log_lines_of_a_request_carry_its_id_and_the_response_returns_it(client, caplog):
    _, token = user_with_token("packages_app.view_package")

    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.post(
            "/v1/packages/list",
            "[",
            "application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_X_REQUEST_ID="trace-abc-123",
        )

    assert response.status_code == 400
    assert response["X-Request-Id"] == "trace-abc-123"
    records = [r for r in caplog.records if r.name == "django.request"]
    assert records and all(r.request_id == "trace-abc-123" for r in records)
    line = ReadableFormatter().format(records[0])
    assert "[trace-abc-123] django.request: Bad Request" in line
    entry = json.loads(JsonFormatter().format(records[0]))
    assert entry["request_id"] == "trace-abc-123" and entry["level"] == "WARNING"
    assert entry["time"].endswith("Z")


def test_log_format_json_prints_one_object_per_line():
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "import logging; logging.getLogger('probe').warning('hello %s', 'there')",
        ],
        cwd=BASE_DIR,
        env={**__import__("os").environ, "LOG_FORMAT": "json"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    probe = [line for line in lines if line["logger"] == "probe"]
    assert probe == [
        {**probe[0], "level": "WARNING", "message": "hello there", "request_id": "-"}
    ], result.stderr


@pytest.mark.django_db(transaction=True)
def test_a_task_queued_by_a_request_carries_its_id_in_the_message(settings):
    # given: a queue nobody consumes, read straight from Redis
    queue = f"probe-{uuid.uuid4().hex[:8]}"
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL.replace("redis+socket://", "unix://"))

    # when: a task is queued inside a request's (here: an actor's) context
    with audit_actor(name="probe", request_id="req-42"):
        worker_heartbeat.apply_async(args=["x"], queue=queue)
    worker_heartbeat.apply_async(args=["y"], queue=queue)  # and one outside any request

    # then
    deadline = time.monotonic() + 5
    while broker.llen(queue) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    messages = [json.loads(raw) for raw in broker.lrange(queue, 0, -1)]
    broker.delete(queue)
    ids = sorted(m["headers"].get("request_id") or "none" for m in messages)
    assert ids == ["none", "req-42"]


@pytest.mark.django_db
def test_a_task_runs_under_the_request_id_that_queued_it(caplog):
    token = uuid.uuid4().hex
    with caplog.at_level(logging.INFO, logger="config.api.tasks"):
        # headers as the worker receives them from a message stamped by a request
        worker_heartbeat.apply(args=[token], headers={"request_id": "req-from-web"})
        worker_heartbeat.apply(args=[uuid.uuid4().hex], task_id="own-task-id")

    ids = [r.request_id for r in caplog.records if r.name == "config.api.tasks"]
    assert ids == ["req-from-web", "own-task-id"]
