from django.urls import path

from contracts_app import (
    views,
    views_cohort,
    views_contract_edits,
    views_migrations,
    views_packages,
)
from packages_app import views_packages as catalog_package_views

app_name = "contracts"
urlpatterns = [
    path(
        "packages/new/", catalog_package_views.PackageBuilderView.as_view(), name="package-builder"
    ),
    path(
        "packages/new/preview/",
        views_packages.package_builder_preview,
        name="package-builder-preview",
    ),
    path(
        "packages/<uuid:package_id>/",
        views_packages.PackageDetailView.as_view(),
        name="package-detail",
    ),
    path(
        "packages/<uuid:package_id>/forecast/",
        views_packages.package_forecast_panel,
        name="package-forecast",
    ),
    path(
        "packages/<uuid:package_id>/new-version/",
        catalog_package_views.PackageBuilderView.as_view(),
        name="package-new-version",
    ),
    path(
        "packages/<uuid:package_id>/new-version/preview/",
        views_packages.package_builder_preview,
        name="package-version-preview",
    ),
    path(
        "packages/<uuid:package_id>/archive/",
        catalog_package_views.PackageArchiveView.as_view(),
        name="package-archive",
    ),
    path(
        "packages/<uuid:package_id>/cohort/",
        views_cohort.PackageCohortView.as_view(),
        name="package-cohort",
    ),
    path(
        "packages/<uuid:package_id>/cohort.csv",
        views_cohort.package_cohort_csv,
        name="package-cohort-csv",
    ),
    path(
        "aliases/<int:alias_id>/cohort/",
        views_cohort.AliasCohortView.as_view(),
        name="alias-cohort",
    ),
    path(
        "aliases/<int:alias_id>/cohort/chart/",
        views_cohort.alias_cohort_chart,
        name="alias-cohort-chart",
    ),
    path("customers/", views.CustomerListView.as_view(), name="customer-list"),
    path("customers/new/", views.CustomerNewView.as_view(), name="customer-new"),
    path(
        "customers/<uuid:customer_id>/", views.CustomerDetailView.as_view(), name="customer-detail"
    ),
    path(
        "customers/<uuid:customer_id>/provision/",
        views.CustomerProvisionView.as_view(),
        name="customer-provision",
    ),
    path(
        "customers/<uuid:customer_id>/schedule-change/",
        views.CustomerScheduleChangeView.as_view(),
        name="customer-schedule-change",
    ),
    path(
        "customers/<uuid:customer_id>/billing/",
        views.CustomerBillingAddView.as_view(),
        name="customer-billing",
    ),
    path(
        "customers/<uuid:customer_id>/billing/<uuid:configuration_id>/archive/",
        views.customer_billing_archive,
        name="customer-billing-archive",
    ),
    path(
        "contracts/<uuid:contract_id>/",
        views_contract_edits.ContractDetailView.as_view(),
        name="contract-detail",
    ),
    path(
        "contracts/<uuid:contract_id>/edits/",
        views_contract_edits.ContractEditHistoryView.as_view(),
        name="contract-edit-history",
    ),
    path(
        "contracts/<uuid:contract_id>/edits/<slug:kind>/",
        views_contract_edits.ContractEditView.as_view(),
        name="contract-edit",
    ),
    path("migrations/", views_migrations.MigrationListView.as_view(), name="migration-list"),
    path("migrations/new/", views_migrations.migration_new, name="migration-new"),
    path(
        "migrations/<uuid:migration_id>/",
        views_migrations.MigrationDetailView.as_view(),
        name="migration-detail",
    ),
    path(
        "migrations/<uuid:migration_id>/live/",
        views_migrations.migration_live,
        name="migration-live",
    ),
    path(
        "migrations/<uuid:migration_id>/items.csv",
        views_migrations.migration_items_csv,
        name="migration-items-csv",
    ),
    path(
        "migrations/<uuid:migration_id>/cancel/",
        views_migrations.migration_transition,
        {"action": "cancel"},
        name="migration-cancel",
    ),
    path(
        "migrations/<uuid:migration_id>/revert/",
        views_migrations.migration_transition,
        {"action": "revert"},
        name="migration-revert",
    ),
    path(
        "migrations/<uuid:migration_id>/pause/",
        views_migrations.migration_transition,
        {"action": "pause"},
        name="migration-pause",
    ),
    path(
        "migrations/<uuid:migration_id>/resume/",
        views_migrations.migration_transition,
        {"action": "resume"},
        name="migration-resume",
    ),
    path(
        "migrations/<uuid:migration_id>/retry/",
        views_migrations.migration_transition,
        {"action": "retry"},
        name="migration-retry",
    ),
]
