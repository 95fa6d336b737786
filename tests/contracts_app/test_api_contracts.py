"""Contracts endpoints through the official SDK in strict mode, against the live server."""

from __future__ import annotations

import datetime as dt

import metronome
import pytest
from django.utils import timezone

from contracts_app.models import Contract, ContractTerm
from packages_app.models import AliasName
from packages_app.services.aliases import alias_assign
from tests.builders.races import race
from tests.contracts_app import contract_builders as build
from tests.contracts_app.contract_builders import eight_terms

UTC = dt.UTC


def at(y, m, d) -> dt.datetime:
    return dt.datetime(y, m, d, tzinfo=UTC)


def z(y, m, d) -> str:
    return f"{y:04d}-{m:02d}-{d:02d}T00:00:00Z"


# --- create from a package, then get ------------------------------------------------------------


def test_provision_from_package_id_and_read_it_back(sdk, customer, package):
    # given the customer has the package's billing provider configured
    configuration = build.make_billing_configuration(
        customer, configuration={"stripe_customer_id": "cus_1"}
    )
    # when provisioning through the SDK
    created = sdk.v1.contracts.create(
        customer_id=str(customer.id),
        starting_at=at(2024, 1, 31),
        package_id=str(package.id),
        uniqueness_key="first",
        custom_fields={"crm": "42"},
    )
    # then get returns a strict-valid Contract on the package with absolute dates
    contract = sdk.v1.contracts.retrieve(
        customer_id=str(customer.id), contract_id=created.data.id
    ).data
    assert contract.package_id == str(package.id)
    assert contract.custom_fields == {"crm": "42"}
    assert contract.uniqueness_key == "first"
    assert contract.customer_billing_provider_configuration.id == str(configuration.id)
    current = contract.current
    assert current.starting_at == at(2024, 1, 31)
    assert current.ending_before == at(2025, 1, 31)
    assert current.usage_statement_schedule.billing_anchor_date == at(2024, 2, 1)
    assert len(current.commits) == 1 + 12  # the commit and 12 monthly recurring ones
    assert {c.recurring_commit_id for c in current.commits[1:]} == {current.recurring_commits[0].id}
    assert current.commits[3].access_schedule.schedule_items[0].starting_at == at(2024, 3, 31)
    assert current.overrides[0].starting_at == at(2024, 2, 29)
    assert current.scheduled_charges[0].schedule.schedule_items[0].timestamp == at(2024, 2, 29)
    assert contract.subscriptions[0].quantity_schedule[0].quantity == 3
    assert contract.spend_trackers[0].alias == "commit-purchases"
    assert contract.initial.ending_before == current.ending_before
    assert contract.archived_at is None


def test_provision_by_alias_resolves_as_of_starting_at(sdk, customer, product):
    v1, v2 = build.make_package(name="v1"), build.make_package(name="v2")
    alias_assign(
        kind=AliasName.Kind.PACKAGE, name="starter", package=v1, starting_at=at(2024, 1, 1)
    )
    alias_assign(
        kind=AliasName.Kind.PACKAGE, name="starter", package=v2, starting_at=at(2024, 6, 1)
    )
    early = sdk.v1.contracts.create(
        customer_id=str(customer.id), starting_at=at(2024, 2, 1), package_alias="starter"
    )
    late = sdk.v1.contracts.create(
        customer_id=str(customer.id), starting_at=at(2024, 7, 1), package_alias="starter"
    )
    assert Contract.objects.get(id=early.data.id).package == v1
    assert Contract.objects.get(id=late.data.id).package == v2
    with pytest.raises(metronome.BadRequestError) as nowhere:
        sdk.v1.contracts.create(
            customer_id=str(customer.id), starting_at=at(2023, 1, 1), package_alias="starter"
        )
    assert nowhere.value.body["field"] == "package_alias"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"name": "mine"}, "name"),
        ({"ending_before": "2025-01-01T00:00:00Z"}, "ending_before"),
        ({"commits": []}, "commits"),
        ({"package_alias": "starter"}, "package_alias"),
    ],
)
def test_package_provision_refuses_other_fields(sdk, customer, package, extra, field):
    with pytest.raises(metronome.BadRequestError) as failure:
        sdk.v1.contracts.create(
            customer_id=str(customer.id),
            starting_at=at(2024, 1, 1),
            package_id=str(package.id),
            extra_body=extra,
        )
    assert failure.value.body["field"] == field
    assert not Contract.objects.exists()


