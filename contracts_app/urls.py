from django.urls import path

from contracts_app import views

app_name = "contracts"
urlpatterns = [
    path("customers/", views.CustomerListView.as_view(), name="customer-list"),
    path("packages/<uuid:package_id>/cohort/", views.package_cohort, name="package-cohort"),
    path("migrations/", views.migration_list, name="migration-list"),
]
