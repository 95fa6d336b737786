from django.urls import path

from packages_app.api import packages

urlpatterns = [
    path("v1/packages/create", packages.PackageCreateApi.as_view(), name="package-create"),
    path("v1/packages/get", packages.PackageGetApi.as_view(), name="package-get"),
    path("v1/packages/list", packages.PackageListApi.as_view(), name="package-list-api"),
    path("v1/packages/archive", packages.PackageArchiveApi.as_view(), name="package-archive"),
]
