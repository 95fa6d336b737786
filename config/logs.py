"""Request-scoped logs: every log record carries the id of the request (or task) it belongs to.

The id comes from the audit context (config.audit.context), which the request middleware binds
and Celery tasks bind from the `request_id` header their publisher stamped, so a request's id
follows the work it queued into the worker's logs and audit entries. `LOG_FORMAT=json` prints one
JSON object per line for log shippers; the default stays readable.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from config.core.instants import format_instant_millis

READABLE_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
NO_REQUEST = "-"

_installed = False
# Django logs a 4xx/5xx response after the middleware chain has returned (and the audit context
# is unbound), so the id for logs lives on until the request_finished signal clears it.
_request_id_for_logs: ContextVar[str] = ContextVar("request_id_for_logs", default="")


def bind_request_id_for_logs(request_id: str) -> None:
    _request_id_for_logs.set(request_id)


def _clear_request_id(**_kwargs) -> None:
    _request_id_for_logs.set("")


# Reads the audit context's request id; config.audit registers it in AuditConfig.ready(), so
# logging imports nothing above it.
_context_request_id: Callable[[], str] = lambda: ""  # noqa: E731


def register_context_request_id(reader: Callable[[], str]) -> None:
    global _context_request_id
    _context_request_id = reader


def current_request_id() -> str:
    return _context_request_id() or _request_id_for_logs.get() or NO_REQUEST


def install_request_id_on_records() -> None:
    """Give every LogRecord a `request_id` (a record factory reaches every handler and logger)."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def record_with_request_id(*args, **kwargs):
        record = make_record(*args, **kwargs)
        record.request_id = current_request_id()
        return record

    logging.setLogRecordFactory(record_with_request_id)
    from django.core.signals import request_finished

    request_finished.connect(_clear_request_id, dispatch_uid="clear_request_id_for_logs")
    _installed = True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (RFC 3339 UTC), level, logger, request_id, message."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": format_instant_millis(datetime.fromtimestamp(record.created, UTC)),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", NO_REQUEST),
            "message": record.getMessage(),
            "process": record.process,
        }
        for key in ("task_name", "task_id"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class ReadableFormatter(logging.Formatter):
    def __init__(self, *args, **kwargs):
        super().__init__(READABLE_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):  # made before the record factory was installed
            record.request_id = NO_REQUEST
        return super().format(record)

    def formatTime(self, record, datefmt=None):
        return format_instant_millis(datetime.fromtimestamp(record.created, UTC))


# --- Celery: the publishing request's id travels in the message headers. ---
REQUEST_ID_TASK_HEADER = "request_id"


def stamp_request_id(headers=None, **_kwargs) -> None:
    """before_task_publish: record the id of the request (or task) that queues this task."""
    request_id = current_request_id()
    if headers is not None and request_id != NO_REQUEST:
        headers.setdefault(REQUEST_ID_TASK_HEADER, request_id)


def task_request_id(task) -> str | None:
    request = getattr(task, "request", None)
    if request is None:
        return None
    value = getattr(request, REQUEST_ID_TASK_HEADER, None)
    if value is None and isinstance(getattr(request, "headers", None), dict):
        value = request.headers.get(REQUEST_ID_TASK_HEADER)
    return value


def connect_celery_signals() -> None:
    from celery.signals import before_task_publish, setup_logging

    before_task_publish.connect(stamp_request_id, weak=False, dispatch_uid="stamp_request_id")
    # Workers use Django's LOGGING (request ids, LOG_FORMAT) instead of Celery's own set-up.
    setup_logging.connect(_configure_worker_logging, weak=False, dispatch_uid="worker_logging")


def _configure_worker_logging(**_kwargs) -> None:
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
