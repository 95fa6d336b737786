"""The catalog's series on /metrics, registered with config.metrics in PackagesAppConfig.ready()."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from packages_app.models import AliasAssignment


def alias_repoints_next_24h() -> Iterator[GaugeMetricFamily]:
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
    yield family
