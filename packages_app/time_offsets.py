"""Calendar arithmetic for relative offsets (DESIGN.md §4).

Every date is computed from the contract start, never by chaining: start + 2 months is computed
directly, so Jan 31 + 1 month = Feb 28/29 but Jan 31 + 2 months = Mar 31.
"""

from __future__ import annotations

import datetime as dt

from config.core.billing_periods import add_months
from config.core.errors import ValidationFailed

UNITS = ("DAYS", "WEEKS", "MONTHS", "YEARS")


def add_offset(start: dt.datetime, unit: str, value: int) -> dt.datetime:
    """`start` moved by `value` `unit`s; months and years clamp to the end of the month.

    A result outside years 1..9999 is bad input (a start near the end of time), not a bug.
    """
    try:
        return _add_offset(start, unit, value)
    except (OverflowError, ValueError) as exc:
        if unit not in UNITS:
            raise
        raise ValidationFailed(
            f"{start.isoformat()} + {value} {unit.lower()} is outside the supported calendar "
            "(years 1 to 9999)",
            field="starting_at",
        ) from exc


def _add_offset(start: dt.datetime, unit: str, value: int) -> dt.datetime:
    if unit == "DAYS":
        return start + dt.timedelta(days=value)
    if unit == "WEEKS":
        return start + dt.timedelta(weeks=value)
    if unit == "MONTHS":
        return add_months(start, value)
    if unit == "YEARS":
        return add_months(start, 12 * value)
    raise ValueError(f"unknown offset unit {unit!r}; expected one of {', '.join(UNITS)}")


def offset_multiple(offset: dict, times: int) -> tuple[str, int]:
    """The offset `times` times over, as (unit, value): period k of a recurrence starts at k * period."""
    return offset["unit"], int(offset["value"]) * times
