"""The alias cohort's table: everyone on any package an alias has pointed at, grouped by package
in the order the alias first pointed at each, each group a keyset walk of that package's cohort
(`cohort_page`). The cursor is (package position, the package page's cursor); a page that ends a
package's group continues with the next non-empty one, so a page reads at most as many packages
as it shows (the counts, one aggregate, say which are empty)."""

from __future__ import annotations

import datetime as dt

from config.core.errors import ValidationFailed
from config.core.pagination import cursor_for, cursor_values
from contracts_app.selectors.cohorts import CohortFilter, cohort_page


def _alias_cursor(raw: str | None) -> tuple[int, str | None]:
    """(package position, inner cursor); a forged or stale cursor starts from the first."""
    if not raw:
        return 0, None
    try:
        position, inner = cursor_values(raw, 2, "after")
        return int(position), inner or None
    except (ValidationFailed, ValueError):
        return 0, None


def _package_page(package, *, filters, now, limit: int, cursor: str | None):
    try:
        return cohort_page(package=package, filters=filters, now=now, limit=limit, cursor=cursor)
    except ValidationFailed:
        return cohort_page(package=package, filters=filters, now=now, limit=limit, cursor=None)


def alias_cohort_page(
    packages: list,
    counts: dict,
    *,
    filters: CohortFilter,
    now: dt.datetime,
    limit: int,
    cursor: str | None,
) -> tuple[list, str | None]:
    """[(package, contracts, continued)] of one page of at most `limit` contracts, and the next
    cursor; `continued`: the group goes on from the page before (its heading is already shown)."""
    position, inner = _alias_cursor(cursor)
    groups, room = [], limit
    for index in range(position, len(packages)):
        package = packages[index]
        if not counts.get(package.id):
            inner = None
            continue
        page = _package_page(package, filters=filters, now=now, limit=room, cursor=inner)
        groups.append((package, page.items, bool(inner)))
        room -= len(page.items)
        inner = None
        if page.next_cursor:
            return groups, cursor_for([index, page.next_cursor])
        if room == 0:
            rest = [p for p in packages[index + 1 :] if counts.get(p.id)]
            return groups, cursor_for([index + 1, ""]) if rest else None
    return groups, None
