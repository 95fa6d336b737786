"""Cohort migration status changes under real concurrent transactions (threads, each with its
own PostgreSQL connection), the beat dispatcher, and the billing-boundary arithmetic."""

from __future__ import annotations

import datetime as dt
import threading

import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections
from django.db.models import Count
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from config.core.billing_periods import PERIOD_BY_FREQUENCY, add_months, next_billing_boundary
from config.core.errors import ValidationFailed
from config.webhooks.services import events_record
from contracts_app import tasks
from contracts_app.models import (
    CohortMigration,
    CohortMigrationChain,
    CohortMigrationItem,
    Contract,
)
from contracts_app.selectors.cohort_migrations import migration_progress
from contracts_app.services import cohort_migration_batches as batches
from contracts_app.services import cohort_migrations as services
from contracts_app.services.cohort_migration_chains import chain_batch_run
from tests.conftest import database_url_for
from tests.contracts_app.cohort_builders import T0, bulk_cohort, two_packages

AT = T0 + dt.timedelta(days=40)


def in_threads(*calls):
    """Run each call in its own thread (its own database connection); their results or errors."""
    results: list = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def job(source, target, *, run_at=None, start=True) -> CohortMigration:
    migration = services.cohort_migration_create(
        data=services.migration_input(
            source={"package_id": source.id},
            target={"package_id": target.id},
            effective={"type": "AT", "at": AT},
        ),
        run_at=run_at,
    )
    if start:
        services.migration_start(migration_id=migration.id)
    return migration


def counts(migration):
    return migration_progress([migration])[migration.id]["counts"]


def cancel_while_the_batch_is_held(migration, held: threading.Event, release: threading.Event):
    """Run a batch of 10 in one thread and, once it has set `held`, cancel the job in another;
    then `release` the batch. Whether the cancel answered within a second, and what the batch
    claimed and the cancel left the job in."""
    outcome = {}

    def batch():
        outcome["claimed"] = batches.migration_batch_run(migration_id=migration.id, batch_size=10)
        connections.close_all()

    def cancel():
        outcome["cancelled"] = services.cohort_migration_cancel(migration=migration).status
        connections.close_all()

    batch_thread, cancel_thread = threading.Thread(target=batch), threading.Thread(target=cancel)
    batch_thread.start()
    held.wait(timeout=30)
    cancel_thread.start()
    cancel_thread.join(timeout=1.0)
    answered_at_once = not cancel_thread.is_alive()
    release.set()
    batch_thread.join(timeout=30)
    cancel_thread.join(timeout=30)
    return answered_at_once, outcome


@pytest.mark.django_db(transaction=True)
def test_cancel_answers_at_once_the_batch_in_flight_finishes_and_nothing_mixes(
    unconsumed_bulk_queue, monkeypatch
):
    # given a running job whose first batch is held open mid-write
    source, target = two_packages()
    bulk_cohort(source, 30)
    migration = job(source, target)
    writing, release = threading.Event(), threading.Event()
    real_write = batches._write_moves

    def slow_write(moves):
        writing.set()
        release.wait(timeout=30)
        real_write(moves)

    monkeypatch.setattr(batches, "_write_moves", slow_write)
    # when the cancel comes while the batch writes
    answered_at_once, outcome = cancel_while_the_batch_is_held(migration, writing, release)
    # then the cancel answered without waiting, the batch in flight finished, and every item
    # is in one final state; the chain's next batch moves nothing
    assert answered_at_once
    assert outcome == {"claimed": 10, "cancelled": "CANCELLED"}
    assert batches.migration_batch_run(migration_id=migration.id, batch_size=10) == 0
    statuses = dict(
        CohortMigrationItem.objects.filter(migration=migration)
        .values_list("status")
        .annotate(n=Count("id"))
    )
    assert statuses == {"MIGRATED": 10, "CANCELLED": 20}
    assert counts(migration) | {} == {
        "total": 30,
        "pending": 0,
        "migrated": 10,
        "skipped": 0,
        "failed": 0,
        "cancelled": 20,
        "reverted": 0,
        "revert_blocked": 0,
    }


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_sees_the_cancel_under_its_item_locks_moves_nothing(
    unconsumed_bulk_queue, monkeypatch
):
    # given a running job whose batch has claimed its items and not yet re-read the status
    source, target = two_packages()
    bulk_cohort(source, 30)
    migration = job(source, target)
    claimed, release = threading.Event(), threading.Event()
    real_claim = batches._claim

    def slow_claim(*args):
        items = real_claim(*args)
        claimed.set()
        release.wait(timeout=30)
        return items

    monkeypatch.setattr(batches, "_claim", slow_claim)
    # when the job is cancelled then (the cancel skips the 10 items the batch holds)
    answered_at_once, outcome = cancel_while_the_batch_is_held(migration, claimed, release)
    # then the batch, seeing CANCELLED under its items' locks, cancels them and moves nothing
    assert answered_at_once
    assert outcome == {"claimed": 0, "cancelled": "CANCELLED"}
    assert set(
        CohortMigrationItem.objects.filter(migration=migration).values_list("status", flat=True)
    ) == {"CANCELLED"}
    assert not Contract.objects.filter(package=target).exists()
    assert counts(migration) | {} == {
        "total": 30,
        "pending": 0,
        "migrated": 0,
        "skipped": 0,
        "failed": 0,
        "cancelled": 30,
        "reverted": 0,
        "revert_blocked": 0,
    }


