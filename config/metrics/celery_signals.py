"""Task outcomes counted in the worker processes (they share PROMETHEUS_MULTIPROC_DIR)."""

from celery import signals

from config.metrics.registry import celery_tasks


def _name(sender) -> str:
    return getattr(sender, "name", None) or str(sender)


@signals.task_success.connect
def _task_succeeded(sender=None, **kwargs):
    celery_tasks.labels(_name(sender), "succeeded").inc()


@signals.task_failure.connect
def _task_failed(sender=None, **kwargs):
    celery_tasks.labels(_name(sender), "failed").inc()


@signals.task_retry.connect
def _task_retried(sender=None, **kwargs):
    celery_tasks.labels(_name(sender), "retried").inc()
