"""`/v1/contract-pricing/products/{create,get,list,update,archive}`."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import serializers
from rest_framework.response import Response

from config.api.schema import ID_DATA, PAGE_PARAMETERS, data_of, page_of
from config.api.views_base import (
    ServicePostApi,
    data_answer,
    page_body,
    query_page,
)
from config.core.instants import format_instant
from packages_app.api.package_serializers import (
    Flag,
    Integer,
    Number,
    Text,
    choice,
    string_list,
    string_map,
)
from packages_app.api.response_serializers import ProductOutput
from packages_app.models import Product
from packages_app.selectors.catalog import (
    PRODUCT_STATE_FIELDS,
    product_get,
    product_initial_state,
    product_list,
    product_state_at,
    product_updates,
)
from packages_app.services.products import (
    product_archive,
    product_create_from_body,
    product_update,
)

PRODUCT_TYPES = (
    "FIXED",
    "USAGE",
    "COMPOSITE",
    "SUBSCRIPTION",
    "PROFESSIONAL_SERVICE",
    "PRO_SERVICE",
)
# The response enum knows only the short spelling.
WIRE_TYPE = {Product.Type.PROFESSIONAL_SERVICE: "PRO_SERVICE"}
ARCHIVE_FILTERS = ("ARCHIVED", "NOT_ARCHIVED", "ALL")


def _strings(**kwargs) -> serializers.ListField:
    return string_list(required=False, **kwargs)


class QuantityConversionInput(serializers.Serializer):
    conversion_factor = Number(above_zero=True)
    operation = choice("MULTIPLY", "DIVIDE")
    name = Text(required=False)


class QuantityRoundingInput(serializers.Serializer):
    decimal_places = Integer(min_value=0)
    rounding_method = choice("ROUND_UP", "ROUND_DOWN", "ROUND_HALF_UP")


class ProductFieldsInput(serializers.Serializer):
    """The state fields shared by create and update."""

    billable_metric_id = Text(required=False)
    composite_product_ids = _strings()
    composite_tags = _strings()
    exclude_free_usage = Flag(required=False)
    include_composite_spend = Flag(required=False)
    is_refundable = Flag(required=False)
    netsuite_internal_item_id = Text(required=False, allow_blank=True)
    netsuite_overage_item_id = Text(required=False, allow_blank=True)
    presentation_group_key = _strings()
    pricing_group_key = _strings()
    quantity_conversion = QuantityConversionInput(required=False, allow_null=True)
    quantity_rounding = QuantityRoundingInput(required=False, allow_null=True)
    sql_breakdown_granularity = choice("HOUR", "SERVICE_PERIOD", required=False)
    tags = _strings()


class ProductCreateInput(ProductFieldsInput):
    name = Text(max_length=400)
    type = choice(*PRODUCT_TYPES)
    custom_fields = string_map(required=False)


class ProductUpdateInput(ProductFieldsInput):
    product_id = Text()
    starting_at = serializers.DateTimeField()
    name = Text(max_length=400, required=False)


class ProductIdInput(serializers.Serializer):
    product_id = Text()


class ProductGetInput(serializers.Serializer):
    id = Text()


class ProductListInput(serializers.Serializer):
    archive_filter = choice(*ARCHIVE_FILTERS, default="NOT_ARCHIVED")


def _state_data(state: dict[str, Any]) -> dict[str, Any]:
    data = {key: state[key] for key in PRODUCT_STATE_FIELDS if state.get(key) is not None}
    data["created_at"] = format_instant(state["created_at"])
    data["created_by"] = state["created_by"]
    if state.get("starting_at") is not None:
        data["starting_at"] = format_instant(state["starting_at"])
    return data


def product_data(product: Product, *, now=None) -> dict[str, Any]:
    data = {
        "id": str(product.id),
        "type": WIRE_TYPE.get(product.type, product.type),
        "initial": _state_data(product_initial_state(product)),
        "current": _state_data(product_state_at(product, now or timezone.now())),
        "updates": [_state_data(update) for update in product_updates(product)],
        "custom_fields": product.details.get("custom_fields", {}),
    }
    if product.archived_at is not None:
        data["archived_at"] = format_instant(product.archived_at)
    return data


class ProductCreateApi(ServicePostApi):
    required_permission = "packages_app.add_product"
    operation_id, input, responses = "products_create", ProductCreateInput, ID_DATA

    def perform(self, data):
        return product_create_from_body(data, created_by=self.request.user.get_username())


class ProductGetApi(ServicePostApi):
    required_permission = "packages_app.view_product"
    operation_id, input, responses = "products_get", ProductGetInput, data_of(ProductOutput)

    def perform(self, data):
        return product_get(product_id=data["id"])

    def answer(self, product):
        return data_answer(product_data(product))


class ProductListApi(ServicePostApi):
    required_permission = "packages_app.view_product"
    operation_id, input, responses = "products_list", ProductListInput, page_of(ProductOutput)
    parameters = PAGE_PARAMETERS

    def perform(self, data):
        return query_page(self.request, product_list(archive_filter=data["archive_filter"]))

    def answer(self, page):
        now = timezone.now()
        return Response(page_body(page, [product_data(p, now=now) for p in page.items]))


class ProductUpdateApi(ServicePostApi):
    required_permission = "packages_app.change_product"
    operation_id, input, responses = "products_update", ProductUpdateInput, ID_DATA

    def perform(self, changes):
        return product_update(
            product_id=changes.pop("product_id"),
            starting_at=changes.pop("starting_at"),
            created_by=self.request.user.get_username(),
            changes=changes,
        )


class ProductArchiveApi(ServicePostApi):
    required_permission = "packages_app.change_product"
    operation_id, input, responses = "products_archive", ProductIdInput, ID_DATA

    def perform(self, data):
        return product_archive(product_id=data["product_id"])
