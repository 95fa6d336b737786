"""`make run`: the whole product in the foreground (web, Celery worker, Celery beat), supervised.

Without DATABASE_URL / REDIS_URL it first starts the embedded PostgreSQL and Redis under ./var/.
A child that exits unexpectedly is restarted with exponential backoff; one that keeps dying stops
everything with a clear message. Ctrl-C (SIGINT to the process group) or SIGTERM stops every
process it started; the worker gets a warm shutdown (the batch in hand finishes).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from config import embedded

BASE_DIR = Path(__file__).resolve().parent.parent
# Web and beat stop in about a second; on a loaded 2-core machine beat has been seen to need
# more than 8 s (it was killed mid-sync in a CI run), and it holds no work, so waiting is cheap.
STOP_GRACE_SECONDS = 20
# A warm shutdown lets the worker finish the batch in hand; batches are sized to take seconds.
WORKER_STOP_GRACE_SECONDS = int(os.environ.get("WORKER_STOP_GRACE_SECONDS", "60"))
RESTART_BACKOFF_FIRST = float(os.environ.get("RESTART_BACKOFF_SECONDS", "1"))
RESTART_BACKOFF_CAP = 30.0
# A child that ran this long without dying is healthy again: its backoff starts over.
STABLE_AFTER_SECONDS = 60.0
MAX_RESTARTS = int(os.environ.get("MAX_RESTARTS", "5"))
RESTART_WINDOW_SECONDS = float(os.environ.get("RESTART_WINDOW_SECONDS", "120"))


# Children run in process groups of their own, so a Ctrl-C (SIGINT to the terminal's group)
# reaches the launcher alone and each child gets exactly one SIGTERM from it: a second signal in
# the middle of a Celery worker's warm shutdown would kill it with its batch half done. So that
# none outlives the launcher (kill -9, a closed terminal), each asks Linux for SIGTERM when its
# parent dies.
_PR_SET_PDEATHSIG = 1
_libc = (
    ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True) if sys.platform == "linux" else None
)


def _die_with_launcher() -> None:
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise Stop(signal.Signals(signum).name)


def _manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def gunicorn_argv(port: int, workers: int | str) -> list[str]:
    """The web server on 127.0.0.1:`port` with `workers` processes: `make run`, the benchmarks'
    server and the end-to-end tests' add their own options after it."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
    ]


def celery_worker_argv(queues: str) -> list[str]:
    """A Celery worker on `queues` (comma-separated): `make run` and the tests' workers add their
    own options after it."""
    return [sys.executable, "-m", "celery", "-A", "config", "worker", "--queues", queues]


def _children(port: int) -> dict[str, list[str]]:
    py = sys.executable
    return {
        "web": [
            *gunicorn_argv(port, os.environ.get("WEB_CONCURRENCY", "2")),
            "--threads",
            "4",
            "--graceful-timeout",
            "3",
            "--access-logfile",
            "-",
            "--access-logformat",
            '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s',
        ],
        "worker": [
            *celery_worker_argv(os.environ.get("CELERY_WORKER_QUEUES", "default,bulk")),
            "--concurrency",
            os.environ.get("CELERY_CONCURRENCY", "2"),
            "--loglevel",
            "INFO",
        ],
        "beat": [
            py,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(embedded.VAR_DIR / "celerybeat-schedule"),
        ],
    }


def _setup(message: str) -> None:
    print(f"[setup] {message}", flush=True)


def _log(message: str) -> None:
    print(f"[run] {message}", flush=True)


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


class GiveUp(Exception):
    pass


