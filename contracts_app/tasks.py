"""Celery tasks of the contracts room: thin, idempotent, late-acknowledged; each takes ids,
reads the state back from the database and calls a service, so running one twice
(redelivery after a killed worker) changes nothing. Every `migration_*` task is routed to the
bulk queue (settings.CELERY_TASK_ROUTES / BULK_QUEUE), away from interactive work."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from contracts_app.services import cohort_migration_batches as batches
from contracts_app.services import cohort_migration_chains as chains
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
def migration_batch(migration_id: str, chain: str | None = None, token: str | None = None) -> int:
    """One batch of a chain, then the chain's next (a chain per worker); the last one finishes
    the job."""
    return _chain_step(migration_batch, batches.migration_batch_run, migration_id, chain, token)


@shared_task(name="contracts_app.tasks.migration_revert_batch", acks_late=True)
def migration_revert_batch(
    migration_id: str, chain: str | None = None, token: str | None = None
) -> int:
    return _chain_step(
        migration_revert_batch, batches.migration_revert_batch_run, migration_id, chain, token
    )


def _chain_step(task, run, migration_id: str, chain: str | None, token: str | None) -> int:
    if chain is None:  # queued before chains had leases: the dispatcher gives the job its chains
        return 0
    step = chains.chain_batch_run(
        migration_id=migration_id,
        number=int(chain),
        token=int(token),
        run=run,
        batch_size=settings.COHORT_MIGRATION_BATCH_SIZE,
    )
    if step is None:  # superseded: the chain runs under a newer token
        return 0
    claimed, next_token = step
    if claimed:
        enqueue(task, migration_id, chain, next_token)
    else:
        migrations.migration_finish_if_done(migration_id=migration_id)
    return claimed


@shared_task(name="contracts_app.tasks.migration_dispatch", acks_late=True)
def migration_dispatch(**_ignored) -> dict:
    """Beat, every few seconds (settings.CELERY_BEAT_SCHEDULE): start due jobs, revive the
    chains that died with a worker."""
    result = migrations.migrations_dispatch()
    return {key: [str(v) for v in values] for key, values in result.items()}
