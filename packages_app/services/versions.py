"""A new version of a package: packages are immutable, so a change is a new package, which may
take over the old one's aliases from a date (DESIGN.md §3, §6: version N of a plan is the N-th
package its alias pointed at)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Q

from config.core.errors import ValidationFailed
from packages_app.models import AliasAssignment, AliasName, Package
from packages_app.services.aliases import alias_assign
from packages_app.services.packages import package_create


def aliases_taken_over(*, source: Package, starting_at: dt.datetime) -> list[AliasAssignment]:
    """The in-force intervals of `source`'s aliases still running at or after `starting_at`."""
    return list(
        AliasAssignment.objects.in_force()
        .filter(package=source)
        .filter(Q(ending_before__isnull=True) | Q(ending_before__gt=starting_at))
        .select_related("alias_name")
        .order_by("alias_name__name", "starting_at")
    )


@transaction.atomic
def package_version_create(
    *,
    source: Package,
    created_by: str,
    take_over_aliases_from: dt.datetime | None = None,
    **create: Any,
) -> Package:
    """Create a package (`package_create`'s arguments) and, from `take_over_aliases_from`,
    point every alias of `source` at it until the end that alias had for `source`."""
    package = package_create(created_by=created_by, **create)
    if take_over_aliases_from is None:
        return package
    intervals = aliases_taken_over(source=source, starting_at=take_over_aliases_from)
    if not intervals:
        raise ValidationFailed(
            f"No alias points at {source.name!r} on or after that date",
            field="take_over_aliases_from",
        )
    seen: set[str] = set()
    for interval in intervals:  # names in sorted order: no deadlock with other assigners
        if interval.alias_name.name in seen:
            continue
        seen.add(interval.alias_name.name)
        ends = [i.ending_before for i in intervals if i.alias_name_id == interval.alias_name_id]
        alias_assign(
            kind=AliasName.Kind.PACKAGE,
            name=interval.alias_name.name,
            package=package,
            starting_at=max(take_over_aliases_from, interval.starting_at),
            ending_before=None if None in ends else max(ends),
            field="take_over_aliases_from",
        )
    return package
