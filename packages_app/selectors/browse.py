"""Reads for the browser UI (the API's reads live in selectors/packages.py)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from packages_app.models import AliasAssignment, Package, PackageTerm


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
