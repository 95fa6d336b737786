"""Celery tasks of the contracts room: thin, idempotent, late-acknowledged; each takes ids,
reads the state back from the database and calls a service, so running one twice
(redelivery after a killed worker) changes nothing. Every `migration_*` task is routed to the
bulk queue (settings.CELERY_TASK_ROUTES / BULK_QUEUE), away from interactive work."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from contracts_app.services import cohort_migration_batches as batches
from contracts_app.services import cohort_migrations as migrations
from contracts_app.services.recurring_horizon import recurring_terms_extend

logger = logging.getLogger(__name__)


@shared_task(name="contracts_app.tasks.recurring_terms_extend_task", acks_late=True)
def recurring_terms_extend_task() -> int:
    """Beat (daily): keep the next 12 months of recurring periods materialised for every
    open-ended contract. Safe to re-run or run twice at once (see the service)."""
    added = recurring_terms_extend(now=timezone.now())
    logger.info("recurring terms extended: %d periods added", added)
    return added


def enqueue(task, *args) -> None:
    """Send to the bulk queue (read at call time, so a test can give its worker a queue)."""
    task.apply_async(args=[str(a) for a in args], queue=settings.BULK_QUEUE)


@shared_task(name="contracts_app.tasks.migration_start", acks_late=True)
def migration_start(migration_id: str) -> bool:
    return migrations.migration_start(migration_id=migration_id)


@shared_task(name="contracts_app.tasks.migration_batch", acks_late=True)
def migration_batch(migration_id: str) -> int:
    """One batch, then the next (a chain per worker); the last one finishes the job."""
    claimed = batches.migration_batch_run(
        migration_id=migration_id, batch_size=settings.COHORT_MIGRATION_BATCH_SIZE
    )
    if claimed:
        enqueue(migration_batch, migration_id)
    else:
        migrations.migration_finish_if_done(migration_id=migration_id)
    return claimed


@shared_task(name="contracts_app.tasks.migration_revert_batch", acks_late=True)
def migration_revert_batch(migration_id: str) -> int:
    claimed = batches.migration_revert_batch_run(
        migration_id=migration_id, batch_size=settings.COHORT_MIGRATION_BATCH_SIZE
    )
    if claimed:
        enqueue(migration_revert_batch, migration_id)
    else:
        migrations.migration_finish_if_done(migration_id=migration_id)
    return claimed


@shared_task(name="contracts_app.tasks.migration_dispatch", acks_late=True)
def migration_dispatch(stale_after_seconds: int = 120) -> dict:
    """Beat, every 30 s (settings.CELERY_BEAT_SCHEDULE): start due jobs, revive stalled ones."""
    result = migrations.migrations_dispatch(stale_after=dt.timedelta(seconds=stale_after_seconds))
    return {key: [str(v) for v in values] for key, values in result.items()}
