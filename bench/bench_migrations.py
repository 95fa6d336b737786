"""Cohort migrations: a whole cohort moved to another package by two real Celery workers.

Prints, asserts nothing. For each cohort size (10k and 100k contracts; 1M with
`BENCH_MIGRATION_SIZES=10000,100000,1000000`), on an 8-term package with recurring terms (~24
term rows per contract) migrated to another 8-term package:

- preview time (the set-based dry run, nothing written);
- plan time (one INSERT … SELECT of the items), queries per batch (one batch run in-process);
- contracts/s and wall time of the two workers, and each worker's peak RSS (VmHWM);
- the floor, measured on the same database in the same run: the same writes as set-based
  statements (one UPDATE of the old contracts' ends, COPY of as many contract and term rows,
  their deferred foreign keys checked as a commit would), rolled back afterwards (and
  vacuumed away); above 100k (`BENCH_FLOOR_MAX`) on 100k contracts of the cohort;
- the naive loop: the single-contract services (updateEndDate, then contracts/create with a
  transition) per contract, on a 1,000-contract sample.

Targets (issue 19): ≥ 60% of the floor's throughput at 10k and 100k, ≥ 12x the naive loop at
10k, worker RSS flat from 10k, preview of 100k under 3 s. The machine's load average is printed
with the figures: the ratios come from one run, so they hold up under load better than the
absolute numbers, but not entirely. Runs against `<DATABASE_URL>_bench` (created, migrated).

    .venv/bin/python -m bench.bench_migrations
    BENCH_MIGRATION_SIZES=10000,100000,1000000 .venv/bin/python -m bench.bench_migrations
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from bench.harness import BASE_DIR, _bench_database_url

SIZES = tuple(
    int(size)
    for size in os.environ.get("BENCH_MIGRATION_SIZES", "10000,100000").split(",")
    if int(size) > 0
)
NAIVE_SAMPLE = int(os.environ.get("BENCH_NAIVE_SAMPLE", "1000"))
FLOOR_MAX = int(os.environ.get("BENCH_FLOOR_MAX", "100000"))
WORKERS = 2
T0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
AT = T0 + dt.timedelta(days=40)
NULL = "\\N"  # COPY's text-format NULL
# The plan step's EXPLAIN (ANALYZE, BUFFERS) is printed when it takes longer than this.
PLAN_EXPLAIN_OVER_S = float(os.environ.get("BENCH_PLAN_EXPLAIN_OVER", "5"))


def _setup() -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = _bench_database_url(env)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    env["CELERY_BULK_QUEUE"] = f"bench-bulk-{uuid.uuid4().hex[:8]}"
    env["COHORT_MIGRATION_CHAINS"] = str(WORKERS)
    env.setdefault("LOG_LEVEL", "WARNING")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
    )
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")})
    os.environ["CELERY_BULK_QUEUE"] = env["CELERY_BULK_QUEUE"]
    os.environ["COHORT_MIGRATION_CHAINS"] = env["COHORT_MIGRATION_CHAINS"]
    import django

    django.setup()
    return env


@contextmanager
def broker() -> Iterator[None]:
    """The embedded Redis the workers need when REDIS_URL is unset, started here and stopped
    on the way out (as harness.running_server does for the HTTP benches), so the module runs
    alone or under run_all with nothing else started; with REDIS_URL, that server."""
    redis_process = None
    if not os.environ.get("REDIS_URL"):
        from config import embedded

        redis_process = embedded.start_redis()
    try:
        yield
    finally:
        if redis_process is not None:
            from config import embedded

            # Waits until the server has exited: the next benchmark must start its own.
            embedded.stop_redis(redis_process)


@contextmanager
def bench_services() -> Iterator[dict[str, str]]:
    """The bench database (created, migrated) and the broker; the workers' environment."""
    with broker():
        yield _setup()


