from django.urls import path

from packages_app import views

app_name = "packages"
urlpatterns = [
    path("", views.PackageListView.as_view(), name="package-list"),
    path("rate-cards/", views.RateCardListView.as_view(), name="ratecard-list"),
]
