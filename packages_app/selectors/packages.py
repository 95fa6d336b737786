"""Reads of packages, each with the prefetching its callers need (a fixed number of queries)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Prefetch, QuerySet

from config.api.errors import NotFound
from packages_app.models import USD_CENTS_ID, AliasAssignment, CreditType, Package, PackageTerm


def packages_with_details() -> QuerySet[Package]:
    """Packages with terms (+ products) and their alias intervals still in force: 3 queries.

    Only the columns the wire format shows are loaded: a page of packages carries many terms,
    and each product's own JSON and timestamps would cost more to decode than the page itself.
    """
    return Package.objects.prefetch_related(
        Prefetch(
            "terms",
            queryset=PackageTerm.objects.select_related("product")
            .only("id", "package_id", "kind", "ordinal", "body", "product__id", "product__name")
            .order_by("kind", "ordinal"),
        ),
        Prefetch(
            "alias_assignments",
            queryset=AliasAssignment.objects.in_force()
            .select_related("alias_name")
            .only(
                "id",
                "package_id",
                "starting_at",
                "ending_before",
                "alias_name__id",
                "alias_name__name",
            )
            .order_by("starting_at", "id"),
        ),
    )


def package_get(*, package_id: Any, field: str = "package_id") -> Package:
    """The package with its details; unknown or malformed ids are 404, as Metronome answers."""
    try:
        key = uuid.UUID(str(package_id))
    except ValueError:
        raise NotFound(f"Package {package_id} not found", field=field) from None
    package = packages_with_details().filter(pk=key).first()
    if package is None:
        raise NotFound(f"Package {package_id} not found", field=field)
    return package


def package_list(*, archive_filter: str = "NOT_ARCHIVED") -> QuerySet[Package]:
    return packages_with_details().by_archive_filter(archive_filter)


def _term_credit_type_ids(body: Mapping[str, Any]) -> Iterable[str]:
    for key in ("access_schedule", "invoice_schedule", "schedule", "overwrite_rate"):
        part = body.get(key)
        if part and part.get("credit_type_id"):
            yield part["credit_type_id"]


def credit_types_for(packages: Iterable[Package]) -> dict[str, CreditType]:
    """Every credit type the packages' terms name, USD cents included, in one query."""
    wanted = {str(USD_CENTS_ID)}
    for package in packages:
        for term in package.terms.all():
            wanted.update(_term_credit_type_ids(term.body))
    return {str(ct.id): ct for ct in CreditType.objects.filter(id__in=wanted)}
