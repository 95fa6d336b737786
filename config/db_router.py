"""Optional read replica for read-heavy pages (cohort pages, CSV exports).

Off by default: with no `DATABASE_REPLICA_URL`, `settings.READ_REPLICA_ALIAS` is None and every
query runs on `default`. With it, reads made inside `replica_reads()` (a context manager and a
view decorator) go to the `replica` alias; everything else stays on `default`, and writes never
leave it. Only pages that tolerate replication lag (seconds) opt in: a cohort list, an export.
A streaming response (CSV export) evaluates its queryset after the view returns, outside the
decorator: `config.web.csv_response` sends its rows to `read_alias()` instead.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.db import connections

_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


@contextmanager
def replica_reads():
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def reads_from_replica(view):
    """View decorator: the view's reads (template rendering included) may use the replica."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        with replica_reads():
            return view(*args, **kwargs)

    return wrapped


def read_alias() -> str:
    """The alias for reads that tolerate lag: the replica when configured, else default. For
    querysets evaluated after the view returns (a streamed CSV): `rows.using(read_alias())`."""
    return settings.READ_REPLICA_ALIAS or "default"


def lag_tolerant_connection():
    """The connection for raw SQL (the router sees only the ORM) that may read from the
    replica: the replica inside `replica_reads()` when one is configured, else default."""
    alias = settings.READ_REPLICA_ALIAS
    return connections[alias if alias and _replica_reads.get() else "default"]


class ReadReplicaRouter:
    def db_for_read(self, model, **hints):
        alias = settings.READ_REPLICA_ALIAS
        if alias and _replica_reads.get():
            return alias
        return None  # the next router, or default

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database and its copy: the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"  # the replica follows default by replication
