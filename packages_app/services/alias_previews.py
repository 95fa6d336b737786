"""What an alias schedule would look like after an assignment, before it is made: the
assignment is run by `alias_assign` itself in a transaction that is always rolled back."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from packages_app.models import AliasAssignment, Package, RateCard
from packages_app.services.aliases import alias_assign


class _Discard(Exception):
    pass


def alias_assign_preview(*, kind: str, name: str, **assignment) -> list[AliasAssignment]:
    """The in-force intervals of `name` as `alias_assign` would leave them; nothing is kept.
    `assignment`: the rest of `alias_assign`'s keywords (package or rate_card, starting_at,
    ending_before). Raises the assignment's own errors."""
    rows: list[AliasAssignment] = []
    try:
        with transaction.atomic():
            alias_assign(kind=kind, name=name, **assignment, field="schedule")
            rows = list(
                AliasAssignment.objects.in_force()
                .filter(alias_name__kind=kind, alias_name__name=name)
                .select_related("alias_name", "package", "rate_card")
                .order_by("starting_at", "id")
            )
            raise _Discard
    except _Discard:
        pass
    return rows


def alias_assignment_exists(
    *,
    kind: str,
    name: str,
    package: Package | None,
    rate_card: RateCard | None,
    starting_at: dt.datetime,
    ending_before: dt.datetime | None,
) -> bool:
    """Whether exactly this interval is already in force (a repeated submit changes nothing)."""
    return (
        AliasAssignment.objects.in_force()
        .filter(
            alias_name__kind=kind,
            alias_name__name=name,
            package=package,
            rate_card=rate_card,
            starting_at=starting_at,
            ending_before=ending_before,
        )
        .exists()
    )
