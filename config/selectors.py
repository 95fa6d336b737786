from __future__ import annotations

from django.db.models import Count, Q

from contracts_app.models import Contract, Customer
from packages_app.models import Package, RateCard


def home_counts() -> dict[str, int]:
    """Headline counts for the home page: one aggregate query per table, whatever the row count."""
    packages = Package.objects.aggregate(
        total=Count("id"), active=Count("id", filter=Q(archived_at__isnull=True))
    )
    return {
        "packages": packages["total"],
        "active_packages": packages["active"],
        "rate_cards": RateCard.objects.not_archived().count(),
        "customers": Customer.objects.not_archived().count(),
        "contracts": Contract.objects.not_archived().count(),
    }
