from django.urls import path

from packages_app.api import aliases, packages

urlpatterns = [
    path("v1/packages/create", packages.PackageCreateApi.as_view(), name="package-create"),
    path("v1/packages/get", packages.PackageGetApi.as_view(), name="package-get"),
    path("v1/packages/list", packages.PackageListApi.as_view(), name="package-list-api"),
    path("v1/packages/archive", packages.PackageArchiveApi.as_view(), name="package-archive"),
    path(
        "v1/packages/aliases/schedule",
        aliases.AliasScheduleApi.as_view(),
        name="package-alias-schedule",
    ),
    path("v1/packages/aliases/list", aliases.AliasListApi.as_view(), name="package-alias-list"),
]
