"""Queuing cohort-migration work: services name the task, the worker runs contracts_app.tasks.

Services send by task name so they never import the tasks module (tasks call services; an import
back would make a circle). The names are defined here once and the tasks are declared with them.
"""

from __future__ import annotations

from django.conf import settings

from config.celery import app

MIGRATION_START = "contracts_app.tasks.migration_start"
MIGRATION_BATCH = "contracts_app.tasks.migration_batch"
MIGRATION_REVERT_BATCH = "contracts_app.tasks.migration_revert_batch"


def enqueue(task_name: str, *args) -> None:
    """Send to the bulk queue (read at call time, so a test can give its worker a queue)."""
    app.send_task(task_name, args=[str(a) for a in args], queue=settings.BULK_QUEUE)