def _packages(label: str):
    from tests.contracts_app.contract_builders import (
        eight_terms,
        make_package,
        make_product,
        make_rate_card,
    )

    rate_card = make_rate_card(f"bench {label}")
    source = make_package(
        name=f"bench {label} v1",
        rate_card=rate_card,
        terms=eight_terms(make_product(f"bench {label} a")),
        duration_unit="MONTHS",
        duration_value=12,
    )
    target = make_package(
        name=f"bench {label} v2",
        rate_card=rate_card,
        terms=eight_terms(make_product(f"bench {label} b")),
        duration_unit="MONTHS",
        duration_value=12,
    )
    return source, target


def _load_cohort(package, n: int) -> tuple[int, float]:
    """n customers with one contract each on `package`: one contract provisioned by the real
    service, cloned n times with INSERT … SELECT (customers, subscriptions, contracts, terms)."""
    from django.db import connection

    from contracts_app.models import ContractTerm
    from contracts_app.services.provisioning import contract_provision
    from tests.contracts_app.contract_builders import make_customer

    started = time.perf_counter()
    template = contract_provision(
        customer=make_customer("template"), starting_at=T0, package=package
    )
    terms = ContractTerm.objects.filter(contract=template).count()
    for first in range(1, n, LOAD_CHUNK):
        _load_chunk(template.id, first, min(first + LOAD_CHUNK, n))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contracts_app_contract")
        cursor.execute("ANALYZE contracts_app_contractterm")
    print(
        f"  loaded {n} contracts x {terms} term rows in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return terms, time.perf_counter() - started


# Contracts cloned per transaction: a transaction's deferred foreign-key checks run at its
# commit, and one over a whole 1M cohort (24M term rows) re-read pages long evicted for an hour.
LOAD_CHUNK = int(os.environ.get("BENCH_LOAD_CHUNK", "50000"))


def _load_chunk(template_id, first: int, end: int) -> None:
    """Clones number first..end-1 of the template contract, in one transaction. As a superuser
    the clone skips the triggers (foreign-key checks of rows copied from a valid contract, and
    the write stamp, set here as the trigger sets it)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if cursor.fetchone()[0]:
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "CREATE TEMP TABLE bench_ids ON COMMIT DROP AS SELECT n, gen_random_uuid() AS "
            "customer_id, gen_random_uuid() AS subscription_id, gen_random_uuid() AS contract_id "
            "FROM generate_series(%s, %s) n",
            [first, end - 1],
        )
        cursor.execute(
            "INSERT INTO contracts_app_customer (id, name, external_id, ingest_aliases, "
            "custom_fields, details, created_at, updated_at, archived_at) SELECT customer_id, "
            "'bench ' || n, NULL, '[]', '{}', '{}', now(), now(), NULL FROM bench_ids"
        )
        cursor.execute(
            "INSERT INTO contracts_app_subscription (id, customer_id, platform_id, details, "
            "created_at) SELECT subscription_id, customer_id, '', '{}', now() FROM bench_ids"
        )
        cursor.execute(
            "INSERT INTO contracts_app_contract (id, customer_id, subscription_id, package_id, "
            "rate_card_id, billing_provider_configuration_id, name, starting_at, ending_before, "
            "net_payment_terms_days, multiplier_override_prioritization, "
            "scheduled_charges_on_usage_invoices, settings, uniqueness_key, created_at, "
            "created_by, archived_at, written_xact) SELECT i.contract_id, i.customer_id, "
            "i.subscription_id, t.package_id, t.rate_card_id, NULL, t.name, t.starting_at, "
            "t.ending_before, t.net_payment_terms_days, t.multiplier_override_prioritization, "
            "t.scheduled_charges_on_usage_invoices, t.settings, NULL, now(), '', NULL, "
            "pg_current_xact_id()::text::bigint "
            "FROM bench_ids i CROSS JOIN contracts_app_contract t WHERE t.id = %s",
            [template_id],
        )
        cursor.execute(
            "INSERT INTO contracts_app_contractterm (id, contract_id, kind, ordinal, product_id, "
            "package_term_id, generated_from_id, starting_at, ending_before, body) "
            "SELECT md5(i.contract_id::text || t.id::text)::uuid, i.contract_id, t.kind, "
            "t.ordinal, t.product_id, t.package_term_id, CASE WHEN t.generated_from_id IS NULL "
            "THEN NULL ELSE md5(i.contract_id::text || t.generated_from_id::text)::uuid END, "
            "t.starting_at, t.ending_before, t.body FROM bench_ids i "
            "CROSS JOIN contracts_app_contractterm t WHERE t.contract_id = %s",
            [template_id],
        )


def _floor(source, target, n: int) -> float:
    """Seconds for the same writes as set-based statements, rolled back: one UPDATE of the old
    contracts' ends, COPY of n contract rows and their term rows, their deferred foreign keys
    checked."""
    from django.db import connection, transaction

    from contracts_app.models import Contract, ContractTerm
    from contracts_app.services.provisioning import contract_provision
    from tests.contracts_app.contract_builders import make_customer

    # One new contract as the service writes it, the model row for every COPY row.
    with transaction.atomic():
        sample = contract_provision(
            customer=make_customer("floor sample"), starting_at=AT, package=target
        )
        contract_row = (
            Contract.objects.filter(id=sample.id)
            .values_list("rate_card_id", "name", "settings", "ending_before")
            .get()
        )
        term_rows = list(
            ContractTerm.objects.filter(contract=sample).values_list(
                "kind",
                "ordinal",
                "product_id",
                "package_term_id",
                "starting_at",
                "ending_before",
                "body",
            )
        )
        transaction.set_rollback(True)
    from config.core import jsonutil

    subscriptions = list(
        Contract.objects.filter(package=source).values_list("id", "customer_id", "subscription_id")[
            :n
        ]
    )
    old_ids = [contract_id for contract_id, _, _ in subscriptions]
    settings_text = jsonutil.dumps(contract_row[2]).replace("\\", "\\\\")
    contracts, terms = io.StringIO(), io.StringIO()
    for _, customer_id, subscription_id in subscriptions:
        contract_id = uuid.uuid4()
        contracts.write(
            f"{contract_id}\t{customer_id}\t{subscription_id}\t{target.id}\t{contract_row[0]}\t"
            f"{contract_row[1]}\t{AT.isoformat()}\t{contract_row[3].isoformat()}\t"
            f"{settings_text}\t{AT.isoformat()}\t\t\t\n"
        )
        for kind, ordinal, product_id, package_term_id, start, end, body in term_rows:
            values = [
                uuid.uuid4(),
                contract_id,
                kind,
                ordinal,
                product_id,
                package_term_id,
                start and start.isoformat(),
                end and end.isoformat(),
                jsonutil.dumps(body).replace("\\", "\\\\"),
            ]
            terms.write("\t".join(NULL if v is None else str(v) for v in values) + "\n")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE contracts_app_contract SET ending_before = %s WHERE id = ANY(%s::uuid[]) "
            "AND archived_at IS NULL",
            [AT, old_ids],
        )
        with cursor.copy(
            "COPY contracts_app_contract (id, customer_id, subscription_id, package_id, "
            "rate_card_id, name, starting_at, ending_before, settings, created_at, "
            "multiplier_override_prioritization, scheduled_charges_on_usage_invoices, "
            "created_by) FROM STDIN"
        ) as copy:
            copy.write(contracts.getvalue())
        with cursor.copy(
            "COPY contracts_app_contractterm (id, contract_id, kind, ordinal, product_id, "
            "package_term_id, starting_at, ending_before, body) FROM STDIN"
        ) as copy:
            copy.write(terms.getvalue())
        # The foreign keys are deferred to commit: check them now, as the job's commits do
        # (without this the floor skipped some 25 checks per contract that every real write
        # pays), then roll back instead of committing so the cohort stays as it was.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds


def _vacuum_after_floor() -> None:
    """Clear the rows the floor rolled back: without it the job ran beside an autovacuum of
    the term table (the floor leaves as many dead rows as the cohort has live ones) and its new
    rows could not reuse that space, a third of the database's growth per contract."""
    from django.db import connection

    from contracts_app.models import Contract, ContractTerm

    tables = ", ".join(m._meta.db_table for m in (Contract, ContractTerm))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {tables}")
    print(f"  vacuum after floor {time.perf_counter() - started:8.2f} s", flush=True)


def _start_workers(env: dict[str, str], count: int = WORKERS) -> list[subprocess.Popen]:
    """Real workers on the bench queue, returned once each says it is ready."""
    from tests.conftest import celery_worker_argv

    processes = []
    for _ in range(count):
        process = subprocess.Popen(
            celery_worker_argv(env["CELERY_BULK_QUEUE"]),
            cwd=BASE_DIR,
            env={**env, "LOG_LEVEL": "INFO"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for line in process.stdout:
            if " ready." in line:
                break
        threading.Thread(target=lambda p=process: [None for _ in p.stdout], daemon=True).start()
        processes.append(process)
    return processes


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process on this machine (0 where it cannot be read)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _other_backends() -> list[int]:
    """The pids of the other sessions on the bench database: the workers' backends."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return [pid for (pid,) in cursor.fetchall()]


def _peak_rss_mb(process: subprocess.Popen) -> float:
    try:
        with open(f"/proc/{process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _stop(processes):
    from tests.conftest import forget_queue, stop_processes

    stop_processes(processes, grace=30)

    forget_queue(os.environ["CELERY_BULK_QUEUE"])


def job_input(source, target):
    """The benchmark's job, resolved by the service: every contract of `source` to `target` at
    AT."""
    from contracts_app.services.cohort_migrations import migration_input

    return migration_input(
        source={"package_id": source.id},
        target={"package_id": target.id},
        effective={"type": "AT", "at": AT},
    )


def _queries_per_batch(source, target) -> list[tuple[int, int, float]]:
    """(batch size, queries, seconds) of batches run in this process."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from contracts_app.services.cohort_migration_batches import migration_batch_run
    from contracts_app.services.cohort_migrations import cohort_migration_create, migration_start

    data = job_input(source, target)
    migration = cohort_migration_create(data=data, run_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC))
    type(migration).objects.filter(id=migration.id).update(
        run_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    )
    migration_start(migration_id=migration.id)
    out = []
    for size in (100, 500):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            migration_batch_run(migration_id=migration.id, batch_size=size)
        out.append((size, len(captured), time.perf_counter() - started))
    type(migration).objects.filter(id=migration.id).update(status="CANCELLED")
    return out


def _plan_dry_run(source, target) -> tuple[float, str]:
    """Seconds of the plan step (cohort_plan_insert, rolled back) on the cohort as loaded, and
    its EXPLAIN (ANALYZE, BUFFERS) when slower than PLAN_EXPLAIN_OVER_S ("" otherwise)."""
    from django.db import connection, transaction

    from contracts_app.models import CohortMigrationItem
    from contracts_app.services.cohort_migration_plan import cohort_plan_insert, plan_explain
    from contracts_app.services.cohort_migrations import cohort_migration_create

    data = job_input(source, target)
    explain = ""
    with transaction.atomic():
        migration = cohort_migration_create(
            data=data, run_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC)
        )
        before_plan = transaction.savepoint()
        started = time.perf_counter()
        cohort_plan_insert(migration_id=migration.id, spec=data.spec)
        seconds = time.perf_counter() - started
        transaction.savepoint_rollback(before_plan)
        if seconds > PLAN_EXPLAIN_OVER_S:
            explain = plan_explain(migration_id=migration.id, spec=data.spec)
        transaction.set_rollback(True)
    # The rolled-back items are dead rows in the items' indexes: cleared, so that the job's own
    # plan that follows does not step over them.
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {CohortMigrationItem._meta.db_table}")
    return seconds, explain


def _migrate(env, source, target, n: int) -> dict:
    from contracts_app.models import CohortMigration
    from contracts_app.selectors.cohort_migrations import (
        cohort_migration_preview,
        migration_progress,
    )
    from contracts_app.services.cohort_migrations import cohort_migration_create

    data = job_input(source, target)
    started = time.perf_counter()
    preview = cohort_migration_preview(
        spec=data.spec, source=data.source_package, target=data.target_package
    )
    preview_s = time.perf_counter() - started
    workers = _start_workers(env)
    # Their start-up (importing Django and Celery) is not the job's CPU.
    worker_cpu_at_start = sum(_cpu_seconds(w.pid) for w in workers)
    started = time.perf_counter()
    migration = cohort_migration_create(data=data, name=f"bench {n}")  # due now: the workers go
    backend_cpu: dict[int, float] = {}  # the workers' sessions may close between tasks
    while True:
        migration.refresh_from_db()
        backend_cpu.update({pid: _cpu_seconds(pid) for pid in _other_backends()})
        if migration.status in ("COMPLETED", "FAILED", "CANCELLED"):
            break
        time.sleep(0.5)
    wall = time.perf_counter() - started
    rss = [_peak_rss_mb(w) for w in workers]
    worker_cpu = sum(_cpu_seconds(w.pid) for w in workers) - worker_cpu_at_start
    database_cpu = sum(backend_cpu.values())
    _stop(workers)
    migration = CohortMigration.objects.get(id=migration.id)
    planned_at = migration.progress.order_by("id").first().at
    counts = migration_progress([migration])[migration.id]["counts"]
    batches_s = (migration.finished_at - planned_at).total_seconds()
    return {
        "preview_s": preview_s,
        "preview_eligible": preview["eligible"],
        "plan_s": (planned_at - migration.started_at).total_seconds(),
        "wall_s": wall,
        "batches_s": batches_s,
        "per_s": counts["migrated"] / batches_s,
        "rss_mb": rss,
        "worker_cpu_s": worker_cpu,
        "database_cpu_s": database_cpu,
        "counts": counts,
        "status": migration.status,
    }


def _naive(source, target, n: int) -> float:
    """Contracts/s of the single-contract services, one contract after another."""
    from contracts_app.models import Contract
    from contracts_app.services.contracts import contract_update_end_date
    from contracts_app.services.provisioning import contract_provision

    contracts = list(
        Contract.objects.filter(package=source, archived_at__isnull=True).select_related(
            "customer"
        )[:n]
    )
    started = time.perf_counter()
    for contract in contracts:
        contract_update_end_date(contract=contract, ending_before=AT)
        contract_provision(
            customer=contract.customer,
            starting_at=AT,
            package=target,
            transition={"type": "RENEWAL", "from_contract_id": str(contract.id)},
        )
    return len(contracts) / (time.perf_counter() - started)


def main() -> None:
    with bench_services() as env:
        _main(env)


# A size runs only if its projected growth fits in this share of the database disk's free space.
DISK_SHARE = 0.8


def _database_bytes() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0]


