from django.urls import path

from contracts_app.api import forecasts, previews

urlpatterns = [
    path("v1/packages/preview", previews.PackagePreviewApi.as_view(), name="api-package-preview"),
    path(
        "v1/packages/forecast",
        forecasts.PackageForecastApi.as_view(),
        name="api-package-forecast",
    ),
]
