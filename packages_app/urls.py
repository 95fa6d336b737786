from django.urls import path

from packages_app import views

app_name = "packages"
urlpatterns = [
    path("packages/", views.PackageListView.as_view(), name="package-list"),
    path("packages/<uuid:package_id>/", views.package_detail, name="package-detail"),
    path("rate-cards/", views.RateCardListView.as_view(), name="ratecard-list"),
]
