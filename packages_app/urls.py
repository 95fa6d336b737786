from django.urls import path

from packages_app import views

app_name = "packages"
urlpatterns = [
    path("packages/", views.PackageListView.as_view(), name="package-list"),
    path("rate-cards/", views.RateCardListView.as_view(), name="ratecard-list"),
    path("rate-cards/new/", views.rate_card_new, name="ratecard-new"),
    path("rate-cards/<uuid:rate_card_id>/", views.rate_card_detail, name="ratecard-detail"),
    path(
        "rate-cards/<uuid:rate_card_id>/rates/", views.rate_card_rate_add, name="ratecard-rate-add"
    ),
    path(
        "rate-cards/<uuid:rate_card_id>/aliases/",
        views.rate_card_alias_add,
        name="ratecard-alias-add",
    ),
    path("products/", views.product_list, name="product-list"),
    path("billable-metrics/", views.billable_metric_list, name="billable-metric-list"),
    path("aliases/", views.alias_list, name="alias-list"),
    path("aliases/schedule/", views.alias_schedule, name="alias-schedule"),
    path("aliases/<int:alias_id>/", views.alias_detail, name="alias-detail"),
]