def test_provision_errors(sdk, customer, package):
    start = at(2024, 1, 1)
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.contracts.create(
            customer_id="not-a-uuid", starting_at=start, package_id=str(package.id)
        )
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.contracts.create(
            customer_id=str(customer.id),
            starting_at=start,
            package_id="00000000-0000-4000-8000-000000000000",
        )
    # the package names stripe but the customer has no stripe configuration
    with pytest.raises(metronome.BadRequestError) as billing:
        sdk.v1.contracts.create(
            customer_id=str(customer.id), starting_at=start, package_id=str(package.id)
        )
    assert "billing provider" in billing.value.body["message"]
    # archived package
    plain = build.make_package(name="old", archived_at=timezone.now())
    with pytest.raises(metronome.BadRequestError) as archived:
        sdk.v1.contracts.create(
            customer_id=str(customer.id), starting_at=start, package_id=str(plain.id)
        )
    assert archived.value.body["field"] == "package_id"
    # a malformed date names its field
    with pytest.raises(metronome.BadRequestError) as bad_date:
        sdk.v1.contracts.create(
            customer_id=str(customer.id), starting_at="yesterday", package_id=str(plain.id)
        )
    assert bad_date.value.body["field"] == "starting_at"
    assert not Contract.objects.exists()


def test_reused_uniqueness_key_is_a_409_without_retry(sdk, customer, product):
    package = build.make_package(terms=eight_terms(product))
    kwargs = {
        "customer_id": str(customer.id),
        "starting_at": at(2024, 1, 1),
        "package_id": str(package.id),
        "uniqueness_key": "once",
    }
    sdk.v1.contracts.create(**kwargs)
    terms_before = ContractTerm.objects.count()
    with pytest.raises(metronome.ConflictError) as conflict:
        sdk.v1.contracts.create(**kwargs)
    assert conflict.value.response.headers["x-should-retry"] == "false"
    assert (Contract.objects.count(), ContractTerm.objects.count()) == (1, terms_before)


def test_concurrent_provisions_with_one_key_make_one_contract(sdk, customer, product):
    # given one package and eight clients racing with the same uniqueness_key
    package = build.make_package(terms=eight_terms(product))

    def provision(_):
        sdk.v1.contracts.create(
            customer_id=str(customer.id),
            starting_at=at(2024, 1, 1),
            package_id=str(package.id),
            uniqueness_key="race",
        )

    outcomes = race(8, provision)
    # then exactly one wins, the others get 409, and one contract exists with its terms
    assert outcomes == ["conflict"] * 7 + ["created"]
    contract = Contract.objects.get()
    assert ContractTerm.objects.filter(contract=contract).count() == ContractTerm.objects.count()


def test_transition_renews_into_the_same_subscription(sdk, customer):
    package = build.make_package()
    first = sdk.v1.contracts.create(
        customer_id=str(customer.id), starting_at=at(2024, 1, 1), package_id=str(package.id)
    )
    second = sdk.v1.contracts.create(
        customer_id=str(customer.id),
        starting_at=at(2024, 6, 1),
        package_id=str(package.id),
        transition={"from_contract_id": first.data.id, "type": "RENEWAL"},
    )
    old = sdk.v1.contracts.retrieve(customer_id=str(customer.id), contract_id=first.data.id).data
    assert old.current.ending_before == at(2024, 6, 1)
    assert old.current.transitions[0].to_contract_id == second.data.id
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.contracts.create(
            customer_id=str(customer.id),
            starting_at=at(2024, 8, 1),
            package_id=str(package.id),
            transition={
                "from_contract_id": "00000000-0000-4000-8000-000000000000",
                "type": "RENEWAL",
            },
        )


