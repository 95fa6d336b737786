"""Benchmark harness: the real product (gunicorn + PostgreSQL) on loopback, driven over HTTP.

Figures are ratios against a floor measured in the same run (the authenticated no-op endpoint
`/v1/noop`) plus query counts read from the `X-Query-Count` header (QUERY_COUNT_HEADER=1), so
they mean the same on a fast or a slow machine. Benchmarks print; they assert nothing.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from config.launcher import gunicorn_argv

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DB_SUFFIX = "_bench"


@dataclass
class BenchServer:
    url: str
    token: str
    env: dict[str, str]

    def sdk(self):
        import metronome

        return metronome.Metronome(
            base_url=self.url, bearer_token=self.token, max_retries=0, timeout=120
        )

    def manage(self, *args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout


@dataclass
class Stats:
    label: str
    latencies: list[float]
    queries: list[int]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000

    @property
    def per_second(self) -> float:
        return len(self.latencies) / sum(self.latencies)

    def line(self, floor: Stats | None = None) -> str:
        ratio = f"  {self.median_ms / floor.median_ms:5.2f}x floor" if floor else ""
        queries = f"  queries/op {min(self.queries)}..{max(self.queries)}" if self.queries else ""
        return (
            f"{self.label:<38} n={len(self.latencies):<5} {self.per_second:8.1f}/s  "
            f"median {self.median_ms:7.2f} ms  p95 {self.p95_ms:7.2f} ms{ratio}{queries}"
        )


def measure(label: str, operation: Callable[[int], object], n: int) -> Stats:
    """Run `operation(i)` n times; an operation may return a raw SDK response to report queries."""
    latencies, queries = [], []
    for i in range(n):
        started = time.perf_counter()
        result = operation(i)
        latencies.append(time.perf_counter() - started)
        headers = getattr(result, "headers", None)
        if headers is not None and "x-query-count" in headers:
            queries.append(int(headers["x-query-count"]))
    return Stats(label, latencies, queries)


def floor_stats(server: BenchServer, n: int = 200) -> Stats:
    client = server.sdk()
    # The raw-response header makes the SDK hand back the HTTP response (headers included).
    return measure(
        "floor: authenticated no-op",
        lambda i: client.post(
            "/v1/noop",
            cast_to=object,
            body={},
            options={"headers": {"X-Stainless-Raw-Response": "true"}},
        ),
        n,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _bench_database_url(env: dict[str, str]) -> str:
    """A separate database for benchmarks, so they never touch development data."""
    import psycopg

    if env.get("DATABASE_URL"):
        parts = urlsplit(env["DATABASE_URL"])
        name = parts.path.lstrip("/") + BENCH_DB_SUFFIX
        admin_url = urlunsplit(parts._replace(path="/postgres"))
        url = urlunsplit(parts._replace(path=f"/{name}"))
    else:
        from config import embedded

        embedded.ensure_postgres()
        name = embedded.EMBEDDED_DB_NAME + BENCH_DB_SUFFIX
        admin_url = embedded.embedded_database_url("postgres").replace(
            "postgres://", "postgresql://"
        )
        url = embedded.embedded_database_url(name)
    with psycopg.connect(
        admin_url.replace("postgres://", "postgresql://"), autocommit=True
    ) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return url


@contextmanager
def running_server(*, workers: int = 2) -> Iterator[BenchServer]:
    env = dict(os.environ)
    env["DATABASE_URL"] = _bench_database_url(env)
    env["QUERY_COUNT_HEADER"] = "1"
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    env.setdefault("LOG_LEVEL", "WARNING")
    redis_process = None
    if not env.get("REDIS_URL"):
        from config import embedded

        redis_process = embedded.start_redis()
    port = _free_port()
    server = BenchServer(url=f"http://127.0.0.1:{port}", token="", env=env)
    server.manage("migrate", "--noinput")
    server.token = (
        server.manage("create_api_token", "bench", "--create-user", "--all-permissions")
        .strip()
        .splitlines()[-1]
    )
    web = subprocess.Popen(
        [
            *gunicorn_argv(port, workers),
            "--threads",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=BASE_DIR,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{server.url}/healthz", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or web.poll() is not None:
                    raise RuntimeError("bench server did not start") from None
                time.sleep(0.2)
        yield server
    finally:
        web.terminate()
        web.wait(timeout=15)
        if redis_process is not None:
            from config import embedded

            # Waits until the server has exited: the next benchmark must start its own.
            embedded.stop_redis(redis_process)
