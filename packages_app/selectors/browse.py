"""Reads for the browser UI (the API's reads live in selectors/packages.py)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from packages_app.models import AliasAssignment, AliasName, Package, PackageTerm


def package_for_page(*, package_id) -> Package:
    """A package with its terms (and products) and its whole alias history: 3 queries."""
    queryset = Package.objects.select_related("rate_card").prefetch_related(
        Prefetch(
            "terms",
            queryset=PackageTerm.objects.select_related("product").order_by("kind", "ordinal"),
        ),
        Prefetch(
            "alias_assignments",
            queryset=AliasAssignment.objects.select_related("alias_name").order_by(
                "starting_at", "id"
            ),
        ),
    )
    return get_object_or_404(queryset, pk=package_id)


def aliases_with_intervals(*, kind: str = "", query: str = ""):
    """Alias names (of `kind` when it is one, names containing `query`), each with its in-force
    intervals as `.intervals`, in start order: 2 queries per page."""
    names = AliasName.objects.order_by("kind", "name", "id").prefetch_related(
        Prefetch(
            "assignments",
            queryset=AliasAssignment.objects.in_force()
            .select_related("package", "rate_card", "alias_name")
            .order_by("starting_at", "id"),
            to_attr="intervals",
        )
    )
    if kind in AliasName.Kind.values:
        names = names.filter(kind=kind)
    if query:
        names = names.filter(name__icontains=query)
    return names


# The package list shows each package's cohort (contracts running now). Contracts live in
# contracts_app, which the catalog never imports: contracts_app registers its counter in
# `AppConfig.ready()` (as it registers its metrics), and without one the column is empty.
_cohort_counter = None


def register_cohort_counter(counter) -> None:
    """`counter(package_ids, now) -> {package id: contracts running now}`, one query."""
    global _cohort_counter
    _cohort_counter = counter


def cohort_counts_now(package_ids, now) -> dict:
    return _cohort_counter(package_ids, now) if _cohort_counter and package_ids else {}


def package_list_aliases(packages, now) -> dict:
    """For the package list: {package id: {"aliases": the alias intervals of the package (not
    superseded), "lineage": [(alias name, [package, ...]), ...]}}: each alias of the package
    with every package it has pointed at, in the order it was first pointed at each (its
    versions: v1 → v2 …). One query whatever the page size."""
    ids = [package.pk for package in packages]
    names = AliasAssignment.objects.filter(package_id__in=ids).values("alias_name_id")
    rows = list(
        AliasAssignment.objects.filter(alias_name_id__in=names)
        .select_related("alias_name", "package")
        .only(
            "id",
            "starting_at",
            "ending_before",
            "superseded_at",
            "package_id",
            "alias_name__id",
            "alias_name__name",
            "alias_name__kind",
            "package__id",
            "package__name",
            "package__archived_at",
        )
        .order_by("alias_name__name", "id")
    )
    versions: dict[int, list] = {}
    for row in rows:  # first assignment order = version order
        line = versions.setdefault(row.alias_name_id, [])
        if row.package_id not in {package.pk for package in line}:
            line.append(row.package)
    found: dict = {pk: {"aliases": [], "lineage": []} for pk in ids}
    for row in sorted(rows, key=lambda r: (r.alias_name.name, r.starting_at, r.id)):
        entry = found.get(row.package_id)
        if entry is None:
            continue
        if row.superseded_at is None:
            entry["aliases"].append(row)
        if all(name.pk != row.alias_name_id for name, _ in entry["lineage"]):
            entry["lineage"].append((row.alias_name, versions[row.alias_name_id]))
    return found
