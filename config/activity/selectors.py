"""The entries the /activity/ filters select (the filter form's cleaned values, UTC dates
inclusive), over the audit trail's own reader (config/audit/selectors.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from config.audit.models import AuditLogEntry
from config.audit.selectors import (
    DESC,
    audit_entries,
    audit_page,
    batch_groups,
    entries_one_per_batch,
)


def _day_start(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC) if day else None


def activity_entries(
    *,
    resource_type: str | None = None,
    resource_id: str | None = None,
    actor: str | None = None,
    channel: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    xact: int | None = None,
) -> QuerySet[AuditLogEntry]:
    """Entries of the type, object, actor and channel asked for, written from the start of
    `since` to the end of `until` (UTC days), or by one transaction (`xact`)."""
    entries = audit_entries(
        resource_type=resource_type,
        resource_id=resource_id,
        actor=actor,
        starting_on=_day_start(since),
        ending_before=_day_start(until + dt.timedelta(days=1) if until else None),
        xact_id=xact,
    )
    return entries.filter(channel=channel) if channel else entries


def activity_page(filters: dict[str, Any], *, limit: int, cursor: str | None):
    """One page of /activity/, newest first, and what each of its rows' transactions wrote:
    one row per batch (`entries_one_per_batch`, `batch_groups`) unless one object's or one
    transaction's entries were asked for (then every entry, and no groups)."""
    entries = activity_entries(**filters)
    grouped = not filters.get("resource_id") and not filters.get("xact")
    listed = entries_one_per_batch(entries) if grouped else entries
    page = audit_page(listed, limit=limit, cursor=cursor, sort=DESC)
    return page, batch_groups(entries, page.items) if grouped else {}
