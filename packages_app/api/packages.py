"""`v1/packages/create|get|list|archive` (Metronome v1). Thin: validate, call a service or
selector, shape the answer. No update endpoint: packages are immutable."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.views_base import page_body, query_page, validated
from packages_app.api import package_serializers as wire
from packages_app.selectors.packages import credit_types_for, package_get, package_list
from packages_app.services.packages import package_archive, package_create


class PackageCreateApi(APIView):
    required_permission = "packages_app.add_package"

    @extend_schema(
        operation_id="packages_create",
        request=wire.PackageCreateInput,
        responses=OpenApiTypes.OBJECT,
    )
    def post(self, request):
        data = validated(wire.PackageCreateInput, request.data)
        package = package_create(created_by=request.user.get_username(), **data)
        return Response({"data": {"id": str(package.id)}})


class PackageGetApi(APIView):
    required_permission = "packages_app.view_package"

    @extend_schema(
        operation_id="packages_get", request=wire.PackageIdInput, responses=OpenApiTypes.OBJECT
    )
    def post(self, request):
        data = validated(wire.PackageIdInput, request.data)
        package = package_get(package_id=data["package_id"])
        (item,) = wire.packages_data([package], credit_types_for([package]))
        return Response({"data": item})


class PackageListApi(APIView):
    required_permission = "packages_app.view_package"

    @extend_schema(
        operation_id="packages_list",
        request=wire.PackageListInput,
        parameters=[
            OpenApiParameter("limit", int, description="Page size, 1..100 (default 10)"),
            OpenApiParameter("next_page", str, description="Cursor from the previous page"),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def post(self, request):
        data = validated(wire.PackageListInput, request.data)
        packages = package_list(archive_filter=data.get("archive_filter", "NOT_ARCHIVED"))
        page = query_page(request, packages)
        items = wire.packages_data(page.items, credit_types_for(page.items))
        return Response(page_body(page, items))


class PackageArchiveApi(APIView):
    required_permission = "packages_app.change_package"

    @extend_schema(
        operation_id="packages_archive", request=wire.PackageIdInput, responses=OpenApiTypes.OBJECT
    )
    def post(self, request):
        data = validated(wire.PackageIdInput, request.data)
        package = package_archive(package=package_get(package_id=data["package_id"]))
        return Response({"data": {"id": str(package.id)}})
