"""Billing periods: one frequency table and one boundary function.

Usage statements, recurring commits and credits, and invoice recurring schedules all name a
frequency; this table says how long one period is. Dates are computed from the anchor in one
step, never by chaining (Jan 31 + 1 month = Feb 28/29, Jan 31 + 2 months = Mar 31).
The SQL function `cohort_next_billing_boundary` (contracts_app migrations) is the database's twin
of `next_billing_boundary`; tests hold the two equal for every frequency here.
"""

from __future__ import annotations

import calendar
import datetime as dt

Period = tuple[str, int]  # (unit, count): DAYS, WEEKS or MONTHS

PERIOD_BY_FREQUENCY: dict[str, Period] = {
    "DAILY": ("DAYS", 1),
    "WEEKLY": ("WEEKS", 1),
    "MONTHLY": ("MONTHS", 1),
    "QUARTERLY": ("MONTHS", 3),
    "SEMI_ANNUAL": ("MONTHS", 6),
    "ANNUAL": ("MONTHS", 12),
}


def period_of(frequency: str) -> Period:
    """One period of `frequency` as (unit, count); KeyError for a frequency not in the table."""
    return PERIOD_BY_FREQUENCY[frequency]


def months_per_period(frequency: str) -> int:
    """Calendar months in one period of a month-based frequency."""
    unit, count = period_of(frequency)
    if unit != "MONTHS":
        raise ValueError(f"{frequency} periods are not whole months")
    return count


def add_months(start: dt.datetime, months: int) -> dt.datetime:
    """`start` moved by whole months, the day clamped to the end of a shorter month."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def next_billing_boundary(
    anchor: dt.datetime, frequency: str, not_before: dt.datetime
) -> dt.datetime:
    """The first `anchor + k periods` (k any integer) on or after `not_before`.

    A frequency the table does not know counts as monthly (the SQL twin does the same).
    """
    unit, count = PERIOD_BY_FREQUENCY.get(frequency, ("MONTHS", 1))
    if unit != "MONTHS":
        period = dt.timedelta(days=count * (7 if unit == "WEEKS" else 1))
        k = -((anchor - not_before) // period)  # ceil((not_before - anchor) / period)
        return anchor + k * period
    elapsed = (not_before.year - anchor.year) * 12 + not_before.month - anchor.month
    k = elapsed // count
    boundary = add_months(anchor, k * count)
    return boundary if boundary >= not_before else add_months(anchor, (k + 1) * count)
