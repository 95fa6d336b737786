from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.urls import reverse

from config.web import ObjectListView
from packages_app.models import Package, RateCard
from packages_app.selectors.browse import package_for_page


class PackageListView(ObjectListView):
    permission_required = "packages_app.view_package"
    title = "Packages"
    queryset = Package.objects.select_related("rate_card").order_by("-created_at", "-id")
    columns = [
        ("Name", "name"),
        ("Rate card", "rate_card.name"),
        ("Rate card alias", "rate_card_alias"),
        ("Created", "created_at"),
        ("Archived", "archived_at"),
    ]

    def row_url(self, package: Package) -> str:
        return reverse("packages:package-detail", args=[package.pk])


class RateCardListView(ObjectListView):
    permission_required = "packages_app.view_ratecard"
    title = "Rate cards"
    queryset = RateCard.objects.select_related("fiat_credit_type").order_by("-created_at", "-id")
    columns = [
        ("Name", "name"),
        ("Fiat credit type", "fiat_credit_type.name"),
        ("Created", "created_at"),
        ("Archived", "archived_at"),
    ]


@login_required
@permission_required("packages_app.view_package", raise_exception=True)
def package_detail(request, package_id):
    package = package_for_page(package_id=package_id)
    return render(request, "packages_app/package_detail.html", {"package": package})