# --- negotiated contracts -------------------------------------------------------------------------


def negotiated_body(product) -> dict:
    pid = str(product.id)
    return {
        "name": "Enterprise deal",
        "ending_before": at(2025, 1, 1),
        "net_payment_terms_days": 45,
        "usage_statement_schedule": {"frequency": "QUARTERLY", "day": "CONTRACT_START"},
        "commits": [
            {
                "product_id": pid,
                "type": "POSTPAID",
                "temporary_id": "big-commit",
                "access_schedule": {
                    "schedule_items": [
                        {
                            "amount": 120000,
                            "starting_at": at(2024, 1, 1),
                            "ending_before": at(2025, 1, 1),
                        }
                    ]
                },
                "invoice_schedule": {
                    "schedule_items": [{"timestamp": at(2024, 12, 1), "amount": 120000}]
                },
            }
        ],
        "credits": [
            {
                "product_id": pid,
                "access_schedule": {
                    "schedule_items": [
                        {
                            "amount": 500,
                            "starting_at": at(2024, 1, 1),
                            "ending_before": at(2024, 2, 1),
                        }
                    ]
                },
            }
        ],
        "overrides": [
            {
                "starting_at": at(2024, 3, 1),
                "type": "MULTIPLIER",
                "multiplier": 0.9,
                "override_specifiers": [{"commit_ids": ["big-commit"]}],
            }
        ],
        "scheduled_charges": [
            {
                "product_id": pid,
                "schedule": {
                    "schedule_items": [
                        {"timestamp": at(2024, 2, 1), "quantity": 1, "unit_price": 99}
                    ]
                },
            }
        ],
        "subscriptions": [
            {
                "collection_schedule": "ARREARS",
                "proration": {},
                "subscription_rate": {"billing_frequency": "MONTHLY", "product_id": pid},
                "initial_quantity": 5,
            }
        ],
        "recurring_credits": [
            {
                "product_id": pid,
                "access_amount": {"unit_price": 10, "quantity": 3},
                "commit_duration": {"value": 1},
                "priority": 1,
                "starting_at": at(2024, 1, 1),
                "recurrence_frequency": "QUARTERLY",
            }
        ],
        "discounts": [
            {
                "product_id": pid,
                "schedule": {"schedule_items": [{"timestamp": at(2024, 1, 1), "amount": 50}]},
            }
        ],
        "professional_services": [
            {"product_id": pid, "max_amount": 1000, "quantity": 1, "unit_price": 1000}
        ],
        "usage_filter": {"group_key": "region", "group_values": ["eu"]},
        "custom_fields": {"deal": "yes"},
    }


def test_negotiated_contract_round_trips_strictly(sdk, customer, product):
    created = sdk.v1.contracts.create(
        customer_id=str(customer.id), starting_at=at(2024, 1, 1), **negotiated_body(product)
    )
    contract = sdk.v1.contracts.retrieve(
        customer_id=str(customer.id), contract_id=created.data.id
    ).data
    current = contract.current
    assert contract.package_id is None
    assert current.name == "Enterprise deal"
    assert current.net_payment_terms_days == 45
    assert current.usage_statement_schedule.frequency == "QUARTERLY"
    commit = current.commits[0]
    assert commit.type == "POSTPAID" and commit.invoice_schedule.schedule_items[0].amount == 120000
    assert current.overrides[0].override_specifiers[0].commit_ids == [commit.id]
    assert len(current.credits) == 1 + 4  # the credit and four quarterly ones
    assert current.discounts[0].product.name == product.name
    assert current.professional_services[0].max_amount == 1000
    assert contract.subscriptions[0].quantity_schedule[0].quantity == 5
    assert current.usage_filter.initial.group_key == "region"


