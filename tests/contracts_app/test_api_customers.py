"""Customers through the official SDK in strict mode against the live server."""

from __future__ import annotations

import uuid

import metronome
import pytest

from contracts_app.models import Customer

CUSTOMER_KEYS = {"id", "external_id", "ingest_aliases", "name", "custom_fields"}
DETAIL_KEYS = {
    "id",
    "created_at",
    "custom_fields",
    "customer_config",
    "external_id",
    "ingest_aliases",
    "name",
    "updated_at",
    "archived_at",
}


def test_create_returns_the_customer_and_stores_every_field(sdk):
    # when
    created = sdk.v1.customers.create(
        name="Acme Corp",
        external_id="acme-ext",
        ingest_aliases=["acme", "acme@example.com"],
        custom_fields={"tier": "gold"},
        billing_config={
            "billing_provider_customer_id": "cus_123",
            "billing_provider_type": "stripe",
            "stripe_collection_method": "send_invoice",
        },
        customer_billing_provider_configurations=[
            {
                "billing_provider": "stripe",
                "delivery_method": "direct_to_billing_provider",
                "configuration": {"stripe_customer_id": "cus_123", "limit": 1.25},
                "tax_provider": "anrok",
            }
        ],
        customer_revenue_system_configurations=[
            {
                "provider": "netsuite",
                "delivery_method": "direct_to_billing_provider",
                "configuration": {"netsuite_customer_id": "42"},
            }
        ],
    )

    # then
    data = created.data
    assert set(data.model_dump(exclude_unset=True)) == CUSTOMER_KEYS
    assert (data.name, data.external_id) == ("Acme Corp", "acme-ext")
    assert data.ingest_aliases == ["acme", "acme@example.com"]
    assert data.custom_fields == {"tier": "gold"}
    customer = Customer.objects.get(id=data.id)
    assert customer.details["billing_config"]["stripe_collection_method"] == "send_invoice"
    assert customer.details["customer_revenue_system_configurations"][0]["provider"] == "netsuite"
    config = customer.billing_provider_configurations.get()
    assert (config.billing_provider, config.delivery_method) == (
        "stripe",
        "direct_to_billing_provider",
    )
    assert str(config.configuration["limit"]) == "1.25"


def test_minimal_create_reports_its_own_id_as_external_id(sdk):
    data = sdk.v1.customers.create(name="Solo").data
    assert data.external_id == data.id
    assert data.ingest_aliases == []


def test_first_ingest_alias_stands_in_for_a_missing_external_id(sdk):
    data = sdk.v1.customers.create(name="Aliased", ingest_aliases=["a-1", "a-2"]).data
    assert data.external_id == "a-1"


def test_long_names_are_truncated_to_160_characters(sdk):
    data = sdk.v1.customers.create(name="x" * 300).data
    assert data.name == "x" * 160


def test_retrieve_returns_the_customer_detail(sdk):
    # given
    created = sdk.v1.customers.create(name="Detail Co", ingest_aliases=["detail"]).data

    # when
    detail = sdk.v1.customers.retrieve(customer_id=created.id).data

    # then
    assert set(detail.model_dump(exclude_unset=True)) == DETAIL_KEYS
    assert detail.id == created.id
    assert detail.name == "Detail Co"
    assert detail.custom_fields == {}
    assert detail.customer_config.salesforce_account_id is None
    assert detail.archived_at is None
    assert detail.created_at.tzinfo is not None


# Fixed values: xdist workers must collect identical parameter ids.
@pytest.mark.parametrize("customer_id", ["0b6f3c9e-5d1a-4f7e-9a53-2f1c8d4e7a10", "not-a-uuid"])
def test_retrieve_unknown_customer_is_404(sdk, customer_id):
    with pytest.raises(metronome.NotFoundError) as error:
        sdk.v1.customers.retrieve(customer_id=customer_id)
    assert "not found" in error.value.body["message"]


