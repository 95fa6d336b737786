"""The dashboard's reads: headline counts, alias changes coming up, recent packages and
provisions, cohort migrations running or scheduled with their progress. A fixed number of
queries whatever the data (DESIGN.md §9)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q

from contracts_app.models import CohortMigration, Contract, Customer
from contracts_app.selectors.cohort_migrations import migration_progress
from packages_app.models import AliasAssignment, Package, RateCard

UPCOMING_DAYS = 90
RECENT = 8


def dashboard_facts(*, now: dt.datetime) -> dict:
    packages = Package.objects.aggregate(
        total=Count("id"), active=Count("id", filter=Q(archived_at__isnull=True))
    )
    contracts = Contract.objects.not_archived().aggregate(
        total=Count("id"),
        running=Count(
            "id",
            filter=Q(starting_at__lte=now)
            & (Q(ending_before__isnull=True) | Q(ending_before__gt=now)),
        ),
    )
    migrations = list(
        CohortMigration.objects.filter(status__in=CohortMigration.UNFINISHED)
        .select_related("source_package", "target_package")
        .order_by("run_at", "id")[:RECENT]
    )
    progress = migration_progress(migrations) if migrations else {}
    return {
        "migrations": [(m, progress[m.id]) for m in migrations],
        "counts": {
            "packages": packages["total"],
            "active_packages": packages["active"],
            "rate_cards": RateCard.objects.not_archived().count(),
            "customers": Customer.objects.not_archived().count(),
            "contracts": contracts["total"],
            "running_contracts": contracts["running"],
        },
        "alias_changes": list(
            AliasAssignment.objects.in_force()
            .filter(starting_at__gt=now, starting_at__lte=now + dt.timedelta(days=UPCOMING_DAYS))
            .select_related("alias_name", "package", "rate_card")
            .order_by("starting_at", "id")[:RECENT]
        ),
        "recent_packages": list(Package.objects.order_by("-created_at", "-id")[:RECENT]),
        "recent_contracts": list(
            Contract.objects.select_related("customer", "package").order_by("-created_at", "-id")[
                :RECENT
            ]
        ),
        "upcoming_days": UPCOMING_DAYS,
    }
