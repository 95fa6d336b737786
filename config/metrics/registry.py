"""The process's Prometheus series, shared across gunicorn and Celery processes.

With PROMETHEUS_MULTIPROC_DIR set (`make run` sets it under ./var), every process writes its
counters and histograms there and a scrape adds them up; without it (tests, a lone runserver)
the process's own registry is read.
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, multiprocess

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
QUERY_BUCKETS = (1, 2, 3, 5, 8, 13, 21, 34, 55, 100, 250)

http_requests = Counter(
    "pricing_http_requests",
    "HTTP requests answered, by route name, method and status",
    ["route", "method", "status"],
)
http_request_duration = Histogram(
    "pricing_http_request_duration_seconds",
    "Time to answer an HTTP request, by route name, method and status",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
db_queries = Counter(
    "pricing_db_queries", "Database queries run while answering requests, by route", ["route"]
)
db_queries_per_request = Histogram(
    "pricing_db_queries_per_request",
    "Database queries per request, by route",
    ["route"],
    buckets=QUERY_BUCKETS,
)
celery_tasks = Counter(
    "pricing_celery_tasks",
    "Celery tasks finished, by task name and outcome (succeeded, failed, retried)",
    ["task", "outcome"],
)
cohort_migration_items_processed = Counter(
    "pricing_cohort_migration_items_processed",
    "Cohort-migration items processed by workers, by outcome; rate() gives items per second",
    ["outcome"],
)


class _ScrapeRegistry:
    """What one scrape reads: every process's series, then the state read at scrape time."""

    def __init__(self, *sources) -> None:
        self.sources = sources

    def collect(self):
        for source in self.sources:
            yield from source.collect()


def scrape_registry() -> _ScrapeRegistry:
    from config.metrics.collectors import StateCollector

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
        return _ScrapeRegistry(processes, StateCollector())
    return _ScrapeRegistry(REGISTRY, StateCollector())
