from django.urls import path

from packages_app.api import billable_metrics, credit_types, products, rate_cards

PRICING = "v1/contract-pricing"

urlpatterns = [
    path("v1/credit-types/create", credit_types.CreditTypeCreateApi.as_view()),
    path("v1/credit-types/list", credit_types.CreditTypeListApi.as_view()),
    path("v1/credit-types/archive", credit_types.CreditTypeArchiveApi.as_view()),
    # Billable metrics (GET/PUT on the id path, like Metronome).
    path("v1/billable-metrics/create", billable_metrics.BillableMetricCreateApi.as_view()),
    path("v1/billable-metrics/archive", billable_metrics.BillableMetricArchiveApi.as_view()),
    path("v1/billable-metrics", billable_metrics.BillableMetricListApi.as_view()),
    path(
        "v1/billable-metrics/<str:billable_metric_id>",
        billable_metrics.BillableMetricDetailApi.as_view(),
    ),
    # Products.
    path(f"{PRICING}/products/create", products.ProductCreateApi.as_view()),
    path(f"{PRICING}/products/get", products.ProductGetApi.as_view()),
    path(f"{PRICING}/products/list", products.ProductListApi.as_view()),
    path(f"{PRICING}/products/update", products.ProductUpdateApi.as_view()),
    path(f"{PRICING}/products/archive", products.ProductArchiveApi.as_view()),
    # Rate cards and their rates.
    path(f"{PRICING}/rate-cards/create", rate_cards.RateCardCreateApi.as_view()),
    path(f"{PRICING}/rate-cards/get", rate_cards.RateCardGetApi.as_view()),
    path(f"{PRICING}/rate-cards/list", rate_cards.RateCardListApi.as_view()),
    path(f"{PRICING}/rate-cards/update", rate_cards.RateCardUpdateApi.as_view()),
    path(f"{PRICING}/rate-cards/archive", rate_cards.RateCardArchiveApi.as_view()),
    path(f"{PRICING}/rate-cards/addRate", rate_cards.RateAddApi.as_view()),
    path(f"{PRICING}/rate-cards/addRates", rate_cards.RatesAddApi.as_view()),
    path(f"{PRICING}/rate-cards/getRates", rate_cards.RatesGetApi.as_view()),
    path(f"{PRICING}/rate-cards/getRateSchedule", rate_cards.RateScheduleGetApi.as_view()),
]
