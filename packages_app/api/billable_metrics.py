"""`/v1/billable-metrics...`: create, retrieve, rename (PUT), list (GET), archive."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.schema import ID_DATA, PAGE_PARAMETERS, data_of, page_of, query_flag
from config.api.views_base import ServicePostApi, id_answer, page_answer, validated
from config.core.errors import ValidationFailed
from config.core.instants import format_instant
from packages_app.api.package_serializers import Flag, Text, choice, string_map
from packages_app.api.response_serializers import BillableMetricOutput
from packages_app.models import BillableMetric
from packages_app.selectors.catalog import billable_metric_get, billable_metric_list
from packages_app.services.billable_metrics import (
    billable_metric_archive,
    billable_metric_create,
    billable_metric_rename,
)

AGGREGATION_TYPES = ("COUNT", "LATEST", "MAX", "SUM", "UNIQUE")


class NonEmptyStrings(serializers.ListField):
    """Metronome: "must be non-empty if present"."""

    child = Text()

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_empty", False)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class EventTypeFilterInput(serializers.Serializer):
    in_values = NonEmptyStrings()
    not_in_values = NonEmptyStrings()


class PropertyFilterInput(serializers.Serializer):
    name = Text()
    exists = Flag(required=False)
    in_values = NonEmptyStrings()
    not_in_values = NonEmptyStrings()


class BillableMetricCreateInput(serializers.Serializer):
    name = Text(max_length=400)
    aggregation_key = Text(required=False, max_length=400)
    aggregation_type = choice(*AGGREGATION_TYPES, required=False)
    custom_fields = string_map(required=False)
    event_type_filter = EventTypeFilterInput(required=False)
    group_keys = serializers.ListField(child=NonEmptyStrings(required=True), required=False)
    property_filters = PropertyFilterInput(many=True, required=False)
    sql = Text(required=False)


class BillableMetricRenameInput(serializers.Serializer):
    name = Text(max_length=400)


class IdInput(serializers.Serializer):
    id = Text()


def billable_metric_data(metric: BillableMetric) -> dict:
    definition = metric.definition
    data = {
        "id": str(metric.id),
        "name": metric.name,
        "aggregation_type": metric.aggregation_type or None,
        "aggregation_key": metric.aggregation_key or None,
        "event_type_filter": definition.get("event_type_filter"),
        "property_filters": definition.get("property_filters"),
        "group_keys": definition.get("group_keys"),
        "sql": definition.get("sql"),
        "custom_fields": definition.get("custom_fields", {}),
        "archived_at": format_instant(metric.archived_at),
    }
    return {key: value for key, value in data.items() if value is not None}


class BillableMetricCreateApi(ServicePostApi):
    required_permission = "packages_app.add_billablemetric"
    operation_id, input, responses = "billable_metrics_create", BillableMetricCreateInput, ID_DATA

    def perform(self, data):
        return billable_metric_create(**data)


class BillableMetricDetailApi(APIView):
    required_permission = {
        "GET": "packages_app.view_billablemetric",
        "PUT": "packages_app.change_billablemetric",
    }

    @extend_schema(operation_id="billable_metrics_get", responses=data_of(BillableMetricOutput))
    def get(self, request, billable_metric_id: str):
        metric = billable_metric_get(billable_metric_id=billable_metric_id)
        return Response({"data": billable_metric_data(metric)})

    @extend_schema(
        operation_id="billable_metrics_rename",
        request=BillableMetricRenameInput,
        responses=ID_DATA,
    )
    def put(self, request, billable_metric_id: str):
        data = validated(BillableMetricRenameInput, request.data)
        metric = billable_metric_rename(billable_metric_id=billable_metric_id, name=data["name"])
        return id_answer(metric)


def query_bool(request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw in (None, "", "false"):
        return False
    if raw == "true":
        return True
    raise ValidationFailed(f"{name} must be true or false", field=name)


class BillableMetricListApi(APIView):
    required_permission = "packages_app.view_billablemetric"

    @extend_schema(
        operation_id="billable_metrics_list",
        parameters=[
            query_flag("include_archived", "Also list archived billable metrics"),
            *PAGE_PARAMETERS,
        ],
        responses=page_of(BillableMetricOutput),
    )
    def get(self, request):
        metrics = billable_metric_list(include_archived=query_bool(request, "include_archived"))
        return page_answer(request, metrics, billable_metric_data)


class BillableMetricArchiveApi(ServicePostApi):
    required_permission = "packages_app.change_billablemetric"
    operation_id, input, responses = "billable_metrics_archive", IdInput, ID_DATA

    def perform(self, data):
        return billable_metric_archive(billable_metric_id=data["id"])
