from config.web import ObjectListView
from packages_app.models import Package, RateCard


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
