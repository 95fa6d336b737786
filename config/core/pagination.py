"""Keyset cursor pagination producing `{"data": [...], "next_page": <opaque cursor or null>}`.

The cursor is the ordering key of the last row served, so a page costs one index range scan
whatever the table size (no OFFSET). Rows are compared as a PostgreSQL row value
`(k1, k2) > (v1, v2)`, which an index on (k1, k2) answers directly.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from config.core.errors import ValidationFailed
from config.core.jsonutil import loads_bounded

DEFAULT_LIMIT = 10
MAX_LIMIT = 100


@dataclass(frozen=True)
class CursorPage:
    items: list[Any]
    next_cursor: str | None


def parse_limit(
    raw: Any, *, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT, field: str = "limit"
) -> int:
    if raw is None:
        return default
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{field} must be an integer", field=field) from None
    if not 1 <= limit <= maximum:
        raise ValidationFailed(f"{field} must be between 1 and {maximum}", field=field)
    return limit


def _encode(values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, dt.datetime) else str(v) for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _decode(cursor: str, size: int, field: str) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = loads_bounded(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValidationFailed(f"{field} is not a valid cursor", field=field) from None
    if (
        not isinstance(values, list)
        or len(values) != size
        or not all(isinstance(v, str) for v in values)
    ):
        raise ValidationFailed(f"{field} is not a valid cursor", field=field)
    return values


def cursor_values(cursor: str, size: int, field: str = "next_page") -> list[str]:
    """The `size` key values a cursor carries, as strings (for pages read with plain SQL)."""
    return _decode(cursor, size, field)


def cursor_for(values: list[Any]) -> str:
    """The cursor carrying `values`, the ordering key of the last row served."""
    return _encode(values)


def _typed(model, keys: tuple[str, ...], values: list[str], field: str) -> list[Any]:
    """Cursor values as the key columns' Python types: a forged cursor is a 400, not SQL's error."""
    typed = []
    for key, value in zip(keys, values, strict=True):
        try:
            typed.append(model._meta.get_field(key).to_python(value))
        except ValidationError:
            raise ValidationFailed(f"{field} is not a valid cursor", field=field) from None
    if any(value is None for value in typed):
        raise ValidationFailed(f"{field} is not a valid cursor", field=field)
    return typed


def keyset_paginate(
    queryset: QuerySet,
    *,
    limit: int,
    cursor: str | None,
    keys: tuple[str, ...] = ("created_at", "id"),
    cursor_field: str = "next_page",
    descending: bool = False,
) -> CursorPage:
    """One page of `queryset` ordered by `keys` (the last key must be unique), ascending, or
    newest first with `descending` (the same index, scanned backwards)."""
    model = queryset.model
    columns = [model._meta.get_field(key).column for key in keys]
    qualified = ", ".join(f'"{model._meta.db_table}"."{column}"' for column in columns)
    queryset = queryset.order_by(*(f"-{key}" if descending else key for key in keys))
    if cursor:
        values = _typed(model, keys, _decode(cursor, len(keys), cursor_field), cursor_field)
        placeholders = ", ".join(["%s"] * len(values))
        after = "<" if descending else ">"
        queryset = queryset.extra(where=[f"({qualified}) {after} ({placeholders})"], params=values)
    rows = list(queryset[: limit + 1])
    if len(rows) <= limit:
        return CursorPage(items=rows, next_cursor=None)
    rows = rows[:limit]
    last = rows[-1]
    return CursorPage(items=rows, next_cursor=_encode([getattr(last, key) for key in keys]))
