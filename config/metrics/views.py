"""GET /metrics: Prometheus exposition for a token holding metrics.view_metrics.

With METRICS_ALLOW_LOOPBACK=1 a scraper on the same host may read it without a token.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from config.api.permissions import HasRequiredPermission
from config.metrics.registry import scrape_registry


class LoopbackOrPermitted(BasePermission):
    def has_permission(self, request, view) -> bool:
        if settings.METRICS_ALLOW_LOOPBACK and request.META.get("REMOTE_ADDR") in (
            "127.0.0.1",
            "::1",
        ):
            return True
        return HasRequiredPermission().has_permission(request, view)


@extend_schema(exclude=True)
class MetricsView(APIView):
    required_permission = "metrics.view_metrics"
    permission_classes = [LoopbackOrPermitted]

    def get(self, request):
        return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)