def _disk_free() -> int:
    """Free bytes where PostgreSQL keeps its data (this process's disk when it may not ask)."""
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('data_directory')")
            path = cursor.fetchone()[0]
    except DatabaseError:  # not a superuser (autocommit: nothing to roll back)
        path = "/"
    if not os.path.exists(path):  # a server on another machine: only a guess
        path = "/"
    return shutil.disk_usage(path).free


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _main(env: dict[str, str]) -> None:
    print(f"cohort migrations, {WORKERS} workers, sizes {SIZES}, load {_load()}", flush=True)
    naive_source, naive_target = _packages("naive")
    _load_cohort(naive_source, NAIVE_SAMPLE + 600)
    naive_per_s = _naive(naive_source, naive_target, NAIVE_SAMPLE)
    print(
        f"  naive loop (updateEndDate + create per contract, n={NAIVE_SAMPLE}): "
        f"{naive_per_s:8.1f} contracts/s",
        flush=True,
    )
    per_batch = _queries_per_batch(naive_source, naive_target)
    for size, queries, seconds in per_batch:
        print(f"  batch of {size:<4} in-process: {queries} queries, {seconds:.2f} s", flush=True)
    rss_by_size = {}
    bytes_per_contract = None
    for n in SIZES:
        print(f"== {n} contracts", flush=True)
        if bytes_per_contract and n * bytes_per_contract > _disk_free() * DISK_SHARE:
            print(
                f"  skipped: a cohort of {n} moved needs about "
                f"{n * bytes_per_contract / 2**30:.0f} GiB of database (measured: "
                f"{bytes_per_contract / 1024:.0f} KiB per contract loaded and moved, with its "
                f"terms, the new contract's, the item and audit rows) and the database's disk "
                f"has {_disk_free() / 2**30:.0f} GiB free",
                flush=True,
            )
            continue
        size_before = _database_bytes()
        source, target = _packages(f"{n}-{uuid.uuid4().hex[:4]}")
        terms, _ = _load_cohort(source, n)
        # The floor's rows are built in memory first (~20 KB a contract): beyond FLOOR_MAX it
        # is measured on that many contracts of the cohort, the tables at their full size.
        floor_n = min(n, FLOOR_MAX)
        floor_s = _floor(source, target, floor_n)
        floor_per_s = floor_n / floor_s
        _vacuum_after_floor()
        plan_s, plan_explain = _plan_dry_run(source, target)
        print(f"  plan (dry run)     {plan_s:8.2f} s   (rolled back; target < 5 s)", flush=True)
        if plan_explain:
            print(f"  plan slower than {PLAN_EXPLAIN_OVER_S:g} s, its EXPLAIN:\n{plan_explain}")
        result = _migrate(env, source, target, n)
        rss_by_size[n] = max(result["rss_mb"])
        bytes_per_contract = (_database_bytes() - size_before) / n
        print(
            f"  preview            {result['preview_s']:8.2f} s   "
            f"({result['preview_eligible']} eligible)\n"
            f"  plan               {result['plan_s']:8.2f} s   (one INSERT … SELECT of the items)\n"
            f"  batches            {result['batches_s']:8.1f} s   {result['per_s']:8.1f} "
            f"contracts/s ({WORKERS} workers; wall with start-up {result['wall_s']:.1f} s)\n"
            f"  status {result['status']} counts {result['counts']}\n"
            f"  worker peak RSS    {', '.join(f'{r:.0f} MB' for r in result['rss_mb'])}\n"
            f"  CPU per contract   {1000 * result['worker_cpu_s'] / n:.2f} ms in the workers, "
            f"{1000 * result['database_cpu_s'] / n:.2f} ms in their database sessions: on "
            f"{os.cpu_count()} cores at most "
            f"{n * (os.cpu_count() or 1) / (result['worker_cpu_s'] + result['database_cpu_s']):.0f}"
            " contracts/s\n"
            f"  floor: UPDATE + COPY of {floor_n} contracts and {floor_n * terms} term rows "
            f"{floor_s:.2f} s = {floor_per_s:8.1f} contracts/s"
            f"{f' (on {floor_n} of the {n})' if floor_n < n else ''}\n"
            f"  ratio: {result['per_s'] / floor_per_s:6.1%} of the floor (target >= 60%), "
            f"{result['per_s'] / naive_per_s:5.1f}x the naive loop (target >= 12x at 10k)\n"
            # The floor bounds any job: the naive-loop target can be no more than this.
            f"  the floor itself is {floor_per_s / naive_per_s:5.1f}x the naive loop\n"
            f"  database growth    {bytes_per_contract / 1024:8.1f} KiB per contract moved\n"
            f"  load average {_load()}",
            flush=True,
        )
    if len(rss_by_size) > 1:
        sizes = sorted(rss_by_size)
        print(
            "  worker peak RSS by size: "
            + ", ".join(f"{s}: {rss_by_size[s]:.0f} MB" for s in sizes)
            + f" (growth {rss_by_size[sizes[-1]] / rss_by_size[sizes[0]]:.2f}x)"
        )


if __name__ == "__main__":
    main()
