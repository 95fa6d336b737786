from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from config.web import ObjectListView
from contracts_app.models import Customer


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
def migration_list(request):
    # Bulk migration jobs (DESIGN.md §7) are not built yet; the page says so instead of a 404.
    return render(request, "contracts_app/migrations.html")
