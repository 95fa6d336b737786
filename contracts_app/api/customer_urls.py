from django.urls import path

from contracts_app.api import customer_edits, customers

# `customers/archive` precedes `customers/<customer_id>` so the literal path wins.
urlpatterns = [
    path("v1/customers", customers.CustomersApi.as_view(), name="api-customers"),
    path(
        "v1/customers/archive", customers.CustomerArchiveApi.as_view(), name="api-customer-archive"
    ),
    path(
        "v1/customers/<str:customer_id>/setName",
        customer_edits.CustomerSetNameApi.as_view(),
        name="api-customer-set-name",
    ),
    path(
        "v1/customers/<str:customer_id>/setIngestAliases",
        customer_edits.CustomerSetIngestAliasesApi.as_view(),
        name="api-customer-set-ingest-aliases",
    ),
    path(
        "v1/customers/<str:customer_id>/updateConfig",
        customer_edits.CustomerUpdateConfigApi.as_view(),
        name="api-customer-update-config",
    ),
    path(
        "v1/customers/<str:customer_id>",
        customers.CustomerGetApi.as_view(),
        name="api-customer-get",
    ),
    path(
        "v1/setCustomerBillingProviderConfigurations",
        customers.SetBillingConfigurationsApi.as_view(),
        name="api-customer-billing-configurations-set",
    ),
    path(
        "v1/getCustomerBillingProviderConfigurations",
        customers.GetBillingConfigurationsApi.as_view(),
        name="api-customer-billing-configurations-get",
    ),
    path(
        "v1/archiveCustomerBillingProviderConfigurations",
        customers.ArchiveBillingConfigurationsApi.as_view(),
        name="api-customer-billing-configurations-archive",
    ),
]
