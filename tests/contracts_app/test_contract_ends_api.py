"""A subscription is one timeline, whichever endpoint writes it; ending a contract moves its
terms. Through the official SDK in strict mode (and Solvimon routes over httpx)."""

from __future__ import annotations

import datetime as dt
import threading

import httpx
import metronome
import pytest

from contracts_app.models import Contract
from packages_app.models import AliasName
from packages_app.services.aliases import alias_assign
from tests.contracts_app import contract_builders as build
from tests.contracts_app.contract_builders import offset, recurring_term
from tests.factories import user_with_token

UTC = dt.UTC


def at(y, m, d=1) -> dt.datetime:
    return dt.datetime(y, m, d, tzinfo=UTC)


@pytest.fixture
def package(transactional_db):
    return build.make_package(
        terms=[recurring_term(build.make_product(), duration=offset("MONTHS", 12))],
        duration_unit="MONTHS",
        duration_value=12,
    )


def assert_conflict(error: metronome.ConflictError, field: str) -> None:
    assert error.response.headers["x-should-retry"] == "false"
    assert error.body["field"] == field, error.body


def test_ending_early_shows_only_the_periods_left(sdk, customer, package):
    cid = str(customer.id)
    contract_id = sdk.v1.contracts.create(
        customer_id=cid, starting_at=at(2024, 1), package_id=str(package.id)
    ).data.id
    sdk.v1.contracts.update_end_date(
        customer_id=cid, contract_id=contract_id, ending_before=at(2024, 4)
    )
    current = sdk.v1.contracts.retrieve(customer_id=cid, contract_id=contract_id).data.current
    assert [c.access_schedule.schedule_items[0].starting_at for c in current.credits] == [
        at(2024, 1),
        at(2024, 2),
        at(2024, 3),
    ]
    assert current.recurring_credits[0].ending_before == at(2024, 4)
    listed = sdk.v1.contracts.list(customer_id=cid).data  # strict-valid too
    assert len(listed[0].current.credits) == 3


def test_renewing_the_same_contract_twice_is_409(sdk, customer, package):
    cid, pid = str(customer.id), str(package.id)
    first = sdk.v1.contracts.create(customer_id=cid, starting_at=at(2024, 1), package_id=pid)
    renewal = {"from_contract_id": first.data.id, "type": "RENEWAL"}
    sdk.v1.contracts.create(
        customer_id=cid, starting_at=at(2024, 7), package_id=pid, transition=renewal
    )
    with pytest.raises(metronome.ConflictError) as again:
        sdk.v1.contracts.create(
            customer_id=cid, starting_at=at(2024, 9), package_id=pid, transition=renewal
        )
    assert_conflict(again.value, "starting_at")
    old = sdk.v1.contracts.retrieve(customer_id=cid, contract_id=first.data.id).data
    assert old.current.ending_before == at(2024, 7)  # untouched by the refused renewal
    assert len(old.current.credits) == 6
    assert Contract.objects.filter(customer=customer).count() == 2


def test_open_ending_a_contract_with_a_successor_is_409(sdk, customer, package):
    cid, pid = str(customer.id), str(package.id)
    first = sdk.v1.contracts.create(customer_id=cid, starting_at=at(2024, 1), package_id=pid)
    sdk.v1.contracts.create(
        customer_id=cid,
        starting_at=at(2024, 7),
        package_id=pid,
        transition={"from_contract_id": first.data.id, "type": "RENEWAL"},
    )
    with pytest.raises(metronome.ConflictError) as conflict:
        sdk.v1.contracts.update_end_date(customer_id=cid, contract_id=first.data.id)
    assert_conflict(conflict.value, "ending_before")


@pytest.fixture
def schedules(live_server, customer):
    """A pricing-plan subscription with two schedules: Jan-Jun and Jun-Dec 2024."""
    plan = build.make_package(name="Plan v1")
    alias_assign(kind=AliasName.Kind.PACKAGE, name="Plan", package=plan, starting_at=at(2024, 1))
    _, key = user_with_token(
        "contracts_app.pricing_plan_schedule_create", "contracts_app.add_subscription"
    )
    api = httpx.Client(base_url=live_server.url, headers={"X-API-KEY": key}, timeout=30)
    subscription = api.post(
        "/v1/pricing-plan-subscriptions", json={"customer_id": str(customer.id)}
    ).json()
    ids = []
    for start, end in (("2024-01-01", "2024-06-01"), ("2024-06-01", "2024-12-01")):
        response = api.post(
            "/v1/pricing-plan-schedules",
            json={
                "pricing_plan_subscription_id": subscription["id"],
                "start_at": f"{start}T00:00:00Z",
                "end_at": f"{end}T00:00:00Z",
                "pricing_plan_version_selector": {"pricing_plan_reference": "Plan"},
            },
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    yield ids
    api.close()


def test_open_ending_a_schedule_that_has_a_successor_is_409(sdk, customer, schedules):
    with pytest.raises(metronome.ConflictError) as conflict:
        sdk.v1.contracts.update_end_date(customer_id=str(customer.id), contract_id=schedules[0])
    assert_conflict(conflict.value, "ending_before")
    assert Contract.objects.get(id=schedules[0]).ending_before == at(2024, 6)


def test_renewing_into_a_subscription_whose_next_schedule_overlaps_is_409(
    sdk, customer, package, schedules
):
    # the 12-month package from March would run over the June schedule
    with pytest.raises(metronome.ConflictError) as conflict:
        sdk.v1.contracts.create(
            customer_id=str(customer.id),
            starting_at=at(2024, 3),
            package_id=str(package.id),
            transition={"from_contract_id": schedules[0], "type": "RENEWAL"},
        )
    assert_conflict(conflict.value, "starting_at")
    assert Contract.objects.get(id=schedules[0]).ending_before == at(2024, 6)
    assert Contract.objects.filter(customer=customer).count() == 2


def test_concurrent_renewals_of_one_contract_make_one_successor(sdk, customer, package):
    # given a contract and six clients renewing it at once, on six nearby dates
    cid, pid = str(customer.id), str(package.id)
    first = sdk.v1.contracts.create(customer_id=cid, starting_at=at(2024, 1), package_id=pid)
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def renew(day: int):
        barrier.wait()
        try:
            sdk.v1.contracts.create(
                customer_id=cid,
                starting_at=at(2024, 7, day),
                package_id=pid,
                transition={"from_contract_id": first.data.id, "type": "RENEWAL"},
            )
            outcomes.append("created")
        except metronome.ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=renew, args=(day,)) for day in range(1, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then one renewal wins (no deadlock, no overlap), and the first contract ends where it starts
    assert sorted(outcomes) == ["conflict"] * 5 + ["created"]
    successor = Contract.objects.exclude(id=first.data.id).get(customer=customer)
    assert Contract.objects.get(id=first.data.id).ending_before == successor.starting_at
