"""Cohort migrations on 1, 2 and 4 worker processes: throughput per worker count, and why it
stops growing.

Prints, asserts nothing. One cohort size (BENCH_SCALING_SIZE, default 100,000 contracts on the
8-term package of bench_migrations, ~24 term rows each), migrated to another 8-term package by
N real `celery worker --pool solo` processes (N in BENCH_SCALING_WORKERS, default 1,2,4), the
job split into N batch chains (COHORT_MIGRATION_CHAINS=N). For each N:

- contracts/s over the batches (plan excluded, as in bench_migrations) and the speedup vs 1;
- where the time went: CPU seconds of the workers, CPU seconds of the PostgreSQL backends that
  served them (read from /proc, so the database must run on this machine), and the machine's
  busy share of its cores over the run (/proc/stat; it is shared, so other load shows here);
- what the workers' backends were doing, sampled from pg_stat_activity every 0.25 s: running
  a statement on CPU, waiting for a row/transaction lock (`Lock`), for an internal lock
  (`LWLock`: WAL insertion, buffer mapping), for I/O (`IO`, e.g. WALWrite/DataFileRead), or
  idle in transaction (the worker computing in Python between statements of a batch);
- WAL written (pg_current_wal_lsn before and after; cluster-wide, so others' writes count).

Each N gets a fresh cohort of the same shape, cloned from one provisioned contract
(bench_migrations' _load_cohort: a few INSERT … SELECT, seconds at 10k). Not a revert between
runs: a revert costs as much as the migration (the engine's revert batches). Not a delete of
the previous run either: deleting millions of term rows checks their deferred foreign keys at
commit, which took longer than the runs. So the tables grow by one cohort per run, and the runs
go 1, 2, 4: the larger worker counts meet the larger tables, so the speedup is, if anything,
understated (the indexes the batches use are on ids, so the effect is small).

    BENCH_SCALING_SIZE=10000 .venv/bin/python -m bench.bench_migration_scaling
    .venv/bin/python -m bench.bench_migration_scaling          # 100,000 contracts
Runs against `<DATABASE_URL>_bench` (created, migrated), like every benchmark.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import psutil

from bench import bench_migrations as engine_bench

SIZE = int(os.environ.get("BENCH_SCALING_SIZE", "100000"))
WORKER_COUNTS = tuple(
    int(n) for n in os.environ.get("BENCH_SCALING_WORKERS", "1,2,4").split(",") if int(n) > 0
)
SAMPLE_EVERY = 0.25
TICKS = os.sysconf("SC_CLK_TCK")


def _proc_cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process from /proc (any user's process, e.g. a postgres backend)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS
    except (OSError, IndexError, ValueError):
        return None


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores since boot (/proc/stat)."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass
class Samples:
    """What the workers' PostgreSQL backends were doing, sampled while the job ran."""

    states: Counter = field(default_factory=Counter)
    waits: Counter = field(default_factory=Counter)
    backend_cpu: dict[int, float] = field(default_factory=dict)  # pid -> last CPU seconds seen
    samples: int = 0


def _state_of(state: str | None, wait_type: str | None) -> str:
    if state == "idle in transaction":
        return "idle in tx (worker computing)"
    if state == "active":
        return f"waiting {wait_type}" if wait_type else "on CPU"
    return "idle (between batches)"


def _sample(stop: threading.Event, result: Samples, bench_pid: int) -> None:
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        own = conn.info.backend_pid
        while not stop.wait(SAMPLE_EVERY):
            rows = conn.execute(
                "SELECT pid, state, wait_event_type, wait_event FROM pg_stat_activity "
                "WHERE datname = current_database() AND backend_type = 'client backend' "
                "AND pid <> ALL(%s)",
                [[own, bench_pid]],
            ).fetchall()
            result.samples += 1
            for pid, state, wait_type, wait in rows:
                result.states[_state_of(state, wait_type)] += 1
                if wait_type and state == "active":
                    result.waits[f"{wait_type}:{wait}"] += 1
                cpu = _proc_cpu_seconds(pid)
                if cpu is not None:
                    result.backend_cpu[pid] = cpu


