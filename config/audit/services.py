"""Recording writes. Services call these inside the write's own transaction, so an entry
commits with its change or not at all (no lost and no phantom entries)."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from config.audit.context import PROCESS_RUN_ID, current_actor
from config.audit.models import AuditLogEntry
from config.core.bulk_rows import records_insert
from config.core.instants import format_instant_exact


def _plain(value: Any) -> Any:
    """A JSON-safe copy of a changed value (ids, instants, decimals as strings)."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, Model):
        return str(value.pk)
    if isinstance(value, QuerySet):  # a many-to-many field's cleaned value
        return [str(pk) for pk in value.values_list("pk", flat=True)]
    if isinstance(value, dt.datetime):  # RFC 3339 in UTC, as on the wire
        return format_instant_exact(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """`{"field": {"before": x, "after": y}}` for the fields whose value differs."""
    changes = {}
    for field in after:
        old, new = _plain(before.get(field)), _plain(after[field])
        if old != new:
            changes[field] = {"before": old, "after": new}
    return changes


def _summary(action: str, resource_type: str, changes: Mapping[str, Any] | None) -> str:
    """A one-line description when the service gives none: "Changed name, description"."""
    noun = resource_type.replace("_", " ")
    fields = [
        field
        for field, value in (changes or {}).items()
        if isinstance(value, Mapping) and "after" in value
    ]
    if action == "create":
        return f"Created {noun}"
    if fields:
        return f"{action.replace('_', ' ').capitalize()}: {', '.join(fields)}"
    return f"{action.replace('_', ' ').capitalize()} ({noun})"


def _who(at: dt.datetime) -> dict[str, Any]:
    """The columns every entry of one write shares: when, who, from where."""
    actor, context = current_actor()
    return {
        "timestamp": at,
        "actor_user_id": actor.user_id,
        "actor_name": actor.name,
        "actor_email": actor.email,
        "api_token_id": actor.token_id,
        "api_token_prefix": actor.token_prefix,
        "channel": actor.channel,
        "request_id": context.request_id if context else PROCESS_RUN_ID,
        "ip": context.ip if context else None,
        "user_agent": context.user_agent if context else "",
    }


def _what(
    *,
    action: str,
    resource_type: str,
    resource_id: Any,
    description: str,
    changes: Mapping[str, Any] | None,
) -> dict[str, Any]:
    return {
        "action": action,
        "resource_type": resource_type,
        "resource_id": str(resource_id),
        "description": description or _summary(action, resource_type, changes),
        "changes": _plain(dict(changes or {})),
    }


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the write's transaction (atomic)")


def audit_record(
    *,
    action: str,
    resource_type: str,
    resource_id: Any,
    description: str = "",
    changes: dict | None = None,
) -> AuditLogEntry:
    """Record one write (one INSERT). `changes`: `{"field": {"before", "after"}}` for updates,
    `{"id": new_id}` or the created fields for creates."""
    _require_transaction()
    entry = AuditLogEntry(
        **_who(timezone.now()),
        **_what(
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            description=description,
            changes=changes,
        ),
    )
    entry.save(force_insert=True)
    return entry


def audit_record_many(
    *,
    action: str,
    resource_type: str,
    resource_ids: Iterable[Any],
    description: str = "",
    changes: Sequence[dict | None] | None = None,
) -> int:
    """One entry per resource of a bulk write, in one INSERT (none when the list is empty); the
    number written. The rows go in as plain records (a cohort-migration batch writes 1,500:
    model instances and bulk_create's quoting were most of their cost)."""
    _require_transaction()
    ids = list(resource_ids)
    if not ids:
        return 0
    per_row = list(changes) if changes is not None else [None] * len(ids)
    shared = {**_who(timezone.now()), "action": action, "resource_type": resource_type}
    records = []
    for resource_id, row_changes in zip(ids, per_row, strict=True):
        what = _what(
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            description=description,
            changes=row_changes,
        )
        del what["action"], what["resource_type"]
        records.append({"id": uuid.uuid4(), **what})
    records_insert(AuditLogEntry, records, shared=shared)
    return len(ids)


def queryset_update_recorded(queryset, *, action: str, resource_type: str, **values: Any) -> int:
    """`queryset.update(**values)` for bulk actions, with one entry per row it changed.

    The rows are locked and listed first (the changelist's queryset may be annotated, so it is
    used as a subquery), then updated by id and recorded in one bulk INSERT: three queries
    whatever the number of rows.
    """
    model = queryset.model
    with transaction.atomic():
        ids = list(
            model._default_manager.filter(pk__in=queryset.values("pk"))
            .select_for_update()
            .values_list("pk", flat=True)
        )
        if not ids:
            return 0
        count = model._default_manager.filter(pk__in=ids).update(**values)
        after = {
            field: {"before": None, "after": value}
            for field, value in values.items()
            if field != "updated_at"  # bookkeeping, not a change anyone made
        }
        audit_record_many(
            action=action,
            resource_type=resource_type,
            resource_ids=ids,
            changes=[after] * len(ids),
        )
    return count


def stamp_recorded(
    row: Model, field: str, *, action: str, resource_type: str, also_saved: Sequence[str] = ()
) -> None:
    """Set a one-way stamp (`archived_at`, `revoked_at`) on one row to now, save it (with
    `also_saved`, e.g. an auto-updated `updated_at`) and record it, as `queryset_update_recorded`
    does for many rows. The caller decides whether the row is still unstamped."""
    setattr(row, field, timezone.now())
    row.save(update_fields=[field, *also_saved])
    audit_record(
        action=action,
        resource_type=resource_type,
        resource_id=row.pk,
        changes={field: {"before": None, "after": getattr(row, field)}},
    )
