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


class _CustomerChangeApi(ServicePostApi):
    # A change (`change`) of the URL's customer, answered with the customer's id: the SDK
    # reads no body here; others get the id to confirm which customer changed.
    required_permission = "contracts_app.change_customer"
    responses = {200: CustomerIdResponse}

    def change(self, customer: Customer, data: dict) -> None:
        raise NotImplementedError

    def perform(self, data):
        customer = _url_customer(self)
        self.change(customer, data)
        return customer


class CustomerSetIngestAliasesApi(_CustomerChangeApi):
    operation_id, input = "customers_set_ingest_aliases", SetIngestAliasesInput

    def change(self, customer, data):
        customer_set_ingest_aliases(customer=customer, **data)


class CustomerUpdateConfigApi(_CustomerChangeApi):
    operation_id, input = "customers_update_config", UpdateConfigInput

    def change(self, customer, data):
        customer_update_config(customer=customer, changes=data)