@dataclass
class Run:
    workers: int
    contracts: int
    batches_s: float
    per_s: float
    status: str
    worker_cpu_s: float
    backend_cpu_s: float
    machine_busy: float
    wal_bytes: int
    load: tuple[float, float, float]
    samples: Samples


def _wal_lsn(cursor) -> str:
    cursor.execute("SELECT pg_current_wal_lsn()")
    return cursor.fetchone()[0]


def _run(env: dict[str, str], workers: int) -> Run:
    from django.db import connection

    from contracts_app.models import CohortMigration
    from contracts_app.selectors.cohort_migrations import migration_progress
    from contracts_app.services.cohort_migrations import cohort_migration_create

    source, target = engine_bench._packages(f"scaling {workers}w {uuid.uuid4().hex[:4]}")
    engine_bench._load_cohort(source, SIZE)
    run_env = {**env, "COHORT_MIGRATION_CHAINS": str(workers)}
    processes = _start_workers(run_env, workers)
    data = engine_bench.job_input(source, target)
    samples, stop = Samples(), threading.Event()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        bench_pid = cursor.fetchone()[0]
        wal_before = _wal_lsn(cursor)
    sampler = threading.Thread(target=_sample, args=(stop, samples, bench_pid), daemon=True)
    worker_cpu_before = [psutil.Process(p.pid).cpu_times() for p in processes]
    busy_before = _machine_busy()
    sampler.start()
    migration = cohort_migration_create(data=data, name=f"scaling {workers} workers")
    while True:
        migration.refresh_from_db()
        if migration.status in ("COMPLETED", "FAILED", "CANCELLED"):
            break
        time.sleep(0.5)
    stop.set()
    sampler.join()
    busy_after = _machine_busy()
    worker_cpu = 0.0
    for process, before in zip(processes, worker_cpu_before, strict=True):
        after = psutil.Process(process.pid).cpu_times()
        worker_cpu += (after.user + after.system) - (before.user + before.system)
    load = os.getloadavg()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)::bigint", [wal_before]
        )
        wal_bytes = cursor.fetchone()[0]
    engine_bench._stop(processes)
    migration = CohortMigration.objects.get(id=migration.id)
    planned_at = migration.progress.order_by("id").first().at
    counts = migration_progress([migration])[migration.id]["counts"]
    batches_s = (migration.finished_at - planned_at).total_seconds()
    result = Run(
        workers=workers,
        contracts=counts["migrated"],
        batches_s=batches_s,
        per_s=counts["migrated"] / batches_s,
        status=migration.status,
        worker_cpu_s=worker_cpu,
        # the workers' backends are new connections (fresh worker processes), so their CPU
        # since birth is the run's
        backend_cpu_s=sum(samples.backend_cpu.values()),
        machine_busy=(busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1]),
        wal_bytes=wal_bytes,
        load=load,
        samples=samples,
    )
    return result


def _start_workers(env: dict[str, str], count: int):
    return engine_bench._start_workers(env, count)


def _share(counter: Counter, key: str, total: int) -> str:
    return f"{counter.get(key, 0) / total:4.0%}" if total else "  - "


