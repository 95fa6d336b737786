from django.urls import path

from contracts_app.api import previews

urlpatterns = [
    path("v1/packages/preview", previews.PackagePreviewApi.as_view(), name="api-package-preview"),
]
