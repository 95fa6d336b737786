"""Reading the audit trail: filtered, newest or oldest first, one keyset page per query."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from config.api.errors import ValidationFailed
from config.api.pagination import CursorPage, cursor_for, cursor_values
from config.audit.models import AuditLogEntry

ASC, DESC = "date_asc", "date_desc"
HISTORY_LIMIT = 20


def audit_entries(
    *,
    resource_type: str | None = None,
    resource_id: Any = None,
    actor: str | None = None,
    starting_on: dt.datetime | None = None,
    ending_before: dt.datetime | None = None,
) -> QuerySet[AuditLogEntry]:
    """Entries matching every filter given. `actor`: a username or the recorded actor name."""
    entries = AuditLogEntry.objects.all()
    if resource_type:
        entries = entries.filter(resource_type=resource_type)
    if resource_id:
        entries = entries.filter(resource_id=str(resource_id))
    if actor:
        # Two indexed conditions (no join): the user's id by a subquery, or the recorded name.
        users = get_user_model().objects.filter(username=actor).values("id")
        entries = entries.filter(Q(actor_name=actor) | Q(actor_user_id__in=users))
    if starting_on is not None:
        entries = entries.filter(timestamp__gte=starting_on)
    if ending_before is not None:
        entries = entries.filter(timestamp__lt=ending_before)
    return entries


def audit_page(
    entries: QuerySet[AuditLogEntry],
    *,
    limit: int,
    cursor: str | None,
    sort: str = ASC,
    cursor_field: str = "next_page",
) -> CursorPage:
    """A page ordered by (timestamp, id), ascending or descending; the cursor holds the last
    row's key and the direction, so it cannot be replayed the other way round."""
    descending = sort == DESC
    if cursor:
        stamp, entry_id, direction = cursor_values(cursor, 3, cursor_field)
        try:
            last_at = AuditLogEntry._meta.get_field("timestamp").to_python(stamp)
            last_id = AuditLogEntry._meta.get_field("id").to_python(entry_id)
        except ValidationError:
            last_at = last_id = None
        if last_at is None or last_id is None or direction != sort:
            raise ValidationFailed(f"{cursor_field} is not a valid cursor", field=cursor_field)
        if descending:
            after = Q(timestamp__lt=last_at) | Q(timestamp=last_at, id__lt=last_id)
        else:
            after = Q(timestamp__gt=last_at) | Q(timestamp=last_at, id__gt=last_id)
        entries = entries.filter(after)
    order = ("-timestamp", "-id") if descending else ("timestamp", "id")
    rows = list(entries.order_by(*order)[: limit + 1])
    if len(rows) <= limit:
        return CursorPage(items=rows, next_cursor=None)
    rows = rows[:limit]
    last = rows[-1]
    return CursorPage(items=rows, next_cursor=cursor_for([last.timestamp, last.id, sort]))


def resource_history(
    *, resource_type: str, resource_id: Any, limit: int = HISTORY_LIMIT
) -> list[AuditLogEntry]:
    """The newest entries of one resource (the "History" section of its page): one query."""
    return list(
        audit_entries(resource_type=resource_type, resource_id=resource_id).order_by(
            "-timestamp", "-id"
        )[:limit]
    )
