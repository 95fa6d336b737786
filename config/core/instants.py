"""Instants: one parse and one wire format, plus the named presentation precisions.

The wire writes a UTC instant as RFC 3339 with a `Z`, whole seconds, and milliseconds only when
the instant has a fraction (`2024-01-01T00:00:00Z`, `2024-01-01T00:00:00.250Z`). Pages, CSV, logs
and snapshots choose another precision by name here, never by a strftime of their own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def _utc(value: dt.datetime) -> dt.datetime:
    """A naive value is taken as UTC (forms and admin hand those in)."""
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)


def format_instant(value: dt.datetime | None) -> str | None:
    """The wire's instant: RFC 3339 UTC, milliseconds kept when present."""
    if value is None:
        return None
    value = value.astimezone(dt.UTC)
    text = value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def parse_instant(value: Any) -> dt.datetime | None:
    """An RFC 3339 / ISO 8601 text (with `Z` or an offset) as a datetime; a datetime as is.

    Raises ValueError on a malformed text, so callers turn that into a 400 naming their field.
    """
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def format_instant_exact(value: dt.datetime) -> str:
    """Full precision (microseconds) in UTC: snapshots and audit records that must read back
    the same instant, not the wire's millisecond one."""
    return _utc(value).isoformat().replace("+00:00", "Z")


def format_instant_to_second(value: dt.datetime) -> str:
    """`2024-01-01T14:05:09Z`: CSV exports and form-built bodies (forms have no fractions)."""
    return _utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_instant_to_minute(value: dt.datetime) -> str:
    """`2024-01-01T14:05Z`: short labels on pages and admin object names."""
    return _utc(value).strftime("%Y-%m-%dT%H:%MZ")


def format_instant_millis(value: dt.datetime) -> str:
    """`2024-01-01T14:05:09.000Z`: log lines, always aligned to milliseconds."""
    return _utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def format_day_or_minute(value: dt.datetime) -> str:
    """`2027-01-31` at midnight UTC, else `2027-01-31T14:05Z`: dates on pages."""
    value = _utc(value)
    if (value.hour, value.minute, value.second) == (0, 0, 0):
        return value.strftime("%Y-%m-%d")
    return format_instant_to_minute(value)