def test_negotiated_contract_validation_names_the_field(sdk, customer, product):
    body = negotiated_body(product)
    del body["commits"][0]["invoice_schedule"]  # POSTPAID needs one
    with pytest.raises(metronome.BadRequestError) as failure:
        sdk.v1.contracts.create(customer_id=str(customer.id), starting_at=at(2024, 1, 1), **body)
    assert failure.value.body["field"] == "commits[0].invoice_schedule"
    body = negotiated_body(product)
    body["scheduled_charges"][0]["product_id"] = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(metronome.BadRequestError) as unknown:
        sdk.v1.contracts.create(customer_id=str(customer.id), starting_at=at(2024, 1, 1), **body)
    assert unknown.value.body["field"] == "scheduled_charges[0].product_id"
    assert not Contract.objects.exists()


# --- list, updateEndDate, archive ------------------------------------------------------------


def test_list_pages_with_a_body_cursor_and_filters(sdk, customer):
    package = build.make_package()
    ids = [
        sdk.v1.contracts.create(
            customer_id=str(customer.id), starting_at=at(2024, month, 1), package_id=str(package.id)
        ).data.id
        for month in range(1, 6)
    ]
    build.make_customer("Someone else")
    # auto-paging with limit 2 walks 3 pages through the body cursor, in start order
    pages = list(sdk.v1.contracts.list(customer_id=str(customer.id), limit=2).iter_pages())
    assert [len(page.data) for page in pages] == [2, 2, 1]
    assert [c.id for page in pages for c in page.data] == ids
    assert pages[-1].cursor is None
    starting = sdk.v1.contracts.list(customer_id=str(customer.id), starting_at=at(2024, 4, 1))
    assert [c.id for c in starting.data] == ids[3:]
    with pytest.raises(metronome.BadRequestError):
        sdk.v1.contracts.list(
            customer_id=str(customer.id), starting_at=at(2024, 4, 1), covering_date=at(2024, 4, 1)
        )
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.contracts.list(customer_id="00000000-0000-4000-8000-000000000000")


def test_update_end_date_and_archive(sdk, customer):
    package = build.make_package(duration_unit="MONTHS", duration_value=12)
    cid = str(customer.id)
    contract_id = sdk.v1.contracts.create(
        customer_id=cid, starting_at=at(2024, 1, 1), package_id=str(package.id)
    ).data.id
    # end it early, then open it up
    sdk.v1.contracts.update_end_date(
        customer_id=cid, contract_id=contract_id, ending_before=at(2024, 3, 1)
    )
    got = sdk.v1.contracts.retrieve(customer_id=cid, contract_id=contract_id).data
    assert got.current.ending_before == at(2024, 3, 1)
    assert got.initial.ending_before == at(2025, 1, 1)
    sdk.v1.contracts.update_end_date(customer_id=cid, contract_id=contract_id)
    assert (
        sdk.v1.contracts.retrieve(
            customer_id=cid, contract_id=contract_id
        ).data.current.ending_before
        is None
    )
    with pytest.raises(metronome.BadRequestError) as early:
        sdk.v1.contracts.update_end_date(
            customer_id=cid, contract_id=contract_id, ending_before=at(2023, 1, 1)
        )
    assert early.value.body["field"] == "ending_before"
    covering = sdk.v1.contracts.list(customer_id=cid, covering_date=at(2030, 1, 1))
    assert [c.id for c in covering.data] == [contract_id]
    # archive: gone from the default list, still readable, visible with include_archived
    archived = sdk.v1.contracts.archive(
        customer_id=cid, contract_id=contract_id, void_invoices=False
    )
    assert archived.data.id == contract_id
    assert sdk.v1.contracts.list(customer_id=cid).data == []
    assert [c.id for c in sdk.v1.contracts.list(customer_id=cid, include_archived=True).data] == [
        contract_id
    ]
    assert (
        sdk.v1.contracts.retrieve(customer_id=cid, contract_id=contract_id).data.archived_at
        is not None
    )
    # another customer's id does not reach it
    other = build.make_customer("B")
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.contracts.retrieve(customer_id=str(other.id), contract_id=contract_id)
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.contracts.archive(
            customer_id=str(other.id), contract_id=contract_id, void_invoices=False
        )
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.contracts.update_end_date(customer_id=str(other.id), contract_id=contract_id)


