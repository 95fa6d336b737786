"""Alias schedules for packages and rate cards (DESIGN.md §3).

Assigning a name to a target for [starting_at, ending_before) wins over older assignments in that
interval: they are trimmed or split around it; one the new interval covers entirely is marked
superseded. Nothing is deleted, so the schedule's history stays visible. Assignments of one name
are serialised by locking the AliasName row; the exclusion constraint is the backstop.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from config.audit.services import audit_record, audit_record_many
from config.core.errors import ValidationFailed
from packages_app.models import AliasAssignment, AliasName, Package, RateCard


def alias_name_lock(*, kind: str, name: str) -> AliasName:
    """Get or create the alias name and lock its row for this transaction."""
    try:
        with transaction.atomic():
            AliasName.objects.get_or_create(kind=kind, name=name)
    except IntegrityError:
        pass  # created concurrently by another request: fine, lock it below
    return AliasName.objects.select_for_update().get(kind=kind, name=name)


def _overlaps(start: dt.datetime, end: dt.datetime | None) -> Q:
    condition = Q(ending_before__isnull=True) | Q(ending_before__gt=start)
    if end is not None:
        condition &= Q(starting_at__lt=end)
    return condition


def alias_assign_many(
    *,
    kind: str,
    entries: list[dict],
    package: Package | None = None,
    rate_card: RateCard | None = None,
    field: str = "aliases",
) -> list[AliasAssignment]:
    """Assign several names to one target. Names are locked in sorted order, so two requests
    naming the same aliases in different orders wait for each other instead of deadlocking;
    entries of one name keep their request order (a later entry wins). Call it inside the
    caller's transaction: each assignment is atomic on its own."""
    order = sorted(range(len(entries)), key=lambda index: entries[index]["name"])
    assignments = [
        alias_assign(
            kind=kind,
            name=entries[index]["name"],
            package=package,
            rate_card=rate_card,
            starting_at=entries[index].get("starting_at"),
            ending_before=entries[index].get("ending_before"),
            field=f"{field}[{index}]",
            record=False,
        )
        for index in order
    ]
    # One bulk INSERT for the trail, whatever the number of names.
    audit_record_many(
        action="assign",
        resource_type="alias",
        resource_ids=[assignment.alias_name_id for assignment in assignments],
        changes=[_assignment_changes(assignment) for assignment in assignments],
    )
    return assignments


def _assignment_changes(assignment: AliasAssignment) -> dict:
    return {
        "name": assignment.alias_name.name,
        "package_id": assignment.package_id,
        "rate_card_id": assignment.rate_card_id,
        "starting_at": assignment.starting_at,
        "ending_before": assignment.ending_before,
    }


@transaction.atomic
def alias_assign(
    *,
    kind: str,
    name: str,
    package: Package | None = None,
    rate_card: RateCard | None = None,
    starting_at: dt.datetime | None = None,
    ending_before: dt.datetime | None = None,
    field: str = "aliases",
    record: bool = True,
) -> AliasAssignment:
    """`record=False` when the caller records the assignment itself (alias_assign_many)."""
    # The wire shows milliseconds; a default start kept finer would read back a little early.
    if starting_at is None:
        now = timezone.now()
        starting_at = now.replace(microsecond=now.microsecond // 1000 * 1000)
    start = starting_at
    end = ending_before
    if end is not None and end <= start:
        raise ValidationFailed(
            "ending_before must be after starting_at", field=f"{field}.ending_before"
        )
    alias_name = alias_name_lock(kind=kind, name=name)
    now = timezone.now()
    to_update: list[AliasAssignment] = []
    to_create: list[AliasAssignment] = []
    older = AliasAssignment.objects.in_force().filter(_overlaps(start, end), alias_name=alias_name)
    for row in older:
        starts_before = row.starting_at < start
        ends_after = end is not None and (row.ending_before is None or row.ending_before > end)
        if (
            starts_before and ends_after
        ):  # split: keep the head, add the tail after the new interval
            to_create.append(
                AliasAssignment(
                    alias_name=alias_name,
                    package=row.package,
                    rate_card=row.rate_card,
                    starting_at=end,
                    ending_before=row.ending_before,
                )
            )
            row.ending_before = start
        elif starts_before:
            row.ending_before = start
        elif ends_after:
            row.starting_at = end
        else:
            row.superseded_at = now
        to_update.append(row)
    # Trim before inserting: the constraint is checked row by row.
    AliasAssignment.objects.bulk_update(
        to_update, ["starting_at", "ending_before", "superseded_at"]
    )
    assignment = AliasAssignment(
        alias_name=alias_name,
        package=package,
        rate_card=rate_card,
        starting_at=start,
        ending_before=end,
    )
    AliasAssignment.objects.bulk_create([*to_create, assignment])
    if record:
        audit_record(
            action="assign",
            resource_type="alias",
            resource_id=alias_name.pk,
            changes=_assignment_changes(assignment),
        )
    return assignment
