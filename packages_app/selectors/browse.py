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
