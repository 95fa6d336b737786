"""Series read at scrape time from PostgreSQL and the broker: always current, nothing to keep."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from prometheus_client.core import GaugeMetricFamily

from config.celery import app as celery_app

logger = logging.getLogger(__name__)


def queue_names() -> list[str]:
    """The queues the product sends to (settings name them, so a renamed queue is still seen)."""
    return list(dict.fromkeys([settings.CELERY_TASK_DEFAULT_QUEUE, settings.BULK_QUEUE]))


# Series the apps add, read at scrape time. This plumbing imports no app: each app registers its
# readers in AppConfig.ready() (packages_app/metrics.py, contracts_app/metrics.py).
StateReader = Callable[[], Iterable[GaugeMetricFamily]]
_state_readers: dict[str, StateReader] = {}


def register_state_metrics(name: str, reader: StateReader) -> None:
    """Add `reader`'s series to every scrape; registering a name again replaces it."""
    _state_readers[name] = reader


class StateCollector:
    def collect(self):
        yield self._queue_depth()
        for reader in _state_readers.values():
            yield from reader()

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