@pytest.mark.django_db(transaction=True)
def test_concurrent_cancels_and_reverts_each_win_once(unconsumed_bulk_queue):
    # given a running job and a completed one
    source, target = two_packages()
    bulk_cohort(source, 6)
    running = job(source, target)
    other_source, other_target = two_packages()
    bulk_cohort(other_source, 4, name="Other")
    done = job(other_source, other_target)
    while batches.migration_batch_run(migration_id=done.id):
        pass
    services.migration_finish_if_done(migration_id=done.id)
    # when two cancels race, and two reverts race
    cancels = in_threads(
        lambda: services.cohort_migration_cancel(
            migration=CohortMigration.objects.get(id=running.id)
        ),
        lambda: services.cohort_migration_cancel(
            migration=CohortMigration.objects.get(id=running.id)
        ),
    )
    reverts = in_threads(
        lambda: services.cohort_migration_revert(migration=CohortMigration.objects.get(id=done.id)),
        lambda: services.cohort_migration_revert(migration=CohortMigration.objects.get(id=done.id)),
    )
    # then exactly one of each wins and the other is told why
    for results, winner_status in ((cancels, "CANCELLED"), (reverts, "REVERTING")):
        wins = [r for r in results if isinstance(r, CohortMigration)]
        losses = [r for r in results if isinstance(r, ValidationFailed)]
        assert len(wins) == 1 and len(losses) == 1, results
        assert wins[0].status == winner_status
    assert counts(running)["cancelled"] == 6
    assert counts(running)["pending"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_cancel_racing_the_start_leaves_no_pending_item(unconsumed_bulk_queue):
    source, target = two_packages()
    bulk_cohort(source, 20)
    migration = job(source, target, start=False)
    in_threads(
        lambda: services.migration_start(migration_id=migration.id),
        lambda: services.cohort_migration_cancel(
            migration=CohortMigration.objects.get(id=migration.id)
        ),
    )
    migration.refresh_from_db()
    assert migration.status == "CANCELLED"
    assert not CohortMigrationItem.objects.filter(migration=migration, status="PENDING").exists()


@pytest.mark.django_db(transaction=True)
def test_the_dispatcher_starts_a_due_job_once_and_leaves_a_future_one(unconsumed_bulk_queue):
    # given a due job (run_at passed) and a future one, neither started
    source, target = two_packages()
    bulk_cohort(source, 25)
    due = job(source, target, start=False)
    other_source, _ = two_packages()
    bulk_cohort(other_source, 3, name="Other")
    future = services.cohort_migration_create(
        data=services.migration_input(
            source={"package_id": other_source.id},
            target={"package_id": target.id},
            effective={"type": "AT", "at": AT},
        ),
        run_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC),
    )
    # when two dispatchers run at once
    results = in_threads(services.migrations_dispatch, services.migrations_dispatch)
    # then the due job was started by one of them, planned once; the future one waits
    started = [r["started"] for r in results]
    assert sorted(len(s) for s in started) == [0, 1], results
    due.refresh_from_db()
    future.refresh_from_db()
    assert due.status == "RUNNING"
    assert future.status == "SCHEDULED"
    assert CohortMigrationItem.objects.filter(migration=due).count() == 25
    assert due.progress.filter(total__gt=0).count() == 1
    assert not CohortMigrationItem.objects.filter(migration=future).exists()


