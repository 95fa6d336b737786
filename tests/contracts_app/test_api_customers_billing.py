"""Billing-provider configurations through the official SDK in strict mode."""

from __future__ import annotations

import uuid

import metronome
import pytest

from contracts_app.models import BillingProviderConfiguration, Customer
from contracts_app.services.customers import DELIVERY_METHOD_IDS

STRIPE = {
    "billing_provider": "stripe",
    "delivery_method": "direct_to_billing_provider",
    "configuration": {"stripe_customer_id": "cus_1", "stripe_collection_method": "send_invoice"},
}


@pytest.fixture
def customer_id(sdk) -> str:
    return sdk.v1.customers.create(name="Billing Co").data.id


def test_set_then_get_round_trips_every_field(sdk, customer_id):
    # when
    created = sdk.v1.customers.set_billing_configurations(
        data=[
            {**STRIPE, "customer_id": customer_id, "tax_provider": "avalara"},
            {
                "billing_provider": "aws_marketplace",
                "customer_id": customer_id,
                "delivery_method_id": DELIVERY_METHOD_IDS["aws_sqs"],
                "configuration": {"aws_customer_id": "c-1", "aws_is_subscription_product": True},
            },
        ]
    ).data
    listed = sdk.v1.customers.retrieve_billing_configurations(customer_id=customer_id).data

    # then
    assert [c.billing_provider for c in created] == ["stripe", "aws_marketplace"]
    assert created[0].tax_provider == "avalara"
    assert created[1].tax_provider is None
    assert created[1].delivery_method_id == DELIVERY_METHOD_IDS["aws_sqs"]
    assert {c.id for c in listed} == {c.id for c in created}
    by_provider = {c.billing_provider: c for c in listed}
    stripe = by_provider["stripe"]
    assert stripe.configuration == STRIPE["configuration"]
    assert stripe.customer_id == customer_id
    assert stripe.delivery_method == "direct_to_billing_provider"
    assert stripe.delivery_method_id == DELIVERY_METHOD_IDS["direct_to_billing_provider"]
    assert stripe.delivery_method_configuration == {}
    assert stripe.archived_at is None
    assert by_provider["aws_marketplace"].delivery_method == "aws_sqs"


def test_set_for_several_customers_is_one_bulk_write(sdk, customer_id):
    other_id = sdk.v1.customers.create(name="Other").data.id
    sdk.v1.customers.set_billing_configurations(
        data=[{**STRIPE, "customer_id": customer_id}, {**STRIPE, "customer_id": other_id}]
    )
    assert BillingProviderConfiguration.objects.filter(customer_id=other_id).count() == 1
    assert BillingProviderConfiguration.objects.filter(customer_id=customer_id).count() == 1


def test_set_with_one_unknown_customer_writes_nothing(sdk, customer_id):
    with pytest.raises(metronome.NotFoundError) as error:
        sdk.v1.customers.set_billing_configurations(
            data=[
                {**STRIPE, "customer_id": customer_id},
                {**STRIPE, "customer_id": str(uuid.uuid4())},
            ]
        )
    assert error.value.body["field"] == "data[1].customer_id"
    assert not BillingProviderConfiguration.objects.exists()


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"billing_provider": "paypal"}, "data[0].billing_provider"),
        ({"delivery_method": "fax"}, "data[0].delivery_method"),
        (
            {"delivery_method": None, "delivery_method_id": "dm-unknown"},
            "data[0].delivery_method_id",
        ),
        ({"tax_provider": "irs"}, "data[0].tax_provider"),
        ({"customer_id": "not-a-uuid"}, "data[0].customer_id"),
        ({"configuration": "text"}, "data[0].configuration"),
    ],
)
def test_set_with_bad_item_is_400_naming_the_field(sdk, customer_id, item, field):
    body = {**STRIPE, "customer_id": customer_id, **item}
    body = {key: value for key, value in body.items() if value is not None}
    with pytest.raises(metronome.BadRequestError) as error:
        sdk.post(
            "/v1/setCustomerBillingProviderConfigurations", body={"data": [body]}, cast_to=object
        )
    assert error.value.body["field"] == field
    assert not BillingProviderConfiguration.objects.exists()


