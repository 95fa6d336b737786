"""`POST /v1/packages/aliases/schedule` and `POST /v1/packages/aliases/list` (ours).

Schedule points an alias at an existing package from a date (optionally until one), with the
same trimming rules as aliases given at create: older intervals are trimmed or split, never
deleted; assignments of one name are serialised (services/aliases.py). List answers every
package alias name with its schedule, in keyset pages.
"""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.serializers import StrictSerializer
from config.api.views_base import ServicePostApi, data_answer, query_page, validated
from config.core.errors import ValidationFailed
from config.core.instants import format_instant
from packages_app.api.package_serializers import Text
from packages_app.models import AliasAssignment, AliasName
from packages_app.selectors.packages import package_get
from packages_app.services.aliases import alias_assign


class AliasScheduleInput(StrictSerializer):
    package_id = Text()
    name = Text(max_length=400)
    starting_at = serializers.DateTimeField(required=False)
    ending_before = serializers.DateTimeField(required=False)


class AliasListInput(StrictSerializer):
    include_superseded = serializers.BooleanField(required=False, default=False)


def _interval(row: AliasAssignment) -> dict:
    return {
        "package_id": str(row.package_id) if row.package_id else None,
        "starting_at": format_instant(row.starting_at),
        "ending_before": format_instant(row.ending_before),
        "superseded_at": format_instant(row.superseded_at),
    }


class AliasScheduleApi(ServicePostApi):
    required_permission = "packages_app.add_aliasassignment"
    operation_id, input, description = "packages_aliases_schedule", AliasScheduleInput, __doc__
    responses = {
        200: inline_serializer("PackagesAliasScheduleResponse", {"data": serializers.DictField()})
    }

    def perform(self, data):
        package = package_get(package_id=data["package_id"])
        if package.archived_at is not None:
            raise ValidationFailed("Archived packages cannot be given an alias", field="package_id")
        assignment = alias_assign(
            kind=AliasName.Kind.PACKAGE,
            name=data["name"],
            package=package,
            starting_at=data.get("starting_at"),
            ending_before=data.get("ending_before"),
            field="body",
        )
        return {"name": data["name"], **_interval(assignment)}

    def answer(self, scheduled):
        return data_answer(scheduled)


class AliasListApi(APIView):
    required_permission = "packages_app.view_aliasassignment"

    @extend_schema(
        operation_id="packages_aliases_list",
        request=AliasListInput,
        parameters=[
            OpenApiParameter("limit", int, description="Page size, 1..100 (default 10)"),
            OpenApiParameter("next_page", str, description="Cursor from the previous page"),
        ],
        responses={
            200: inline_serializer(
                "PackagesAliasListResponse",
                {
                    "data": serializers.ListField(child=serializers.DictField()),
                    "next_page": serializers.CharField(allow_null=True),
                },
            )
        },
    )
    def post(self, request):
        data = validated(AliasListInput, request.data)
        intervals = AliasAssignment.objects.order_by("starting_at", "id")
        if not data["include_superseded"]:
            intervals = intervals.in_force()
        names = AliasName.objects.filter(kind=AliasName.Kind.PACKAGE).prefetch_related(
            Prefetch("assignments", queryset=intervals, to_attr="schedule")
        )
        page = query_page(request, names, keys=("id",))
        items = [
            {"name": name.name, "schedule": [_interval(row) for row in name.schedule]}
            for name in page.items
        ]
        return Response({"data": items, "next_page": page.next_cursor})
