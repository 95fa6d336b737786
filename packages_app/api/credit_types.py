"""`/v1/credit-types/{create,list,archive}` (the SDK's `pricing_units`)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from config.api.schema import ID_DATA, PAGE_PARAMETERS, page_of, query_flag
from config.api.views_base import ServicePostApi, page_answer
from packages_app.api.billable_metrics import query_bool
from packages_app.api.package_serializers import Text
from packages_app.api.response_serializers import CreditTypeOutput
from packages_app.models import CreditType
from packages_app.services.credit_types import credit_type_archive, credit_type_create


class CreditTypeCreateInput(serializers.Serializer):
    name = Text(max_length=200)


class CreditTypeArchiveInput(serializers.Serializer):
    id = Text()


def credit_type_data(credit_type: CreditType) -> dict:
    return {
        "id": str(credit_type.id),
        "name": credit_type.name,
        "is_currency": credit_type.is_currency,
    }


class CreditTypeCreateApi(ServicePostApi):
    required_permission = "packages_app.add_credittype"
    operation_id, input, responses = "credit_types_create", CreditTypeCreateInput, ID_DATA

    def perform(self, data):
        return credit_type_create(name=data["name"])


class CreditTypeListApi(APIView):
    """Archived units are left out, as Metronome's selectors do, unless the query asks for
    them with `include_archived=true` (not an SDK parameter: pass it as `extra_query`)."""

    required_permission = "packages_app.view_credittype"

    @extend_schema(
        operation_id="credit_types_list",
        parameters=[
            query_flag("include_archived", "Also list archived credit types"),
            *PAGE_PARAMETERS,
        ],
        responses=page_of(CreditTypeOutput),
    )
    def get(self, request):
        credit_types = CreditType.objects.all()
        if not query_bool(request, "include_archived"):
            credit_types = credit_types.not_archived()
        return page_answer(request, credit_types, credit_type_data)


class CreditTypeArchiveApi(ServicePostApi):
    required_permission = "packages_app.change_credittype"
    operation_id, input, responses = "credit_types_archive", CreditTypeArchiveInput, ID_DATA

    def perform(self, data):
        return credit_type_archive(credit_type_id=data["id"])
