from django.urls import path

from contracts_app.api import customers

# `customers/archive` precedes `customers/<customer_id>` so the literal path wins.
urlpatterns = [
    path("v1/customers", customers.CustomersApi.as_view(), name="api-customers"),
    path(
        "v1/customers/archive", customers.CustomerArchiveApi.as_view(), name="api-customer-archive"
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