@dataclass
class Child:
    """One supervised process: restarted with backoff when it dies, given up on when it flaps."""

    name: str
    command: list[str]
    env: dict[str, str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    backoff: float = RESTART_BACKOFF_FIRST
    restart_due: float | None = None
    restarts: deque = field(default_factory=deque)

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command,
            cwd=BASE_DIR,
            env=self.env,
            stdin=subprocess.DEVNULL,
            process_group=0,
            preexec_fn=_die_with_launcher,
        )
        self.started_at = time.monotonic()
        self.restart_due = None

    def check(self, now: float) -> None:
        """Restart a dead child when its backoff has passed; raise GiveUp when it flaps."""
        if self.restart_due is not None:
            if now >= self.restart_due:
                self.start()
                _log(f"{self.name} restarted (pid {self.process.pid})")
            return
        if self.process is None or self.process.poll() is None:
            return
        if now - self.started_at >= STABLE_AFTER_SECONDS:
            self.backoff = RESTART_BACKOFF_FIRST
        while self.restarts and now - self.restarts[0] > RESTART_WINDOW_SECONDS:
            self.restarts.popleft()
        how = describe_exit(self.process.returncode)
        if len(self.restarts) >= MAX_RESTARTS:
            raise GiveUp(
                f"{self.name} (pid {self.process.pid}) {how} and has died {MAX_RESTARTS + 1} "
                f"times within {RESTART_WINDOW_SECONDS:.0f} s; stopping everything. Its log "
                "lines above say why."
            )
        self.restarts.append(now)
        self.restart_due = now + self.backoff
        _log(
            f"{self.name} (pid {self.process.pid}) {how}; restarting it in {self.backoff:.0f} s "
            f"(restart {len(self.restarts)} of at most {MAX_RESTARTS} in "
            f"{RESTART_WINDOW_SECONDS:.0f} s)"
        )
        self.backoff = min(self.backoff * 2, RESTART_BACKOFF_CAP)


def _stop_all(children: list[Child]) -> None:
    """SIGTERM every live child once (Celery: warm shutdown) and wait for it within its grace."""
    alive = [c for c in children if c.process is not None and c.process.poll() is None]
    for child in alive:
        child.process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    for child in alive:
        grace = WORKER_STOP_GRACE_SECONDS if child.name == "worker" else STOP_GRACE_SECONDS
        try:
            child.process.wait(timeout=max(0.1, started + grace - time.monotonic()))
        except subprocess.TimeoutExpired:
            _log(f"{child.name} did not stop within {grace} s; killing it")
            child.process.kill()
            child.process.wait()
        _log(
            f"{child.name} (pid {child.process.pid}) stopped: {describe_exit(child.process.returncode)}"
        )


def main() -> int:
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGHUP, _raise_stop)  # the terminal closed
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    env = dict(os.environ)
    port = int(env.get("PORT", "8000"))
    redis_process: subprocess.Popen | None = None
    children: list[Child] = []
    try:
        if not env.get("DATABASE_URL"):
            if embedded.postgres_needs_initdb():
                _setup(f"initialising PostgreSQL in {embedded.PG_DATA_DIR} (first run only)…")
            else:
                _setup("starting the embedded PostgreSQL…")
            embedded.ensure_postgres()  # this process holds the server until it exits
            # Children connect by URL instead of becoming holders of their own: web and worker
            # processes leave with os._exit, which skips the hook that releases a hold.
            env["DATABASE_URL"] = embedded.embedded_database_url()
            print(f"[run] embedded PostgreSQL in {embedded.PG_DATA_DIR}", flush=True)
            # A local try-out: webhooks may go to a receiver on this machine.
            env.setdefault("WEBHOOKS_ALLOW_PRIVATE_TARGETS", "1")
        if not env.get("REDIS_URL"):
            _setup("starting the embedded Redis…")
            redis_process = embedded.start_redis()
            print(f"[run] embedded Redis at {embedded.REDIS_SOCKET}", flush=True)
        if not env.get("PROMETHEUS_MULTIPROC_DIR"):
            # Web and worker processes write their series here; /metrics adds them up.
            metrics_dir = embedded.VAR_DIR / "metrics"
            shutil.rmtree(metrics_dir, ignore_errors=True)
            metrics_dir.mkdir(parents=True)
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        # One process for all set-up steps: each manage.py process costs seconds of imports.
        _manage("prepare_to_serve", env=env)
        children = [Child(name, command, env) for name, command in _children(port).items()]
        for child in children:
            child.start()
        _log(f"serving http://127.0.0.1:{port}/ (API docs at /api/docs); Ctrl-C stops everything")
        while True:
            now = time.monotonic()
            for child in children:
                child.check(now)
            time.sleep(0.25)
    except GiveUp as give_up:
        _log(str(give_up))
        return 1
    except Stop as stop:
        print(f"[run] {stop}: stopping", flush=True)
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"[run] set-up step failed: {exc}", flush=True)
        return 1
    except embedded.EmbeddedServerError as exc:
        print(f"[run] cannot start: {exc}", flush=True)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        _stop_all(children)
        embedded.stop_redis(redis_process)


if __name__ == "__main__":
    sys.exit(main())
