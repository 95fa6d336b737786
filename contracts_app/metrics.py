"""Contracts' series on /metrics, registered with config.metrics in ContractsAppConfig.ready()."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from contracts_app.models import CohortMigration, CohortMigrationItem


def cohort_migrations() -> Iterator[GaugeMetricFamily]:
    family = GaugeMetricFamily(
        "pricing_cohort_migrations", "Cohort migrations by status", labels=["status"]
    )
    counts = dict(CohortMigration.objects.values_list("status").annotate(n=Count("id")))
    for status in CohortMigration.Status.values:
        family.add_metric([status], counts.get(status, 0))
    yield family
    pending = GaugeMetricFamily(
        "pricing_cohort_migration_items_pending",
        "Items of unfinished cohort migrations still to be processed",
    )
    pending.add_metric([], CohortMigrationItem.objects.filter(status="PENDING").count())
    yield pending
