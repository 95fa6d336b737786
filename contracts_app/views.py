from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from config.api.errors import ValidationFailed
from config.api.pagination import keyset_paginate
from config.web import ObjectListView
from contracts_app.models import Customer
from contracts_app.selectors.contracts import contracts_on_package
from packages_app.models import Package

COHORT_PAGE_SIZE = 50


class CustomerListView(ObjectListView):
    permission_required = "contracts_app.view_customer"
    title = "Customers"
    queryset = Customer.objects.order_by("-created_at", "-id")
    columns = [
        ("Name", "name"),
        ("External id", "external_id"),
        ("Created", "created_at"),
        ("Archived", "archived_at"),
    ]


@login_required
@permission_required("contracts_app.view_contract", raise_exception=True)
def package_cohort(request, package_id):
    """Who is on a package: keyset pages of its contracts, "Load more" appends the next page."""
    package = get_object_or_404(Package, pk=package_id)
    active_only = request.GET.get("active") == "1"
    cohort = contracts_on_package(
        package=package,
        covering_date=timezone.now() if active_only else None,
        include_archived=request.GET.get("archived") == "1",
    ).select_related("customer")
    try:
        page = keyset_paginate(
            cohort,
            limit=COHORT_PAGE_SIZE,
            cursor=request.GET.get("after"),
            keys=("starting_at", "id"),
        )
    except ValidationFailed:
        page = keyset_paginate(
            cohort, limit=COHORT_PAGE_SIZE, cursor=None, keys=("starting_at", "id")
        )
    flags = {key: "1" for key in ("active", "archived") if request.GET.get(key) == "1"}
    context = {
        "package": package,
        "page": page,
        "active_only": active_only,
        "more_query": urlencode({**flags, "after": page.next_cursor}) if page.next_cursor else "",
    }
    if request.htmx:
        template = (
            "contracts_app/cohort.html#rows"
            if request.GET.get("after")
            else "contracts_app/cohort.html#cohort"
        )
        return render(request, template, context)
    return render(request, "contracts_app/cohort.html", context)


@login_required
def migration_list(request):
    # Bulk migration jobs (DESIGN.md §7) are not built yet; the page says so instead of a 404.
    return render(request, "contracts_app/migrations.html")
