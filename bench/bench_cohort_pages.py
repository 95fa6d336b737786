"""Cohort pages at 100k and 1M contracts: the cohort-size chart, the cohort page (first page and
its count) and the streamed CSV, over HTTP against gunicorn, with floors measured in the same
run on the same rows:

- chart: against `SELECT count(*)` of the package's contracts (one pass over the same index
  the chart's single query reads);
- CSV: against `COPY (the same rows, joined to their customers) TO STDOUT` read by psycopg, the
  fastest PostgreSQL can hand the rows over, without Django or HTTP;
- pages: against the authenticated API no-op (the harness' floor).

Prints, asserts nothing. BENCH_COHORTS=100000 (default 100000,1000000) picks the sizes;
BENCH_RELOAD=1 reloads cohorts an earlier run left in the bench database.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import urllib.request

from bench.bench_contracts import _connect, _django
from bench.harness import Stats, floor_stats, measure, running_server

COHORT_SIZES = tuple(
    int(size)
    for size in os.environ.get("BENCH_COHORTS", "100000,1000000").split(",")
    if int(size) > 0
)
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
CONTRACTS_PER_CUSTOMER = 10


def _cohort(conn, size: int) -> str:
    """A package with `size` contracts over two years (a third ended after 30-400 days, every
    10th archived), one customer per CONTRACTS_PER_CUSTOMER: three INSERT ... SELECTs."""
    from packages_app.models import Package

    name = f"bench cohort pages {size}"
    package = Package.objects.filter(name=name).first()
    if (
        package is not None
        and os.environ.get("BENCH_RELOAD") != "1"
        and package.contracts.count() == size
    ):
        print(f"  reusing {size:>9,} contracts loaded by an earlier run (BENCH_RELOAD=1 reloads)")
        return str(package.id)
    package = package or Package.objects.create(name=name)
    started = time.perf_counter()
    conn.execute("DELETE FROM contracts_app_contract WHERE package_id = %s", [package.id])
    customers = size // CONTRACTS_PER_CUSTOMER
    conn.execute(
        """
        INSERT INTO contracts_app_customer (id, name, external_id, ingest_aliases, custom_fields,
            details, created_at, updated_at)
        SELECT md5(%(package)s || '-' || n)::uuid, 'Bench customer ' || n,
            'bench-' || %(package)s || '-' || n,
            '[]', '{}', '{}', now(), now()
        FROM generate_series(1, %(customers)s) AS n
        ON CONFLICT (id) DO NOTHING
        """,
        {"package": str(package.id), "customers": customers},
    )
    conn.execute(
        """
        INSERT INTO contracts_app_contract (id, customer_id, package_id, name, starting_at,
            ending_before, multiplier_override_prioritization, scheduled_charges_on_usage_invoices,
            settings, created_at, created_by, archived_at)
        SELECT gen_random_uuid(), md5(%(package)s || '-' || (1 + n %% %(customers)s))::uuid,
            %(package)s::uuid, '', s, CASE WHEN n %% 3 = 0 THEN s + (30 + n %% 370) * interval '1 day' END,
            '', '', '{}', now(), 'bench', CASE WHEN n %% 10 = 0 THEN now() END
        FROM generate_series(1, %(size)s) AS n,
            LATERAL (SELECT %(base)s::timestamptz + n * (interval '730 days' / %(size)s)) AS t(s)
        """,
        {"package": str(package.id), "customers": customers, "base": START, "size": size},
    )
    conn.execute("VACUUM ANALYZE contracts_app_contract")
    conn.execute("VACUUM ANALYZE contracts_app_customer")
    print(f"  loaded {size:>9,} contracts in {time.perf_counter() - started:6.1f} s")
    return str(package.id)


def _session_cookie() -> str:
    """A logged-in superuser's session, made the way django.contrib.auth.login makes one."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User

    user = User.objects.filter(username="bench-pages").first() or User.objects.create_superuser(
        "bench-pages", password=None
    )
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


class _Response:
    def __init__(self, headers, rows: int):
        self.headers = {key.lower(): value for key, value in headers.items()}
        self.rows = rows


def _get(url: str, cookie: str, **headers) -> _Response:
    request = urllib.request.Request(url, headers={"Cookie": cookie, **headers})
    with urllib.request.urlopen(request, timeout=600) as response:
        rows = 0
        while chunk := response.read(1 << 16):
            rows += chunk.count(b"\n")
        if response.status != 200:
            raise RuntimeError(f"{url}: {response.status}")
        return _Response(response.headers, rows)


def _timed(label: str, operation, n: int) -> Stats:
    operation(0)  # warm-up
    return measure(label, operation, n)


