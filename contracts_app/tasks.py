"""Celery tasks of the contracts room: thin, idempotent, each calls one service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from contracts_app.services.recurring_horizon import recurring_terms_extend

logger = logging.getLogger(__name__)


@shared_task(name="contracts_app.tasks.recurring_terms_extend_task", acks_late=True)
def recurring_terms_extend_task() -> int:
    """Beat (daily): keep the next 12 months of recurring periods materialised for every
    open-ended contract. Safe to re-run or run twice at once (see the service)."""
    added = recurring_terms_extend(now=timezone.now())
    logger.info("recurring terms extended: %d periods added", added)
    return added
