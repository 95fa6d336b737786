"""Customers and billing-provider configurations, as Metronome's v1 API (metronome-api.md §4)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.schema import ID_DATA, PAGE_PARAMETERS, data_of, page_of
from config.api.views_base import (
    ServicePostApi,
    data_answer,
    page_answer,
    plain,
    validated,
    validated_query,
)
from config.core.instants import format_instant
from contracts_app.api.contract_serializers import BILLING_PROVIDERS
from contracts_app.api.response_serializers import (
    BillingConfigurationOutput,
    BillingConfigurationsArchivedOutput,
    BillingConfigurationSetOutput,
    CustomerDetailOutput,
    CustomerOutput,
)
from contracts_app.models import BillingProviderConfiguration, Customer
from contracts_app.selectors.customers import (
    billing_provider_configurations_of,
    customer_get,
    customer_list,
)
from contracts_app.services.customers import (
    DELIVERY_METHOD_IDS,
    DELIVERY_METHODS,
    DETAILS_TAX_PROVIDERS,
    billing_provider_configurations_archive,
    billing_provider_configurations_set,
    customer_archive,
    customer_create,
)

# Customer creation accepts only these providers for new-style configurations.
CREATE_BILLING_PROVIDERS = (
    "aws_marketplace",
    "azure_marketplace",
    "gcp_marketplace",
    "stripe",
    "netsuite",
)
TAX_PROVIDERS = ("anrok", "avalara", "stripe")
AWS_REGIONS = (
    "af-south-1",
    "ap-east-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-north-1",
    "eu-south-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "me-south-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
)
MAX_FILTER_IDS = 100


# ---- input serializers ---------------------------------------------------------------------


class BillingConfigInput(serializers.Serializer):
    billing_provider_customer_id = serializers.CharField()
    billing_provider_type = serializers.ChoiceField(choices=BILLING_PROVIDERS)
    aws_customer_account_id = serializers.CharField(required=False)
    aws_customer_id = serializers.CharField(required=False)
    aws_is_subscription_product = serializers.BooleanField(required=False)
    aws_product_code = serializers.CharField(required=False)
    aws_region = serializers.ChoiceField(choices=AWS_REGIONS, required=False)
    stripe_collection_method = serializers.ChoiceField(
        choices=("charge_automatically", "send_invoice"), required=False
    )


class _ConfigurationFields(serializers.Serializer):
    configuration = serializers.DictField(required=False)
    delivery_method = serializers.ChoiceField(choices=DELIVERY_METHODS, required=False)
    delivery_method_id = serializers.CharField(required=False)
    tax_provider = serializers.ChoiceField(choices=TAX_PROVIDERS, required=False)

    def validate(self, attrs):
        if "delivery_method" not in attrs and "delivery_method_id" not in attrs:
            raise serializers.ValidationError(
                {"delivery_method": "Give delivery_method or delivery_method_id."}
            )
        return attrs


class CreateConfigurationInput(_ConfigurationFields):
    billing_provider = serializers.ChoiceField(choices=CREATE_BILLING_PROVIDERS)


class RevenueSystemConfigurationInput(serializers.Serializer):
    provider = serializers.ChoiceField(choices=("netsuite",))
    configuration = serializers.DictField(required=False)
    delivery_method = serializers.ChoiceField(
        choices=("direct_to_billing_provider",), required=False
    )
    delivery_method_id = serializers.CharField(required=False)


class CustomerCreateInput(serializers.Serializer):
    name = serializers.CharField(trim_whitespace=False)
    billing_config = BillingConfigInput(required=False)
    custom_fields = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False
    )
    customer_billing_provider_configurations = CreateConfigurationInput(many=True, required=False)
    customer_revenue_system_configurations = RevenueSystemConfigurationInput(
        many=True, required=False
    )
    external_id = serializers.CharField(max_length=400, required=False)
    ingest_aliases = serializers.ListField(
        child=serializers.CharField(max_length=400), required=False
    )


class CustomerListQuery(serializers.Serializer):
    customer_ids = serializers.CharField(required=False, allow_blank=True)
    ingest_alias = serializers.CharField(required=False)
    only_archived = serializers.BooleanField(required=False, default=False)
    salesforce_account_ids = serializers.CharField(required=False, allow_blank=True)

    @staticmethod
    def _split(value: str) -> list[str]:
        items = [item.strip() for item in value.split(",") if item.strip()]
        if len(items) > MAX_FILTER_IDS:
            raise serializers.ValidationError(f"At most {MAX_FILTER_IDS} ids.")
        return items

    def validate_customer_ids(self, value: str) -> list:
        field = serializers.UUIDField()
        ids = []
        for item in self._split(value):
            try:
                ids.append(field.to_internal_value(item))
            except serializers.ValidationError:
                raise serializers.ValidationError(f"{item!r} is not a valid customer id.") from None
        return ids

    def validate_salesforce_account_ids(self, value: str) -> list[str]:
        return self._split(value)


class CustomerArchiveInput(serializers.Serializer):
    id = serializers.UUIDField()


class SetConfigurationInput(_ConfigurationFields):
    billing_provider = serializers.ChoiceField(choices=BILLING_PROVIDERS)
    customer_id = serializers.UUIDField()


class SetConfigurationsInput(serializers.Serializer):
    data = SetConfigurationInput(many=True, allow_empty=False)


class GetConfigurationsInput(serializers.Serializer):
    customer_id = serializers.UUIDField()
    include_archived = serializers.BooleanField(required=False, default=False)


class ArchiveConfigurationsInput(serializers.Serializer):
    customer_billing_provider_configuration_ids = serializers.ListField(
        child=serializers.UUIDField(), allow_empty=False
    )
    customer_id = serializers.UUIDField()


# ---- output ----------------------------------------------------------------------------------


def _external_id(customer: Customer) -> str:
    # Metronome: "the first ID (Metronome or ingest alias) that can be used in usage events".
    if customer.external_id:
        return customer.external_id
    return customer.ingest_aliases[0] if customer.ingest_aliases else str(customer.id)


def customer_data(customer: Customer) -> dict[str, Any]:
    return {
        "id": str(customer.id),
        "external_id": _external_id(customer),
        "ingest_aliases": list(customer.ingest_aliases),
        "name": customer.name,
        "custom_fields": dict(customer.custom_fields),
    }


def customer_detail_data(customer: Customer) -> dict[str, Any]:
    customer_config = customer.details.get("customer_config") or {}
    return {
        **customer_data(customer),
        "created_at": format_instant(customer.created_at),
        "updated_at": format_instant(customer.updated_at),
        "archived_at": format_instant(customer.archived_at),
        "customer_config": {"salesforce_account_id": customer_config.get("salesforce_account_id")},
    }


def _tax_provider(customer: Customer, config: BillingProviderConfiguration) -> str | None:
    return customer.details.get(DETAILS_TAX_PROVIDERS, {}).get(str(config.id))


def configuration_set_data(config: BillingProviderConfiguration) -> dict[str, Any]:
    data = {
        "id": str(config.id),
        "billing_provider": config.billing_provider,
        "configuration": config.configuration,
        "customer_id": str(config.customer_id),
        "delivery_method_id": DELIVERY_METHOD_IDS[config.delivery_method],
    }
    tax_provider = _tax_provider(config.customer, config)
    if tax_provider is not None:
        data["tax_provider"] = tax_provider
    return data


def configuration_data(config: BillingProviderConfiguration) -> dict[str, Any]:
    return {
        "id": str(config.id),
        "archived_at": format_instant(config.archived_at),
        "billing_provider": config.billing_provider,
        "configuration": config.configuration,
        "customer_id": str(config.customer_id),
        "delivery_method": config.delivery_method,
        # Our delivery methods carry no configuration of their own.
        "delivery_method_configuration": {},
        "delivery_method_id": DELIVERY_METHOD_IDS[config.delivery_method],
    }


# ---- views -----------------------------------------------------------------------------------


class CustomersApi(APIView):
    """`GET /v1/customers` lists (query filters, keyset cursor); `POST /v1/customers` creates."""

    required_permission = {
        "GET": "contracts_app.view_customer",
        "POST": "contracts_app.add_customer",
    }

    @extend_schema(
        operation_id="customers_list",
        parameters=[CustomerListQuery, *PAGE_PARAMETERS],
        responses=page_of(CustomerDetailOutput),
    )
    def get(self, request):
        params = {key: ",".join(request.query_params.getlist(key)) for key in request.query_params}
        filters = validated_query(CustomerListQuery, params)
        return page_answer(request, customer_list(**filters), customer_detail_data)

    @extend_schema(
        operation_id="customers_create",
        request=CustomerCreateInput,
        responses=data_of(CustomerOutput),
    )
    def post(self, request):
        data = plain(validated(CustomerCreateInput, request.data))
        customer = customer_create(
            name=data["name"],
            external_id=data.get("external_id"),
            ingest_aliases=data.get("ingest_aliases", ()),
            custom_fields=data.get("custom_fields"),
            billing_provider_configurations=data.get(
                "customer_billing_provider_configurations", ()
            ),
            billing_config=data.get("billing_config"),
            revenue_system_configurations=data.get("customer_revenue_system_configurations"),
        )
        return Response({"data": customer_data(customer)})


class CustomerGetApi(APIView):
    required_permission = "contracts_app.view_customer"

    @extend_schema(operation_id="customers_get", responses=data_of(CustomerDetailOutput))
    def get(self, request, customer_id: str):
        return Response({"data": customer_detail_data(customer_get(customer_id=customer_id))})


class CustomerArchiveApi(ServicePostApi):
    required_permission = "contracts_app.change_customer"
    operation_id, input, responses = "customers_archive", CustomerArchiveInput, ID_DATA

    def perform(self, data):
        return customer_archive(customer=customer_get(customer_id=data["id"], field="id"))


class SetBillingConfigurationsApi(ServicePostApi):
    required_permission = "contracts_app.add_billingproviderconfiguration"
    operation_id, input, responses = (
        "customers_billing_configurations_set",
        SetConfigurationsInput,
        data_of(BillingConfigurationSetOutput, many=True),
    )

    def perform(self, data):
        return billing_provider_configurations_set(items=data["data"])

    def answer(self, configurations):
        return data_answer([configuration_set_data(c) for c in configurations])


class GetBillingConfigurationsApi(ServicePostApi):
    required_permission = "contracts_app.view_billingproviderconfiguration"
    operation_id, input, responses = (
        "customers_billing_configurations_get",
        GetConfigurationsInput,
        data_of(BillingConfigurationOutput, many=True),
    )

    def perform(self, data):
        return billing_provider_configurations_of(
            customer=customer_get(customer_id=data["customer_id"]),
            include_archived=data["include_archived"],
        )

    def answer(self, configurations):
        return data_answer([configuration_data(c) for c in configurations])


class ArchiveBillingConfigurationsApi(ServicePostApi):
    required_permission = "contracts_app.change_billingproviderconfiguration"
    operation_id, input, responses = (
        "customers_billing_configurations_archive",
        ArchiveConfigurationsInput,
        data_of(BillingConfigurationsArchivedOutput),
    )

    def perform(self, data):
        customer = customer_get(customer_id=data["customer_id"])
        ids = data["customer_billing_provider_configuration_ids"]
        billing_provider_configurations_archive(customer=customer, configuration_ids=ids)
        return {
            "customer_billing_provider_configuration_ids": [str(i) for i in ids],
            "customer_id": str(customer.id),
        }

    def answer(self, archived):
        return data_answer(archived)