def main() -> None:
    with running_server() as server:
        _django(server.env["DATABASE_URL"])
        # pages render {% static %}: the manifest, read at a worker's first page
        server.manage("collectstatic", "--noinput", "--verbosity", "0")
        cookie = _session_cookie()
        floor = floor_stats(server, n=100)
        print(floor.line())
        with _connect(server.env["DATABASE_URL"]) as conn:
            print(f"  load average: {os.getloadavg()}")
            for size in COHORT_SIZES:
                package_id = _cohort(conn, size)
                base = f"{server.url}/packages/{package_id}"
                print(f"-- {size:,} contracts on one package")

                # the chart, alone (the package page's htmx branch), and the selector in-process
                def count_floor(i, package_id=package_id):
                    return conn.execute(
                        "SELECT count(*) FROM contracts_app_contract WHERE package_id = %s",
                        [package_id],
                    ).fetchone()

                floor_count = _timed("  floor: SELECT count(*) of the package", count_floor, 10)
                print(floor_count.line())
                for query in (
                    "chart_from=2024-01-01&chart_to=2025-12-31&bucket=month",
                    "chart_from=2024-01-01&chart_to=2025-12-31&bucket=week",
                    "chart_from=2024-06-01&chart_to=2025-12-31&bucket=day",
                ):
                    chart = _timed(
                        f"  chart {query.rsplit('=', 1)[1]:<5} 2 years",
                        lambda i, query=query, base=base: _get(
                            f"{base}/?{query}",
                            cookie,
                            **{"HX-Request": "true", "HX-Target": "cohort-chart"},
                        ),
                        10,
                    )
                    print(chart.line(floor_count))
                from contracts_app.selectors.cohorts import cohort_sizes_over_time

                selector = _timed(
                    "  chart selector in-process, by day",
                    lambda i, package_id=package_id: cohort_sizes_over_time(
                        package_ids=[package_id],
                        start=dt.datetime(2024, 6, 1, tzinfo=dt.UTC),
                        end=dt.datetime(2025, 12, 31, tzinfo=dt.UTC),
                        bucket="day",
                    ),
                    10,
                )
                print(selector.line(floor_count))
                from django.db import connection

                from contracts_app.selectors import cohorts

                with connection.cursor() as cursor:
                    cursor.execute(
                        "EXPLAIN (ANALYZE, BUFFERS) "
                        + cohorts._SIZES_SQL.format(
                            table="contracts_app_contract", live="AND c.archived_at IS NULL"
                        ),
                        {
                            "bucket": "day",
                            "step": "1 day",
                            "start": dt.datetime(2024, 6, 1, tzinfo=dt.UTC),
                            "end": dt.datetime(2025, 12, 31, tzinfo=dt.UTC),
                            "packages": [package_id],
                        },
                    )
                    plan = [row[0].strip() for row in cursor.fetchall()]
                scans = [line for line in plan if "on contracts_app_contract" in line]
                print("  the chart's scan: " + " | ".join(scans + plan[-2:]))

                # the cohort page: first page and the count of the cohort on the date
                for label, query in (
                    ("covering a mid date", "at=2025-01-01"),
                    ("starting on/after", "starting_at=2025-01-01&archived=1"),
                ):
                    page = _timed(
                        f"  cohort page, {label}",
                        lambda i, query=query, base=base: _get(f"{base}/cohort/?{query}", cookie),
                        20,
                    )
                    print(page.line(floor))

                # the CSV of the contracts covering a date, against COPY of the same rows
                at = "2025-01-01"
                copy_sql = (
                    "COPY (SELECT u.name, u.external_id, c.customer_id, c.id, c.package_id, "
                    "c.starting_at, c.ending_before, c.archived_at FROM contracts_app_contract c "
                    "JOIN contracts_app_customer u ON u.id = c.customer_id "
                    f"WHERE c.package_id = '{package_id}' AND c.archived_at IS NULL "
                    f"AND c.starting_at <= '{at}' AND (c.ending_before IS NULL "
                    f"OR c.ending_before > '{at}') ORDER BY c.starting_at, c.id) TO STDOUT"
                )

                def copy_rows(i, copy_sql=copy_sql):
                    rows = 0
                    with conn.cursor().copy(copy_sql) as copy:
                        for block in copy:
                            rows += bytes(block).count(b"\n")
                    return rows

                started = time.perf_counter()
                copied = copy_rows(0)
                copy_s = time.perf_counter() - started
                started = time.perf_counter()
                export = _get(f"{base}/cohort.csv?at={at}", cookie)
                csv_s = time.perf_counter() - started
                print(
                    f"  floor: COPY ... TO STDOUT  {copied:>9,} rows in {copy_s:6.2f} s "
                    f"({copied / copy_s:>9,.0f} rows/s)"
                )
                print(
                    f"  CSV over HTTP              {export.rows - 1:>9,} rows in {csv_s:6.2f} s "
                    f"({(export.rows - 1) / csv_s:>9,.0f} rows/s)  {csv_s / copy_s:5.2f}x COPY  "
                    f"queries before streaming {export.headers.get('x-query-count')}"
                )
                print(f"  load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
