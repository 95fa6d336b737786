"""Request count, latency and database queries per route name and status."""

from __future__ import annotations

import time
from contextlib import ExitStack

from django.db import connections

from config.metrics.registry import (
    db_queries,
    db_queries_per_request,
    http_request_duration,
    http_requests,
)


def route_name(request) -> str:
    """The URL pattern's name (bounded cardinality: never the raw path)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route or "unnamed"


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with ExitStack() as wrapped:
            for connection in connections.all():  # default and, when configured, the replica
                wrapped.enter_context(connection.execute_wrapper(count))
            response = self.get_response(request)
        elapsed = time.perf_counter() - started
        route = route_name(request)
        labels = (route, request.method, str(response.status_code))
        http_requests.labels(*labels).inc()
        http_request_duration.labels(*labels).observe(elapsed)
        db_queries.labels(route).inc(queries)
        db_queries_per_request.labels(route).observe(queries)
        return response