def _verdict(runs: list[Run]) -> str:
    """Where the curve flattens, and the evidence that says why."""
    cores = os.cpu_count() or 1
    base = runs[0].per_s
    lines = []
    previous = None
    for run in runs:
        if previous is not None:
            gain = run.per_s / previous.per_s
            ideal = run.workers / previous.workers
            if gain < 1 + 0.25 * (ideal - 1):
                total = sum(run.samples.states.values())
                lock = run.samples.states.get("waiting Lock", 0) / total if total else 0.0
                lwlock = run.samples.states.get("waiting LWLock", 0) / total if total else 0.0
                io = run.samples.states.get("waiting IO", 0) / total if total else 0.0
                reasons = []
                cpu_used = (run.worker_cpu_s + run.backend_cpu_s) / max(run.batches_s, 1e-9)
                if run.machine_busy > 0.85:
                    reasons.append(
                        f"CPU: the machine's {cores} cores were {run.machine_busy:.0%} busy "
                        f"(workers {run.worker_cpu_s / run.batches_s:.2f} cores, their "
                        f"PostgreSQL backends {run.backend_cpu_s / run.batches_s:.2f} cores, "
                        f"{cpu_used:.2f} together; the rest is other load)"
                    )
                if lock > 0.10:
                    reasons.append(f"row/transaction locks: {lock:.0%} of backend samples")
                if lwlock > 0.10:
                    reasons.append(
                        f"internal locks (WAL insertion, buffers): {lwlock:.0%} of samples"
                    )
                if io > 0.10:
                    reasons.append(f"I/O waits (WAL writes, reads): {io:.0%} of samples")
                if not reasons:
                    reasons.append("no single resource saturated in the samples; see the table")
                lines.append(
                    f"  stops growing from {previous.workers} to {run.workers} workers "
                    f"(x{gain:.2f} for x{ideal:.0f} the workers): " + "; ".join(reasons)
                )
        previous = run
    if not lines:
        lines.append(
            f"  still growing at {runs[-1].workers} workers "
            f"(x{runs[-1].per_s / base:.2f} of 1 worker)"
        )
    return "\n".join(lines)


def main() -> None:
    with engine_bench.bench_services() as env:
        _main(env)


def _main(env: dict[str, str]) -> None:
    cores = os.cpu_count()
    print(
        f"cohort migration scaling: {SIZE} contracts, workers {WORKER_COUNTS}, {cores} cores, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        flush=True,
    )
    runs = []
    for workers in WORKER_COUNTS:
        run = _run(env, workers)
        runs.append(run)
        print(
            f"  {workers} worker(s): {run.per_s:8.1f} contracts/s, batches {run.batches_s:7.1f} s, "
            f"{run.status} {run.contracts}, load {run.load[0]:.2f}",
            flush=True,
        )
    base = runs[0].per_s
    print(
        "\n  workers  contracts/s  speedup  worker CPU  pg CPU   machine  WAL MB  WAL kB/"
        "   on CPU  idle in tx  Lock  LWLock  IO    load\n"
        "                                   (cores)     (cores)  busy              contract"
    )
    for run in runs:
        states, total = run.samples.states, sum(run.samples.states.values())
        print(
            f"  {run.workers:7d}  {run.per_s:11.1f}  {run.per_s / base:6.2f}x  "
            f"{run.worker_cpu_s / run.batches_s:10.2f}  {run.backend_cpu_s / run.batches_s:7.2f}  "
            f"{run.machine_busy:7.0%}  {run.wal_bytes / 1e6:6.0f}  "
            f"{run.wal_bytes / 1e3 / max(run.contracts, 1):8.1f}  "
            f"{_share(states, 'on CPU', total)}  "
            f"{_share(states, 'idle in tx (worker computing)', total):>10}  "
            f"{_share(states, 'waiting Lock', total)}  "
            f"{_share(states, 'waiting LWLock', total):>6}  "
            f"{_share(states, 'waiting IO', total)}  {run.load[0]:5.2f}"
        )
    cores = os.cpu_count() or 1
    for run in runs:
        ours = (run.worker_cpu_s + run.backend_cpu_s) / run.batches_s
        busy = run.machine_busy * cores
        print(
            f"  {run.workers} worker(s): workers + their backends used {ours:.2f} of the "
            f"{busy:.2f} busy cores ({ours / busy if busy else 0:.0%}); the rest was other load"
        )
    for run in runs:
        top = ", ".join(f"{k} {v}" for k, v in run.samples.waits.most_common(4)) or "none"
        print(f"  {run.workers} worker(s), top waits (samples): {top}")
    print(_verdict(runs), flush=True)


if __name__ == "__main__":
    main()