@pytest.mark.django_db(transaction=True)
def test_each_dead_chain_is_requeued_once_and_a_chain_at_work_never(unconsumed_bulk_queue):
    # given a running job whose two chains' leases ran out, one of them held by a batch at work
    source, target = two_packages()
    bulk_cohort(source, 5)
    running = job(source, target)
    chains = CohortMigrationChain.objects.filter(migration=running)
    assert chains.count() == settings.COHORT_MIGRATION_CHAINS == 2
    chains.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    dead_token = chains.get(number=0).token
    at_work = psycopg.connect(database_url_for(connection.settings_dict))
    try:
        at_work.execute(
            "SELECT 1 FROM contracts_app_cohortmigrationchain "
            "WHERE migration_id = %s AND number = 1 FOR NO KEY UPDATE",
            [running.id],
        )
        # when the dispatcher runs twice within the lease (beat every few seconds)
        first = services.migrations_dispatch()
        second = services.migrations_dispatch()
    finally:
        at_work.rollback()
        at_work.close()
    # then the dead chain was queued again once, the one at work not at all
    assert first["requeued"] == [running.id]
    assert second["requeued"] == []
    # and the dead chain's old task, should the broker deliver it again, does nothing
    assert (
        chain_batch_run(
            migration_id=running.id,
            number=0,
            token=dead_token,
            run=batches.migration_batch_run,
            batch_size=5,
        )
        is None
    )
    assert CohortMigrationItem.objects.filter(migration=running, status="PENDING").count() == 5
    # and once the batch at work is gone (its worker died), its chain comes back too
    assert services.migrations_dispatch()["requeued"] == [running.id]


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_chains_all_ended_unfinished_is_finished_by_the_dispatcher(
    unconsumed_bulk_queue,
):
    # given a running job with nothing left pending whose finishing step died with its worker
    source, target = two_packages()
    bulk_cohort(source, 4)
    running = job(source, target)
    while batches.migration_batch_run(migration_id=running.id):
        pass
    chains = CohortMigrationChain.objects.filter(migration=running)
    chains.update(expires_at=None)  # every chain ended
    # when the dispatcher runs
    assert services.migrations_dispatch()["requeued"] == [running.id, running.id]
    # then a revived chain's task, as a worker runs it, finishes the job
    tasks.migration_batch(str(running.id), "0", str(chains.get(number=0).token))
    running.refresh_from_db()
    assert running.status == "COMPLETED"
    assert services.migrations_dispatch()["requeued"] == []


def test_the_dispatcher_is_registered_with_beat_in_code():
    entry = settings.CELERY_BEAT_SCHEDULE["cohort-migrations-dispatch"]
    assert entry["task"] == tasks.migration_dispatch.name
    assert entry["schedule"] <= 30
    assert tasks.migration_batch.acks_late and tasks.migration_revert_batch.acks_late


# --- NEXT_BILLING_PERIOD boundaries: the SQL function against its Python twin -------------------

