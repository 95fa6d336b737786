"""Customer changes (Metronome v1): setName, setIngestAliases, updateConfig. Thin views."""

from __future__ import annotations

from rest_framework import serializers

from config.api.serializers import StrictSerializer
from config.api.views_base import ServicePostApi, data_answer
from contracts_app.api.customers import customer_data
from contracts_app.models import Customer
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


def _url_customer(view) -> Customer:
    return customer_get(customer_id=view.kwargs["customer_id"])


class CustomerSetNameApi(ServicePostApi):
    required_permission = "contracts_app.change_customer"
    operation_id, input, responses = "customers_set_name", SetNameInput, {200: CustomerResponse}

    def perform(self, data):
        return customer_set_name(customer=_url_customer(self), **data)

    def answer(self, customer):
        return data_answer(customer_data(customer))


class CustomerIdOutput(serializers.Serializer):
    id = serializers.UUIDField()


class CustomerIdResponse(serializers.Serializer):
    data = CustomerIdOutput()


class CustomerSetIngestAliasesApi(ServicePostApi):
    required_permission = "contracts_app.change_customer"
    operation_id, input, responses = (
        "customers_set_ingest_aliases",
        SetIngestAliasesInput,
        {200: CustomerIdResponse},
    )

    def perform(self, data):
        customer = _url_customer(self)
        customer_set_ingest_aliases(customer=customer, **data)
        # The SDK reads no body here; others get the customer's id to confirm which one changed.
        return customer


class CustomerUpdateConfigApi(ServicePostApi):
    required_permission = "contracts_app.change_customer"
    operation_id, input, responses = (
        "customers_update_config",
        UpdateConfigInput,
        {200: CustomerIdResponse},
    )

    def perform(self, data):
        customer = _url_customer(self)
        customer_update_config(customer=customer, changes=data)
        return customer