def test_missing_name_is_400_naming_the_field(sdk):
    with pytest.raises(metronome.BadRequestError) as error:
        sdk.post("/v1/customers", body={"ingest_aliases": ["x"]}, cast_to=object)
    assert error.value.body["field"] == "name"
    assert not Customer.objects.exists()


CONFIGURATIONS = "customer_billing_provider_configurations"


@pytest.mark.parametrize(
    ("configuration", "field"),
    [
        (
            {"billing_provider": "stripe", "delivery_method": "carrier_pigeon"},
            f"{CONFIGURATIONS}[0].delivery_method",
        ),
        ({"billing_provider": "stripe"}, f"{CONFIGURATIONS}[0].delivery_method"),
        (
            {
                "billing_provider": "netsuite",
                "delivery_method": "direct_to_billing_provider",
                "tax_provider": "anrok",
            },
            f"{CONFIGURATIONS}[0].tax_provider",
        ),
    ],
    ids=["unknown-delivery-method", "no-delivery-method", "tax-provider-outside-stripe"],
)
def test_bad_configuration_is_400_naming_the_nested_field_and_writes_nothing(
    sdk, configuration, field
):
    with pytest.raises(metronome.BadRequestError) as error:
        sdk.v1.customers.create(
            name="Bad", customer_billing_provider_configurations=[configuration]
        )
    assert error.value.body["field"] == field
    assert not Customer.objects.exists()


def test_ingest_alias_of_an_active_customer_is_409(sdk):
    # given
    sdk.v1.customers.create(name="First", ingest_aliases=["shared"])

    # when / then
    with pytest.raises(metronome.ConflictError) as error:
        sdk.v1.customers.create(name="Second", ingest_aliases=["mine", "shared"])
    assert error.value.response.headers["x-should-retry"] == "false"
    assert error.value.body["field"] == "ingest_aliases[1]"
    assert Customer.objects.count() == 1


def test_external_id_of_an_active_customer_is_409_also_against_an_alias(sdk):
    sdk.v1.customers.create(name="First", external_id="ext-1", ingest_aliases=["alias-1"])

    with pytest.raises(metronome.ConflictError) as error:
        sdk.v1.customers.create(name="Second", external_id="ext-1")
    assert error.value.body["field"] == "external_id"
    with pytest.raises(metronome.ConflictError):
        sdk.v1.customers.create(name="Third", external_id="alias-1")
    with pytest.raises(metronome.ConflictError):
        sdk.v1.customers.create(name="Fourth", ingest_aliases=["ext-1"])
    assert Customer.objects.count() == 1


def test_archiving_frees_the_ingest_alias(sdk):
    # given
    first = sdk.v1.customers.create(name="First", external_id="e", ingest_aliases=["reuse"]).data

    # when
    archived = sdk.v1.customers.archive(id=first.id)
    second = sdk.v1.customers.create(name="Second", external_id="e", ingest_aliases=["reuse"])

    # then
    assert archived.data.id == first.id
    assert second.data.ingest_aliases == ["reuse"]
    assert sdk.v1.customers.retrieve(customer_id=first.id).data.archived_at is not None


def test_archive_unknown_customer_is_404_and_bad_id_is_400(sdk):
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.customers.archive(id=str(uuid.uuid4()))
    with pytest.raises(metronome.BadRequestError) as error:
        sdk.v1.customers.archive(id="nope")
    assert error.value.body["field"] == "id"


def test_archive_twice_is_harmless(sdk):
    customer_id = sdk.v1.customers.create(name="Twice").data.id
    sdk.v1.customers.archive(id=customer_id)
    first_archived_at = Customer.objects.get(id=customer_id).archived_at
    sdk.v1.customers.archive(id=customer_id)
    assert Customer.objects.get(id=customer_id).archived_at == first_archived_at


