"""Series read at scrape time from PostgreSQL and the broker: always current, nothing to keep."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from config.celery import app as celery_app

logger = logging.getLogger(__name__)


def queue_names() -> list[str]:
    """The queues the product sends to (settings name them, so a renamed queue is still seen)."""
    return list(dict.fromkeys([settings.CELERY_TASK_DEFAULT_QUEUE, settings.BULK_QUEUE]))


class StateCollector:
    def collect(self):
        yield self._queue_depth()
        yield self._alias_repoints_next_24h()
        if apps.is_installed("contracts_app") and _has_model("contracts_app", "CohortMigration"):
            yield from self._cohort_migrations()

    def _queue_depth(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "pricing_celery_queue_depth", "Tasks waiting in each Celery queue", labels=["queue"]
        )
        try:
            with celery_app.connection_for_read() as conn:
                client = conn.default_channel.client
                for queue in queue_names():
                    family.add_metric([queue], client.llen(queue))
        except Exception:  # a broker that does not answer must not fail the scrape
            logger.warning("metrics: the broker did not answer the queue-depth read")
        return family

    def _alias_repoints_next_24h(self) -> GaugeMetricFamily:
        from packages_app.models import AliasAssignment

        now = timezone.now()
        family = GaugeMetricFamily(
            "pricing_alias_repoints_next_24h",
            "Alias assignments that take effect within the next 24 hours, by alias kind",
            labels=["kind"],
        )
        counts = dict(
            AliasAssignment.objects.in_force()
            .filter(starting_at__gt=now, starting_at__lte=now + timedelta(hours=24))
            .values_list("alias_name__kind")
            .annotate(n=Count("id"))
        )
        for kind in ("package", "rate_card"):
            family.add_metric([kind], counts.get(kind, 0))
        return family

    def _cohort_migrations(self):
        migration_model = apps.get_model("contracts_app", "CohortMigration")
        family = GaugeMetricFamily(
            "pricing_cohort_migrations", "Cohort migrations by status", labels=["status"]
        )
        counts = dict(migration_model.objects.values_list("status").annotate(n=Count("id")))
        for status in migration_model.Status.values:
            family.add_metric([status], counts.get(status, 0))
        yield family
        if _has_model("contracts_app", "CohortMigrationItem"):
            item_model = apps.get_model("contracts_app", "CohortMigrationItem")
            pending = GaugeMetricFamily(
                "pricing_cohort_migration_items_pending",
                "Items of unfinished cohort migrations still to be processed",
            )
            pending.add_metric([], item_model.objects.filter(status="PENDING").count())
            yield pending


def _has_model(app_label: str, name: str) -> bool:
    try:
        apps.get_model(app_label, name)
    except LookupError:
        return False
    return True