def test_set_with_empty_data_is_400(sdk):
    with pytest.raises(metronome.BadRequestError) as error:
        sdk.v1.customers.set_billing_configurations(data=[])
    assert error.value.body["field"] == "data"


def test_identical_active_configuration_is_409(sdk, customer_id):
    sdk.v1.customers.set_billing_configurations(data=[{**STRIPE, "customer_id": customer_id}])
    with pytest.raises(metronome.ConflictError) as error:
        sdk.v1.customers.set_billing_configurations(data=[{**STRIPE, "customer_id": customer_id}])
    assert error.value.body["field"] == "data[0].configuration"
    assert BillingProviderConfiguration.objects.count() == 1


def test_archive_hides_configurations_unless_asked(sdk, customer_id):
    # given
    created = sdk.v1.customers.set_billing_configurations(
        data=[
            {**STRIPE, "customer_id": customer_id},
            {**STRIPE, "customer_id": customer_id, "configuration": {"stripe_customer_id": "c2"}},
        ]
    ).data

    # when
    archived = sdk.v1.customers.archive_billing_configurations(
        customer_id=customer_id, customer_billing_provider_configuration_ids=[created[0].id]
    ).data

    # then
    assert archived.customer_id == customer_id
    assert archived.customer_billing_provider_configuration_ids == [created[0].id]
    active = sdk.v1.customers.retrieve_billing_configurations(customer_id=customer_id).data
    assert [c.id for c in active] == [created[1].id]
    everything = sdk.v1.customers.retrieve_billing_configurations(
        customer_id=customer_id, include_archived=True
    ).data
    assert {c.id: c.archived_at is not None for c in everything} == {
        created[0].id: True,
        created[1].id: False,
    }
    # an archived configuration no longer blocks an identical new one
    sdk.v1.customers.set_billing_configurations(data=[{**STRIPE, "customer_id": customer_id}])


def test_archive_of_another_customers_configuration_is_404_and_writes_nothing(sdk, customer_id):
    other_id = sdk.v1.customers.create(name="Other").data.id
    mine = sdk.v1.customers.set_billing_configurations(
        data=[{**STRIPE, "customer_id": customer_id}]
    ).data[0]
    theirs = sdk.v1.customers.set_billing_configurations(
        data=[{**STRIPE, "customer_id": other_id}]
    ).data[0]

    with pytest.raises(metronome.NotFoundError) as error:
        sdk.v1.customers.archive_billing_configurations(
            customer_id=customer_id,
            customer_billing_provider_configuration_ids=[mine.id, theirs.id],
        )
    assert error.value.body["field"] == "customer_billing_provider_configuration_ids[1]"
    assert not BillingProviderConfiguration.objects.filter(archived_at__isnull=False).exists()


def test_get_for_unknown_customer_is_404(sdk):
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.customers.retrieve_billing_configurations(customer_id=str(uuid.uuid4()))


def test_set_for_archived_customer_is_400(sdk, customer_id):
    sdk.v1.customers.archive(id=customer_id)
    with pytest.raises(metronome.BadRequestError) as error:
        sdk.v1.customers.set_billing_configurations(data=[{**STRIPE, "customer_id": customer_id}])
    assert error.value.body["field"] == "data[0].customer_id"
    assert Customer.objects.get(id=customer_id).billing_provider_configurations.count() == 0


def test_configuration_permissions(sdk_for, customer_id):
    viewer = sdk_for("contracts_app.view_billingproviderconfiguration")
    assert viewer.v1.customers.retrieve_billing_configurations(customer_id=customer_id).data == []
    with pytest.raises(metronome.PermissionDeniedError):
        viewer.v1.customers.set_billing_configurations(
            data=[{**STRIPE, "customer_id": customer_id}]
        )