def test_list_auto_pages_over_more_than_two_pages(sdk):
    # given
    Customer.objects.bulk_create(Customer(name=f"Customer {i:02}") for i in range(25))

    # when
    pager = sdk.v1.customers.list(limit=10)
    pages = list(pager.iter_pages())
    names = [customer.name for customer in sdk.v1.customers.list(limit=10)]

    # then
    assert [len(page.data) for page in pages] == [10, 10, 5]
    assert pages[-1].next_page is None
    assert sorted(names) == [f"Customer {i:02}" for i in range(25)]
    assert len(set(names)) == 25


def test_list_filters_by_ids_alias_and_archived(sdk):
    # given
    a = sdk.v1.customers.create(name="A", ingest_aliases=["alias-a"]).data
    b = sdk.v1.customers.create(name="B", external_id="ext-b").data
    c = sdk.v1.customers.create(name="C").data
    sdk.v1.customers.archive(id=c.id)

    def names(**filters):
        return sorted(customer.name for customer in sdk.v1.customers.list(**filters))

    # then
    assert names() == ["A", "B"]
    assert names(customer_ids=[a.id, c.id]) == ["A"]
    assert names(customer_ids=[a.id, b.id]) == ["A", "B"]
    assert names(ingest_alias="alias-a") == ["A"]
    assert names(ingest_alias="ext-b") == ["B"]
    assert names(ingest_alias="nobody") == []
    assert names(only_archived=True) == ["C"]
    assert names(only_archived=True, customer_ids=[a.id]) == []
    assert names(salesforce_account_ids=["sf-1"]) == []


def test_list_filters_by_salesforce_account_id(sdk):
    customer = Customer.objects.create(
        name="SF", details={"customer_config": {"salesforce_account_id": "sf-1"}}
    )
    found = list(sdk.v1.customers.list(salesforce_account_ids=["sf-1", "sf-2"]))
    assert [c.id for c in found] == [str(customer.id)]
    assert found[0].customer_config.salesforce_account_id == "sf-1"


def test_list_with_bad_filters_is_400_naming_the_field(sdk):
    with pytest.raises(metronome.BadRequestError) as error:
        sdk.v1.customers.list(customer_ids=["not-a-uuid"])
    assert error.value.body["field"] == "customer_ids"
    with pytest.raises(metronome.BadRequestError) as error:
        sdk.v1.customers.list(limit=0)
    assert error.value.body["field"] == "limit"
    with pytest.raises(metronome.BadRequestError) as error:
        sdk.v1.customers.list(next_page="garbage!")
    assert error.value.body["field"] == "next_page"
    with pytest.raises(metronome.BadRequestError) as error:
        sdk.v1.customers.list(customer_ids=[str(uuid.uuid4()) for _ in range(101)])
    assert error.value.body["field"] == "customer_ids"


def test_permissions_are_enforced(sdk_for):
    viewer = sdk_for("contracts_app.view_customer")
    with pytest.raises(metronome.PermissionDeniedError):
        viewer.v1.customers.create(name="Nope")
    assert list(viewer.v1.customers.list()) == []
    creator = sdk_for("contracts_app.add_customer")
    assert creator.v1.customers.create(name="Yes").data.name == "Yes"
    with pytest.raises(metronome.PermissionDeniedError):
        creator.v1.customers.archive(id=str(uuid.uuid4()))


def test_concurrent_creates_with_one_ingest_alias_make_one_customer(sdk):
    from concurrent.futures import ThreadPoolExecutor

    # when: eight clients race for the same alias
    def attempt(index: int) -> str:
        try:
            sdk.v1.customers.create(name=f"Racer {index}", ingest_aliases=["contested"])
        except metronome.ConflictError:
            return "conflict"
        return "created"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(8)))

    # then
    assert sorted(outcomes) == ["conflict"] * 7 + ["created"]
    assert Customer.objects.filter(ingest_aliases__contains=["contested"]).count() == 1
