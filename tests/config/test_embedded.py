"""The embedded servers' lifecycle: holders of PostgreSQL, race-free Redis restarts, old data kept.

Each test uses its own ./var (PRICING_VAR_DIR) in a short temporary folder, so nothing here touches
the development servers; the subprocesses import config.embedded exactly as `make run` does.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import BASE_DIR

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("embedded")]

HOLD = """
import sys
from config import embedded
embedded.ensure_postgres()
print(embedded.PG_DATA_DIR, flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def var_dir():
    # Unix socket paths are limited to ~107 bytes: keep the folder short.
    with tempfile.TemporaryDirectory(prefix="emb-", dir="/tmp") as folder:
        yield Path(folder) / "var"


def _env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["PRICING_VAR_DIR"] = str(var_dir)
    return env


def _postmaster_running(var_dir: Path) -> bool:
    pid_file = var_dir / "postgres18" / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().splitlines()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def start_holder(var_dir) -> subprocess.Popen:
    """A process holding the embedded PostgreSQL (what `make run` is): it prints the server's
    folder once it holds it, and lets go when a line arrives on its stdin."""
    return subprocess.Popen(
        [sys.executable, "-c", HOLD],
        cwd=BASE_DIR,
        env=_env(var_dir),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def attach_and_exit(var_dir) -> None:
    """A short-lived process (what `manage.py ...` is) attaches to the embedded PostgreSQL and
    exits."""
    subprocess.run(
        [sys.executable, "-c", "from config import embedded; embedded.ensure_postgres()"],
        cwd=BASE_DIR,
        env=_env(var_dir),
        check=True,
        timeout=60,
    )


def test_postgres_runs_while_any_holder_lives_and_stops_with_the_last(var_dir):
    # given: a long-lived holder (what `make run` is)
    holder = start_holder(var_dir)
    try:
        assert holder.stdout.readline().strip().endswith("postgres18")
        assert _postmaster_running(var_dir)

        # when: a short-lived process (`manage.py ...`) attaches and exits
        attach_and_exit(var_dir)

        # then: the server is still there for the first holder
        assert _postmaster_running(var_dir)
    finally:
        holder.communicate("\n", timeout=60)

    # and when the last holder exits, the server has stopped (waited for, not just signalled)
    assert holder.returncode == 0
    assert not _postmaster_running(var_dir)
    assert list((var_dir / "postgres18.holders").iterdir()) == []


def test_a_killed_holder_does_not_keep_postgres_running_forever(var_dir):
    killed = start_holder(var_dir)
    killed.stdout.readline()
    killed.kill()  # no atexit hook runs
    killed.wait()

    attach_and_exit(var_dir)

    assert not _postmaster_running(var_dir)


def test_data_of_the_old_postgres_16_server_is_never_silently_dropped(var_dir):
    # given: ./var/pg as pgserver's PostgreSQL 16 left it
    legacy = var_dir / "pg"
    legacy.mkdir(parents=True)
    (legacy / "PG_VERSION").write_text("16\n")

    # when: make run's launcher starts
    result = subprocess.run(
        [sys.executable, "-m", "config.launcher"],
        cwd=BASE_DIR,
        env=_env(var_dir),
        capture_output=True,
        text=True,
        timeout=60,
    )

    # then: it stops with what to do, no stack trace, and the old data untouched
    assert result.returncode == 1
    assert "PostgreSQL 16" in result.stdout and "dumpdata" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert (legacy / "PG_VERSION").read_text() == "16\n"
    assert not (var_dir / "postgres18").exists()


def _embedded_with(var_dir: Path, monkeypatch):
    from config import embedded

    redis_dir = var_dir / "redis"
    monkeypatch.setattr(embedded, "REDIS_DIR", redis_dir)
    monkeypatch.setattr(embedded, "REDIS_SOCKET", redis_dir / "redis.sock")
    monkeypatch.setattr(embedded, "REDIS_LOCK", redis_dir / "lifecycle.lock")
    return embedded


def test_redis_restarted_right_after_a_stop_is_a_new_server_that_stays(var_dir, monkeypatch):
    # The `make bench` fault: the next benchmark saw the previous, dying server answer PING,
    # started none, and then had no broker at all.
    embedded = _embedded_with(var_dir, monkeypatch)
    first = embedded.start_redis()
    assert first is not None

    embedded.stop_redis(first)
    second = embedded.start_redis()
    try:
        assert first.poll() is not None
        assert second is not None
        time.sleep(0.5)
        assert embedded.redis_answers(embedded.REDIS_SOCKET)
    finally:
        embedded.stop_redis(second)
    assert not embedded.redis_answers(embedded.REDIS_SOCKET)


def test_the_migration_bench_starts_and_stops_the_broker_it_needs(var_dir, monkeypatch):
    # The README's `python -m bench.bench_migrations` on embedded defaults failed with
    # "Error 2 connecting to var/redis/redis.sock" unless something else had started Redis.
    embedded = _embedded_with(var_dir, monkeypatch)
    monkeypatch.delenv("REDIS_URL", raising=False)
    from bench.bench_migrations import broker

    with broker():
        assert embedded.redis_answers(embedded.REDIS_SOCKET)
    assert not embedded.redis_answers(embedded.REDIS_SOCKET)
