from django.urls import path

from packages_app import views

app_name = "packages"
urlpatterns = [
    path("packages/", views.PackageListView.as_view(), name="package-list"),
    path("rate-cards/", views.RateCardListView.as_view(), name="ratecard-list"),
    path("rate-cards/new/", views.RateCardNewView.as_view(), name="ratecard-new"),
    path(
        "rate-cards/<uuid:rate_card_id>/",
        views.RateCardDetailView.as_view(),
        name="ratecard-detail",
    ),
    path(
        "rate-cards/<uuid:rate_card_id>/rates/",
        views.RateAddView.as_view(),
        name="ratecard-rate-add",
    ),
    path(
        "rate-cards/<uuid:rate_card_id>/rates/<uuid:rate_id>/change/",
        views.RateChangeView.as_view(),
        name="ratecard-rate-change",
    ),
    path(
        "rate-cards/<uuid:rate_card_id>/aliases/",
        views.RateCardAliasAddView.as_view(),
        name="ratecard-alias-add",
    ),
    path("products/", views.ProductListView.as_view(), name="product-list"),
    path("products/<uuid:product_id>/", views.ProductDetailView.as_view(), name="product-detail"),
    path("products/<uuid:product_id>/edit/", views.ProductEditView.as_view(), name="product-edit"),
    path(
        "products/<uuid:product_id>/archive/",
        views.ProductArchiveView.as_view(),
        name="product-archive",
    ),
    path("billable-metrics/", views.BillableMetricListView.as_view(), name="billable-metric-list"),
    path(
        "billable-metrics/<uuid:billable_metric_id>/",
        views.BillableMetricDetailView.as_view(),
        name="billable-metric-detail",
    ),
    path(
        "billable-metrics/<uuid:billable_metric_id>/rename/",
        views.BillableMetricRenameView.as_view(),
        name="billable-metric-rename",
    ),
    path(
        "billable-metrics/<uuid:billable_metric_id>/archive/",
        views.BillableMetricArchiveView.as_view(),
        name="billable-metric-archive",
    ),
    path("aliases/", views.alias_list, name="alias-list"),
    path("aliases/schedule/", views.AliasScheduleView.as_view(), name="alias-schedule"),
    path("aliases/<int:alias_id>/", views.AliasDetailView.as_view(), name="alias-detail"),
]
