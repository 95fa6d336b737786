"""`make run`: the whole product in the foreground (web, Celery worker, Celery beat).

Without DATABASE_URL / REDIS_URL it first starts the embedded PostgreSQL and Redis under ./var/.
Ctrl-C (SIGINT to the process group) or SIGTERM stops every process it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from config import embedded

BASE_DIR = Path(__file__).resolve().parent.parent
STOP_GRACE_SECONDS = 8


class Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise Stop(signal.Signals(signum).name)


def _manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def _children(port: int) -> dict[str, list[str]]:
    py = sys.executable
    return {
        "web": [
            py,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            os.environ.get("WEB_CONCURRENCY", "2"),
            "--threads",
            "4",
            "--graceful-timeout",
            "3",
            "--access-logfile",
            "-",
        ],
        "worker": [
            py,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--queues",
            "default,bulk",
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


def _stop_all(processes: dict[str, subprocess.Popen]) -> None:
    alive = {name: p for name, p in processes.items() if p.poll() is None}
    for process in alive.values():
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for name, process in alive.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"[run] {name} did not stop in time; killing it", flush=True)
            process.kill()
            process.wait()


def main() -> int:
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    env = dict(os.environ)
    port = int(env.get("PORT", "8000"))
    redis_process: subprocess.Popen | None = None
    processes: dict[str, subprocess.Popen] = {}
    try:
        if not env.get("DATABASE_URL"):
            embedded.ensure_postgres()  # this process holds the server until it exits
            # Children connect by URL instead of becoming holders of their own: web and worker
            # processes leave with os._exit, which skips the hook that releases a hold.
            env["DATABASE_URL"] = embedded.embedded_database_url()
            print(f"[run] embedded PostgreSQL in {embedded.PG_DATA_DIR}", flush=True)
        if not env.get("REDIS_URL"):
            redis_process = embedded.start_redis()
            print(f"[run] embedded Redis at {embedded.REDIS_SOCKET}", flush=True)
        _manage("migrate", "--noinput", env=env)
        _manage("collectstatic", "--noinput", "--verbosity", "0", env=env)
        _manage("ensure_admin", env=env)
        _manage("seed_demo", "--if-empty", env=env)
        for name, command in _children(port).items():
            processes[name] = subprocess.Popen(
                command, cwd=BASE_DIR, env=env, stdin=subprocess.DEVNULL
            )
        print(
            f"[run] serving http://127.0.0.1:{port}/ (API docs at /api/docs); Ctrl-C stops everything",
            flush=True,
        )
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"[run] {name} exited with {process.returncode}; stopping", flush=True)
                    return 1
            time.sleep(0.5)
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
        _stop_all(processes)
        embedded.stop_redis(redis_process)


if __name__ == "__main__":
    sys.exit(main())
