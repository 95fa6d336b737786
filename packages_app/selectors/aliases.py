"""Alias resolution: "alias X as of t" is answered here and nowhere else."""

from __future__ import annotations

import datetime as dt

from django.db.models import Min

from config.core.errors import ValidationFailed
from packages_app.models import AliasAssignment, AliasName, Package, RateCard


def alias_assignment_at(*, kind: str, name: str, at: dt.datetime) -> AliasAssignment | None:
    return (
        AliasAssignment.objects.active_at(at)
        .filter(alias_name__kind=kind, alias_name__name=name)
        .select_related("package", "rate_card")
        .first()
    )


def package_for_alias(*, name: str, at: dt.datetime) -> Package | None:
    assignment = alias_assignment_at(kind=AliasName.Kind.PACKAGE, name=name, at=at)
    return assignment.package if assignment else None


def rate_card_for_alias(*, name: str, at: dt.datetime) -> RateCard | None:
    assignment = alias_assignment_at(kind=AliasName.Kind.RATE_CARD, name=name, at=at)
    return assignment.rate_card if assignment else None


def alias_package_versions(*, alias_name: AliasName) -> list:
    """Package ids in the order they were first assigned this name: version N is item N-1."""
    rows = (
        AliasAssignment.objects.filter(alias_name=alias_name, package__isnull=False)
        .values("package_id")
        .annotate(first=Min("id"))
        .order_by("first")
    )
    return [row["package_id"] for row in rows]


def alias_schedule(*, alias_name: AliasName):
    """The whole schedule of one name, superseded rows included, oldest start first."""
    return (
        AliasAssignment.objects.filter(alias_name=alias_name)
        .select_related("package", "rate_card")
        .order_by("starting_at", "id")
    )


def alias_schedules_of(*, alias_name_ids) -> list[AliasAssignment]:
    """Every interval of these alias names, superseded ones included, by name then start (the
    package page draws its aliases' schedules from these)."""
    if not alias_name_ids:
        return []
    return list(
        AliasAssignment.objects.filter(alias_name_id__in=alias_name_ids)
        .select_related("alias_name", "package", "rate_card")
        .order_by("alias_name__name", "starting_at", "id")
    )


def rate_card_assignments(*, rate_card: RateCard):
    """The alias intervals pointing at a rate card, by name then start."""
    return (
        AliasAssignment.objects.filter(rate_card=rate_card)
        .select_related("alias_name", "rate_card", "package")
        .order_by("alias_name__name", "starting_at", "id")
    )


def package_to_schedule(*, package_id, field: str) -> Package:
    """The package a page points an alias at: it exists and is not archived (through an
    archived package's alias nobody could be provisioned). Refusals name `field`."""
    package = Package.objects.filter(pk=package_id).first()
    if package is None:
        raise ValidationFailed("Choose a package", field=field)
    if package.archived_at is not None:
        raise ValidationFailed(
            "This package is archived: nobody could be provisioned through the alias", field=field
        )
    return package


def package_alias_name(*, name: str) -> AliasName:
    return AliasName.objects.get(kind=AliasName.Kind.PACKAGE, name=name)
