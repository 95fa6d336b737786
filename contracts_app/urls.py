from django.urls import path

from contracts_app import views

app_name = "contracts"
urlpatterns = [
    path("", views.CustomerListView.as_view(), name="customer-list"),
    path("migrations/", views.migration_list, name="migration-list"),
]
