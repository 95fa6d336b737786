"""A broker that stops answering (SIGSTOP) must not take the API down (issue 9, fault 1).

A paused redis-server still accepts TCP connections (the kernel completes the handshake), but never
answers: only socket timeouts get a client out. These tests run a throwaway redis-server of their
own, pause it, and talk to the real gunicorn command the launcher runs.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from config import launcher
from tests.conftest import BASE_DIR, free_port, run_python

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

HEALTH_CHECK_BUDGET_SECONDS = 2.0


def _get(url: str, *, token: str | None = None, timeout: float = 15) -> tuple[int, dict, float]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    return status, json.loads(body), time.monotonic() - started


@pytest.fixture
def web_on_pausable_broker(subprocess_env, pausable_redis, tmp_path):
    """The launcher's gunicorn command (one worker, its usual threads) on the pausable broker."""
    port = free_port()
    env = {**subprocess_env, "REDIS_URL": pausable_redis.url, "WEB_CONCURRENCY": "1"}
    log = (tmp_path / "web.log").open("w+")
    web = subprocess.Popen(
        launcher._children(port)["web"], cwd=BASE_DIR, env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(f"{base}/healthz", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            if web.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail("gunicorn did not start:\n" + log.read()[-3000:])
            time.sleep(0.2)
        yield base
    finally:
        web.terminate()
        try:
            web.wait(timeout=15)
        except subprocess.TimeoutExpired:
            web.kill()


def test_healthz_answers_503_naming_the_broker_quickly_while_the_api_keeps_answering(
    web_on_pausable_broker, pausable_redis
):
    from tests.factories import user_with_token

    _, token = user_with_token()
    base = web_on_pausable_broker
    # given: a broker that accepts connections but never answers
    pausable_redis.pause()

    # when: one health check on its own
    status, body, elapsed = _get(f"{base}/healthz")

    # then: it answers 503 within the budget and says the broker is the problem
    assert status == 503, body
    assert body["status"] == "unavailable"
    assert body["broker"]["state"].startswith("error"), body
    assert body["database"]["state"] == "ok", body
    # the broker check itself within the budget; the round trip too, give or take the
    # scheduling delays of a loaded test machine
    assert body["broker"]["checked_in_ms"] < HEALTH_CHECK_BUDGET_SECONDS * 1000, body
    assert elapsed < 2 * HEALTH_CHECK_BUDGET_SECONDS, elapsed
    print(
        f"\nhealthz with a stopped broker answered 503 in {elapsed:.2f} s "
        f"(broker check {body['broker']['checked_in_ms']} ms)"
    )

    # when: more health checks than gunicorn has threads, and the API called meanwhile
    threads = 4  # launcher: --threads 4
    with ThreadPoolExecutor(max_workers=threads * 2 + 1) as pool:
        checks = [pool.submit(_get, f"{base}/healthz") for _ in range(threads * 2)]
        time.sleep(0.2)
        noop = pool.submit(_get, f"{base}/v1/noop", token=token)
        noop_status, noop_body, noop_elapsed = noop.result()
        answers = [check.result() for check in checks]

    # then: every check answered 503 and the API still answered while they were in flight
    assert [answer[0] for answer in answers] == [503] * len(answers)
    assert noop_status == 200, noop_body
    assert noop_elapsed < 3 * HEALTH_CHECK_BUDGET_SECONDS, noop_elapsed
    assert max(answer[2] for answer in answers) < 3 * HEALTH_CHECK_BUDGET_SECONDS


def test_queueing_a_task_on_a_stopped_broker_gives_up_in_bounded_time(
    subprocess_env, pausable_redis
):
    """What a request that queues a task does when the broker hangs: fail, not wait forever."""
    pausable_redis.pause()
    script = (
        "import django, time; django.setup()\n"
        "from config.celery import app\n"
        "started = time.monotonic()\n"
        "try:\n"
        "    app.send_task('tests.never_run', queue='default')\n"
        "    outcome = 'sent'\n"
        "except Exception as exc:\n"
        "    outcome = type(exc).__name__\n"
        "print(outcome, round(time.monotonic() - started, 2))\n"
    )
    env = {**subprocess_env, "REDIS_URL": pausable_redis.url}
    started = time.monotonic()
    try:
        result = run_python(script, env, timeout=40)
    except subprocess.TimeoutExpired:
        pytest.fail(f"publishing still waited after {time.monotonic() - started:.0f} s")
    outcome, seconds = result.stdout.split()
    print(f"\npublish on a stopped broker: {outcome} after {seconds} s")
    assert outcome != "sent"
    assert float(seconds) < 20


def test_every_redis_client_has_socket_timeouts(settings):
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert 0 < options["socket_timeout"] <= 10
    assert 0 < options["socket_connect_timeout"] <= 10
    policy = settings.CELERY_TASK_PUBLISH_RETRY_POLICY
    assert policy["max_retries"] <= 3