anchors = st.datetimes(min_value=dt.datetime(1996, 1, 1), max_value=dt.datetime(2104, 12, 31)).map(
    lambda d: d.replace(tzinfo=dt.UTC)
)
# Anchors on the 28th to 31st (and Feb 29) are where month arithmetic goes wrong.
month_ends = st.builds(
    lambda year, month, day, hour: dt.datetime(
        year,
        month,
        min(
            day,
            [31, 29 if year % 4 == 0 else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1],
        ),
        hour,
        tzinfo=dt.UTC,
    ),
    st.integers(1996, 2104),
    st.integers(1, 12),
    st.integers(28, 31),
    st.integers(0, 23),
)
# Every frequency of the one table, so the SQL twin cannot miss one.
frequencies = st.sampled_from(sorted(PERIOD_BY_FREQUENCY))


@pytest.mark.django_db
@hypothesis_settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(anchor=st.one_of(month_ends, anchors), frequency=frequencies, not_before=anchors)
def test_next_billing_boundary_sql_equals_python_and_is_the_first_boundary(
    anchor, frequency, not_before
):
    python = next_billing_boundary(anchor, frequency, not_before)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT cohort_next_billing_boundary(%s, %s, %s)", [anchor, frequency, not_before]
        )
        sql = cursor.fetchone()[0]
    assert sql == python
    # it is a boundary: anchor + k periods, computed from the anchor (month ends clamped) ...
    assert python >= not_before
    unit, count = PERIOD_BY_FREQUENCY[frequency]
    if unit != "MONTHS":
        period = dt.timedelta(days=count * (7 if unit == "WEEKS" else 1))
        assert (python - anchor) % period == dt.timedelta(0)
        assert python - period < not_before
    else:
        months = count
        elapsed = (python.year - anchor.year) * 12 + python.month - anchor.month
        assert elapsed % months == 0
        assert python == add_months(anchor, elapsed)
        # ... and the first one: the boundary before it is before not_before
        assert add_months(anchor, elapsed - months) < not_before


@pytest.mark.django_db(transaction=True)
def test_a_batch_commits_asynchronously_with_room_for_its_sorts_but_an_event_commits_durably(
    unconsumed_bulk_queue,
):
    # given a running job's chain
    source, target = two_packages()
    bulk_cohort(source, 2)
    running = job(source, target)
    chain = CohortMigrationChain.objects.filter(migration=running).order_by("number").first()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('synchronous_commit'), current_setting('work_mem')")
        outside = cursor.fetchone()
        cursor.execute("SELECT current_setting('jit')")
        jit_outside = cursor.fetchone()[0]
    seen = {}

    def run(*, migration_id, batch_size):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('synchronous_commit'), current_setting('work_mem'), "
                "current_setting('jit')"
            )
            seen["batch"] = cursor.fetchone()
        claimed = batches.migration_batch_run(migration_id=migration_id, batch_size=batch_size)
        events_record("cohort_migration.started", {"id": str(migration_id)})
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('synchronous_commit')")
            seen["after_event"] = cursor.fetchone()[0]
        return claimed

    # when a batch of it runs
    assert chain_batch_run(
        migration_id=running.id, number=chain.number, token=chain.token, run=run, batch_size=5
    ) == (2, chain.token + 1)
    # then the batch's own transaction commits without waiting for the disk, sorts in memory and
    # compiles nothing,
    assert seen["batch"] == ("off", "64MB", "off")
    # an event it announced makes its commit durable again,
    assert seen["after_event"] == "on"
    # and nothing of it outlives the transaction
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('synchronous_commit'), current_setting('work_mem')")
        assert cursor.fetchone() == outside
        cursor.execute("SELECT current_setting('jit')")
        assert cursor.fetchone()[0] == jit_outside
    assert not getattr(connection, "asynchronous_commit", False)


@pytest.mark.django_db
def test_item_snapshots_compress_with_lz4_where_the_server_has_it():
    # given the server's compression methods
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        has_lz4 = cursor.fetchone()[0]
        # when the item table is asked how its snapshot column compresses
        cursor.execute(
            "SELECT attcompression FROM pg_attribute WHERE attrelid = "
            "'contracts_app_cohortmigrationitem'::regclass AND attname = 'snapshot'"
        )
        method = cursor.fetchone()[0]
    # then it is lz4 (the migration's choice) wherever lz4 exists
    assert method == ("l" if has_lz4 else "")
