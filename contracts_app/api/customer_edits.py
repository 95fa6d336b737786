"""Customer changes (Metronome v1): setName, setIngestAliases, updateConfig. Thin views."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.serializers import StrictSerializer
from config.api.views_base import id_answer, validated
from contracts_app.api.customers import customer_data
from contracts_app.selectors.customers import customer_get
from contracts_app.services.customers import (
    customer_set_ingest_aliases,
    customer_set_name,
    customer_update_config,
)


class SetNameInput(StrictSerializer):
    name = serializers.CharField(allow_blank=True)


class SetIngestAliasesInput(StrictSerializer):
    ingest_aliases = serializers.ListField(child=serializers.CharField(max_length=400))


class UpdateConfigInput(StrictSerializer):
    leave_stripe_invoices_in_draft = serializers.BooleanField(required=False, allow_null=True)
    salesforce_account_id = serializers.CharField(required=False, allow_null=True)


class CustomerOutput(serializers.Serializer):
    id = serializers.CharField()
    external_id = serializers.CharField()
    ingest_aliases = serializers.ListField(child=serializers.CharField())
    name = serializers.CharField()
    custom_fields = serializers.DictField(child=serializers.CharField())


class CustomerResponse(serializers.Serializer):
    data = CustomerOutput()


class CustomerSetNameApi(APIView):
    required_permission = "contracts_app.change_customer"

    @extend_schema(
        operation_id="customers_set_name",
        request=SetNameInput,
        responses={200: CustomerResponse},
    )
    def post(self, request, customer_id: str):
        data = validated(SetNameInput, request.data)
        customer = customer_set_name(customer=customer_get(customer_id=customer_id), **data)
        return Response({"data": customer_data(customer)})


class CustomerIdOutput(serializers.Serializer):
    id = serializers.UUIDField()


class CustomerIdResponse(serializers.Serializer):
    data = CustomerIdOutput()


class CustomerSetIngestAliasesApi(APIView):
    required_permission = "contracts_app.change_customer"

    @extend_schema(
        operation_id="customers_set_ingest_aliases",
        request=SetIngestAliasesInput,
        responses={200: CustomerIdResponse},
    )
    def post(self, request, customer_id: str):
        data = validated(SetIngestAliasesInput, request.data)
        customer = customer_get(customer_id=customer_id)
        customer_set_ingest_aliases(customer=customer, **data)
        # The SDK reads no body here; others get the customer's id to confirm which one changed.
        return id_answer(customer)


class CustomerUpdateConfigApi(APIView):
    required_permission = "contracts_app.change_customer"

    @extend_schema(
        operation_id="customers_update_config",
        request=UpdateConfigInput,
        responses={200: CustomerIdResponse},
    )
    def post(self, request, customer_id: str):
        data = validated(UpdateConfigInput, request.data)
        customer = customer_get(customer_id=customer_id)
        customer_update_config(customer=customer, changes=dict(data))
        return id_answer(customer)