def test_permissions(sdk_for, customer, live_server):
    package = build.make_package()
    reader = sdk_for("contracts_app.view_contract")
    with pytest.raises(metronome.PermissionDeniedError):
        reader.v1.contracts.create(
            customer_id=str(customer.id), starting_at=at(2024, 1, 1), package_id=str(package.id)
        )
    assert reader.v1.contracts.list(customer_id=str(customer.id)).data == []
    anonymous = metronome.Metronome(base_url=live_server.url, bearer_token="wrong", max_retries=0)
    with pytest.raises(metronome.AuthenticationError):
        anonymous.v1.contracts.list(customer_id=str(customer.id))


def test_provision_from_a_package_made_through_the_api(sdk, customer, product):
    # given a package created through packages/create with one term of each kind, an alias,
    # temporary ids linking an override to a commit and a recurring commit to a subscription
    build.make_rate_card()  # seeds the USD credit type the package service checks
    pid = str(product.id)
    months = lambda n: {"unit": "MONTHS", "value": n}  # noqa: E731
    created = sdk.v1.packages.create(
        name="API package",
        aliases=[{"name": "api-plan", "starting_at": at(2024, 1, 1)}],
        duration=months(12),
        commits=[
            {
                "product_id": pid,
                "type": "PREPAID",
                "temporary_id": "c1",
                "access_schedule": {
                    "schedule_items": [
                        {"amount": 100, "starting_at_offset": months(0), "duration": months(12)}
                    ]
                },
            }
        ],
        overrides=[
            {
                "starting_at_offset": months(1),
                "is_commit_specific": True,
                "override_specifiers": [{"commit_ids": ["c1"]}],
                "type": "MULTIPLIER",
                "multiplier": 0.5,
            }
        ],
        subscriptions=[
            {
                "temporary_id": "s1",
                "collection_schedule": "ADVANCE",
                "proration": {"is_prorated": True},
                "subscription_rate": {"billing_frequency": "MONTHLY", "product_id": pid},
                "initial_quantity": 2,
            }
        ],
        recurring_commits=[
            {
                "product_id": pid,
                "access_amount": {"unit_price": 10, "quantity": 1},
                "commit_duration": {"value": 1, "unit": "PERIODS"},
                "priority": 1,
                "starting_at_offset": months(0),
                "recurrence_frequency": "QUARTERLY",
                "subscription_config": {
                    "subscription_id": "s1",
                    "apply_seat_increase_config": {"is_prorated": True},
                },
            }
        ],
        scheduled_charges=[
            {
                "product_id": pid,
                "schedule": {
                    "schedule_items": [{"date_offset": months(1), "quantity": 1, "unit_price": 5}]
                },
            }
        ],
    )
    # when a customer is provisioned through the alias
    contract_id = sdk.v1.contracts.create(
        customer_id=str(customer.id), starting_at=at(2024, 1, 31), package_alias="api-plan"
    ).data.id
    contract = sdk.v1.contracts.retrieve(customer_id=str(customer.id), contract_id=contract_id).data
    # then the terms are materialised and their references follow the new ids
    current = contract.current
    assert contract.package_id == created.data.id
    commit = current.commits[0]
    assert current.overrides[0].override_specifiers[0].commit_ids == [commit.id]
    assert current.overrides[0].starting_at == at(2024, 2, 29)
    assert len(current.commits) == 1 + 4  # and four quarterly commits
    assert (
        current.recurring_commits[0].subscription_config.subscription_id
        == contract.subscriptions[0].id
    )
    assert current.scheduled_charges[0].schedule.schedule_items[0].timestamp == at(2024, 2, 29)
    on_package = sdk.v1.packages.list_contracts_on_package(package_id=created.data.id)
    assert [item.contract_id for item in on_package.data] == [contract_id]
