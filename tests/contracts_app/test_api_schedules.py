"""Solvimon-style pricing-plan subscriptions and schedules over real HTTP (seed 004, DESIGN.md §6).

A plan is a package alias ("Starter"), its versions the packages assigned to it in order; a
schedule is a contract in the subscription. Calls go through `httpx` with `X-API-KEY`, as a
Solvimon client would.
"""

from __future__ import annotations

import datetime as dt
import threading

import httpx
import pytest

from contracts_app.models import Contract, Customer, Subscription
from packages_app.models import AliasName, Package, RateCard
from packages_app.services.aliases import alias_assign
from tests.builders.catalog import ensure_usd_cents
from tests.contracts_app.contract_builders import make_package
from tests.factories import user_with_token

UTC = dt.UTC
SCHEDULES = "/v1/pricing-plan-schedules"
SUBSCRIPTIONS = "/v1/pricing-plan-subscriptions"
WRITER_PERMISSIONS = (
    "contracts_app.pricing_plan_schedule_create",
    "contracts_app.add_subscription",
    "contracts_app.view_subscription",
)

MOVE_PREVIOUS_END = {"set_previous_end_at": "true"}  # query flags of a schedule create
MOVE_NEXT_START = {"set_next_start_at": "true"}


def at(year: int, month: int = 1, day: int = 1) -> dt.datetime:
    return dt.datetime(year, month, day, tzinfo=UTC)


def z(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_package_with_rate_card(name: str, **fields) -> Package:
    """The builder's package, termless, on a rate card of its own named after it."""
    ensure_usd_cents()
    rate_card = RateCard.objects.create(name=f"{name} rates")
    return make_package(name=name, rate_card=rate_card, **fields)


@pytest.fixture
def plan(transactional_db):
    """The plan "Starter": v1 from 2024-01-01, v2 from 2024-06-01 (alias re-pointed)."""
    v1 = make_package_with_rate_card("Starter v1")
    v2 = make_package_with_rate_card("Starter v2")
    alias_assign(kind="package", name="Starter", package=v1, starting_at=at(2024))
    alias_assign(kind="package", name="Starter", package=v2, starting_at=at(2024, 6))
    alias = AliasName.objects.get(kind="package", name="Starter")
    return {"alias": alias, "v1": v1, "v2": v2}


@pytest.fixture
def api_for(live_server, transactional_db):
    clients: list[httpx.Client] = []

    def make(*permissions: str) -> httpx.Client:
        _, token = user_with_token(*permissions)
        client = httpx.Client(base_url=live_server.url, headers={"X-API-KEY": token}, timeout=30)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def api(api_for) -> httpx.Client:
    return api_for(*WRITER_PERMISSIONS)


@pytest.fixture
def customer(transactional_db) -> Customer:
    return Customer.objects.create(name="Acme")


@pytest.fixture
def subscription(api, customer) -> dict:
    response = api.post(SUBSCRIPTIONS, json={"customer_id": str(customer.id)})
    assert response.status_code == 201, response.text
    return response.json()


def create_schedule(api: httpx.Client, subscription: dict, *, params=None, headers=None, **body):
    return api.post(
        SCHEDULES,
        params=params or {},
        headers=headers or {},
        json={"pricing_plan_subscription_id": subscription["id"], **body},
    )


def latest(plan) -> dict:
    return {"pricing_plan_reference": plan["alias"].name, "type": "LATEST"}


def on_latest(api: httpx.Client, subscription: dict, plan, start: dt.datetime, **fields):
    """Create a schedule starting at `start` on the plan's latest version."""
    return create_schedule(
        api, subscription, start_at=z(start), pricing_plan_version_selector=latest(plan), **fields
    )


def assert_solvimon_error(response: httpx.Response, status: int, field: str | None = None):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"type", "code", "message", "field"}
    assert body["message"]
    if field is not None:
        assert body["field"] == field, body
    return body


# --- subscriptions -------------------------------------------------------------------------------


def test_subscription_create_get_and_list_by_customer(api, customer):
    # when
    created = api.post(
        SUBSCRIPTIONS,
        json={"customer_id": str(customer.id), "reference": "acme-main"},
        headers={"x-platform-id": "platform-7"},
    )
    # then
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["object_type"] == "PRICING_PLAN_SUBSCRIPTION"
    assert body["customer_id"] == str(customer.id)
    assert body["reference"] == "acme-main"
    assert body["pricing_plan_schedules"] == []
    assert Subscription.objects.get(id=body["id"]).platform_id == "platform-7"

    fetched = api.get(f"{SUBSCRIPTIONS}/{body['id']}")
    assert fetched.status_code == 200
    assert fetched.json()["id"] == body["id"]

    other = Customer.objects.create(name="Other")
    api.post(SUBSCRIPTIONS, json={"customer_id": str(other.id)})
    listed = api.get(SUBSCRIPTIONS, params={"customer_id": str(customer.id)}).json()
    assert [s["id"] for s in listed["data"]] == [body["id"]]
    assert listed["next_page"] is None


def test_subscription_for_unknown_customer_is_404(api, transactional_db):
    response = api.post(SUBSCRIPTIONS, json={"customer_id": "8a4b6a4e-0000-4000-8000-000000000000"})
    assert_solvimon_error(response, 404, field="customer_id")
    assert not Subscription.objects.exists()


# --- version selection ---------------------------------------------------------------------------


def test_latest_selector_resolves_the_alias_as_of_start_at(api, customer, plan):
    # given two subscriptions, one starting before and one after the alias moved to v2
    early = api.post(SUBSCRIPTIONS, json={"customer_id": str(customer.id)}).json()
    late = api.post(SUBSCRIPTIONS, json={"customer_id": str(customer.id)}).json()
    # when
    first = on_latest(api, early, plan, at(2024, 2))
    second = on_latest(api, late, plan, at(2024, 7))
    # then
    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert first.json()["pricing_plan_version_id"] == str(plan["v1"].id)
    assert second.json()["pricing_plan_version_id"] == str(plan["v2"].id)
    assert first.json()["pricing_plan_id"] == str(plan["alias"].id)
    assert Contract.objects.get(id=second.json()["id"]).package_id == plan["v2"].id


def test_version_selector_picks_the_nth_package_ever_assigned(api, subscription, plan):
    response = create_schedule(
        api,
        subscription,
        start_at=z(at(2024, 7)),
        pricing_plan_version_selector={
            "pricing_plan_id": str(plan["alias"].id),
            "type": "VERSION",
            "version": 1,
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["pricing_plan_version_id"] == str(plan["v1"].id)
    assert response.json()["pricing_plan_version_selector"]["version"] == 1


def test_unknown_version_number_is_404_naming_the_field(api, subscription, plan):
    response = create_schedule(
        api,
        subscription,
        start_at=z(at(2024, 7)),
        pricing_plan_version_selector={**latest(plan), "type": "VERSION", "version": 3},
    )
    assert_solvimon_error(response, 404, field="pricing_plan_version_selector.version")
    assert not Contract.objects.exists()


def test_version_id_alone_reports_its_plan(api, subscription, plan):
    response = create_schedule(
        api, subscription, start_at=z(at(2024, 3)), pricing_plan_version_id=str(plan["v2"].id)
    )
    assert response.status_code == 201, response.text
    assert response.json()["pricing_plan_id"] == str(plan["alias"].id)
    assert response.json()["pricing_plan_version_id"] == str(plan["v2"].id)


def test_latest_before_the_plan_exists_is_400(api, subscription, plan):
    response = on_latest(api, subscription, plan, at(2023, 6))
    assert_solvimon_error(response, 400, field="pricing_plan_version_selector")


def test_package_duration_decides_the_end_when_end_at_is_absent(api, subscription):
    # given
    yearly = make_package_with_rate_card("Yearly", duration_unit="MONTHS", duration_value=12)
    alias_assign(kind="package", name="Yearly", package=yearly, starting_at=at(2024))
    # when
    response = create_schedule(
        api,
        subscription,
        start_at=z(at(2024, 1, 31)),
        pricing_plan_version_selector={"pricing_plan_reference": "Yearly"},
    )
    # then
    assert response.status_code == 201, response.text
    assert response.json()["end_at"] == "2025-01-31T00:00:00Z"


def test_end_at_sent_overrides_the_package_duration(api, subscription):
    yearly = make_package_with_rate_card("Yearly", duration_unit="MONTHS", duration_value=12)
    response = create_schedule(
        api,
        subscription,
        start_at=z(at(2024)),
        end_at=z(at(2024, 4)),
        pricing_plan_version_id=str(yearly.id),
    )
    assert response.status_code == 201, response.text
    assert response.json()["end_at"] == "2024-04-01T00:00:00Z"
    assert response.json()["pricing_plan_id"] is None


# --- chaining and overlaps -----------------------------------------------------------------------


def test_schedules_chain_in_one_subscription(api, subscription, plan):
    # given
    first = on_latest(api, subscription, plan, at(2024, 1), end_at=z(at(2024, 6)))
    assert first.status_code == 201, first.text
    # when: the next slice starts exactly where the first ends
    second = on_latest(api, subscription, plan, at(2024, 6))
    # then
    assert second.status_code == 201, second.text
    detail = api.get(f"{SUBSCRIPTIONS}/{subscription['id']}").json()
    timeline = [
        (s["start_at"], s["end_at"], s["pricing_plan_version_id"])
        for s in detail["pricing_plan_schedules"]
    ]
    assert timeline == [
        ("2024-01-01T00:00:00Z", "2024-06-01T00:00:00Z", str(plan["v1"].id)),
        ("2024-06-01T00:00:00Z", None, str(plan["v2"].id)),
    ]
    listed = api.get(SCHEDULES, params={"pricing_plan_subscription_id": subscription["id"]}).json()
    assert [s["id"] for s in listed["data"]] == [first.json()["id"], second.json()["id"]]


def test_overlap_without_a_flag_is_409_and_writes_nothing(api, subscription, plan):
    # given an open-ended schedule
    on_latest(api, subscription, plan, at(2024, 1))
    # when
    response = on_latest(api, subscription, plan, at(2024, 3))
    # then
    body = assert_solvimon_error(response, 409, field="start_at")
    assert body["type"] == "CONFLICT"
    assert response.headers["x-should-retry"] == "false"
    assert Contract.objects.count() == 1
    assert Contract.objects.get().ending_before is None


def test_set_previous_end_at_ends_the_previous_schedule(api, subscription, plan):
    # given
    first = on_latest(api, subscription, plan, at(2024, 1)).json()
    # when
    second = on_latest(api, subscription, plan, at(2024, 3), params=MOVE_PREVIOUS_END)
    # then
    assert second.status_code == 201, second.text
    assert api.get(f"{SCHEDULES}/{first['id']}").json()["end_at"] == "2024-03-01T00:00:00Z"
    assert second.json()["start_at"] == "2024-03-01T00:00:00Z"
    assert second.json()["end_at"] is None


def test_set_previous_end_at_still_refuses_overlapping_the_next_schedule(api, subscription, plan):
    on_latest(api, subscription, plan, at(2024, 1), end_at=z(at(2024, 3)))
    on_latest(api, subscription, plan, at(2024, 5))
    # an open-ended slice from April would run into the May schedule
    response = on_latest(api, subscription, plan, at(2024, 4), params=MOVE_PREVIOUS_END)
    assert_solvimon_error(response, 409)
    assert sorted(c.ending_before for c in Contract.objects.all() if c.ending_before) == [
        at(2024, 3)
    ]


def test_set_next_start_at_moves_the_next_not_yet_started_schedule(api, subscription, plan):
    # given a future schedule
    future = on_latest(api, subscription, plan, at(2099, 6), end_at=z(at(2100, 1))).json()
    # when a slice is inserted before it, ending inside it
    inserted = on_latest(
        api, subscription, plan, at(2099, 1), params=MOVE_NEXT_START, end_at=z(at(2099, 8))
    )
    # then
    assert inserted.status_code == 201, inserted.text
    moved = api.get(f"{SCHEDULES}/{future['id']}").json()
    assert moved["start_at"] == "2099-08-01T00:00:00Z"
    assert moved["end_at"] == "2100-01-01T00:00:00Z"


def test_set_next_start_at_refuses_to_move_a_started_schedule(api, subscription, plan):
    on_latest(api, subscription, plan, at(2024, 6))
    response = on_latest(
        api, subscription, plan, at(2024, 1), params=MOVE_NEXT_START, end_at=z(at(2024, 8))
    )
    assert_solvimon_error(response, 409, field="set_next_start_at")
    assert Contract.objects.get().starting_at == at(2024, 6)


def test_both_flags_is_400(api, subscription, plan):
    response = on_latest(
        api, subscription, plan, at(2024, 1), params={**MOVE_PREVIOUS_END, **MOVE_NEXT_START}
    )
    body = assert_solvimon_error(response, 400, field="set_next_start_at")
    assert body["type"] == "INVALID_REQUEST"
    assert not Contract.objects.exists()


def test_concurrent_overlapping_creates_admit_exactly_one(api, subscription, plan):
    # given many callers racing for the same slot
    results: list[int] = []
    barrier = threading.Barrier(4)

    def attempt():
        barrier.wait()
        response = on_latest(api, subscription, plan, at(2024, 2))
        results.append(response.status_code)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert sorted(results) == [201, 409, 409, 409]
    assert Contract.objects.filter(subscription_id=subscription["id"]).count() == 1


# --- extra fields, types, auth -------------------------------------------------------------------

EXTRAS = {
    "type": "TRIAL",
    "pricing_currency": "EUR",
    "billing_period": {"type": "MONTH", "value": 1},
    "entitlements": [
        {"feature_reference": "seats", "number": "25", "override": True},
        {"feature_reference": "sso", "switch": True},
        {"feature_reference": "credit", "amount": {"quantity": "100.50", "currency": "EUR"}},
    ],
    "discount": {
        "totals": [{"percentage": "10", "start_at": "2024-01-01T00:00:00Z", "end_at": None}],
        "products": [{"ids": ["prod_1"], "amount": {"quantity": "5", "currency": "EUR"}}],
    },
    "markup": {"pricing_item_configs": [{"ids": ["pic_1"], "percentage": "2.5"}]},
    "commitment": {
        "totals": [{"amount": {"quantity": "1000", "currency": "EUR"}}],
        "pricing_item_configs": [
            {"ids": ["pic_1"], "meter_value_calculation": {"number": "1000000"}}
        ],
    },
    "promotion_codes": ["SPRING24"],
    "coupon_ids": ["coupon_1"],
    "coupon_discount": {"totals": [{"percentage": "5"}]},
    "coupons": [{"id": "coupon_1", "coupon_name": "Spring"}],
    "seats_values": [
        {"pricing_item_config_id": "pic_seats", "number": "12", "set_start_at_to_now": False}
    ],
    "included_volumes": [
        {"pricing_item_config_id": "pic_api", "number": "10000", "reset_type": "BILLING_PERIOD"}
    ],
    "enabled_pricings": [{"pricing_id": "pricing_addon", "start_at": "2024-02-01T00:00:00Z"}],
    "override_pricings": [
        {
            "id": "pricing_x",
            "name": "Custom",
            "override": "ALL",
            "product_ids": ["prod_1"],
            "items": [{"configs": []}],
        }
    ],
    "pricing_categories": [
        {"product_category_id": "cat_1", "pricings": [{"name": "Ad hoc", "product_ids": []}]}
    ],
    "realign_invoice_date_to_pricing_plan_schedule_start_at": True,
}


def test_every_extra_field_sent_is_stored_and_echoed(api, subscription, plan):
    # when
    response = on_latest(
        api, subscription, plan, at(2024, 1), headers={"x-platform-id": "platform-7"}, **EXTRAS
    )
    # then
    assert response.status_code == 201, response.text
    body = response.json()
    for name, value in EXTRAS.items():
        assert body[name] == value, name
    assert set(body) == {
        *EXTRAS,
        "object_type",
        "id",
        "pricing_plan_subscription_id",
        "pricing_plan_id",
        "pricing_plan_version_id",
        "pricing_plan_version_selector",
        "start_at",
        "end_at",
        "created_at",
    }
    assert body["object_type"] == "PRICING_PLAN_SCHEDULE"
    assert api.get(f"{SCHEDULES}/{body['id']}").json() == body
    stored = Contract.objects.get(id=body["id"]).settings["pricing_plan_schedule"]
    assert stored["platform_id"] == "platform-7"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"entitlements": [{"switch": "yes"}]}, "entitlements[0].switch"),
        (
            {"entitlements": [{"amount": {"quantity": 5, "currency": "EUR"}}]},
            "entitlements[0].amount.quantity",
        ),
        ({"discount": {"totals": [{"percentage": "ten"}]}}, "discount.totals[0].percentage"),
        ({"billing_period": {"type": "FORTNIGHT"}}, "billing_period.type"),
        ({"promotion_codes": "SPRING24"}, "promotion_codes"),
        ({"seats_values": [{"number": "3"}]}, "seats_values[0].pricing_item_config_id"),
        ({"pricing_currency": "EURO"}, "pricing_currency"),
        (
            {"realign_invoice_date_to_pricing_plan_schedule_start_at": "true"},
            "realign_invoice_date_to_pricing_plan_schedule_start_at",
        ),
        ({"override_pricings": [{"display_order": "1"}]}, "override_pricings[0].display_order"),
        ({"surprise": 1}, "surprise"),
        ({"type": "PAID"}, "type"),
        ({"end_at": "2023-01-01T00:00:00Z"}, "end_at"),
    ],
)
def test_wrong_types_are_400_naming_the_field(api, subscription, plan, extra, field):
    response = on_latest(api, subscription, plan, at(2024, 1), **extra)
    assert_solvimon_error(response, 400, field=field)
    assert not Contract.objects.exists()


def test_missing_required_fields_are_400(api, transactional_db):
    response = api.post(SCHEDULES, json={})
    body = assert_solvimon_error(response, 400)
    assert body["field"] in {"pricing_plan_subscription_id", "start_at"}


def test_unknown_subscription_is_404(api, plan):
    response = api.post(
        SCHEDULES,
        json={
            "pricing_plan_subscription_id": "8a4b6a4e-0000-4000-8000-000000000000",
            "start_at": z(at(2024)),
            "pricing_plan_version_selector": latest(plan),
        },
    )
    assert_solvimon_error(response, 404, field="pricing_plan_subscription_id")


def test_create_without_the_permission_is_403_in_solvimon_shape(api_for, subscription, plan):
    reader = api_for("contracts_app.view_subscription")
    response = on_latest(reader, subscription, plan, at(2024))
    body = assert_solvimon_error(response, 403)
    assert body["type"] == "FORBIDDEN"
    assert not Contract.objects.exists()
    assert reader.get(f"{SUBSCRIPTIONS}/{subscription['id']}").status_code == 200


def test_without_a_key_is_401(live_server, transactional_db):
    response = httpx.post(live_server.url + SCHEDULES, json={})
    assert_solvimon_error(response, 401)


def test_bearer_token_works_too(live_server, subscription, plan):
    _, token = user_with_token(*WRITER_PERMISSIONS)
    response = httpx.post(
        live_server.url + SCHEDULES,
        headers={"Authorization": f"Bearer {token}"},
        json={
            "pricing_plan_subscription_id": subscription["id"],
            "start_at": z(at(2024)),
            "pricing_plan_version_selector": latest(plan),
        },
    )
    assert response.status_code == 201, response.text


def test_other_api_versions_are_404(api, subscription, plan):
    response = api.post(
        "/v2/pricing-plan-schedules",
        json={"pricing_plan_subscription_id": subscription["id"], "start_at": z(at(2024))},
    )
    assert_solvimon_error(response, 404, field="version")


# --- migrate ---------------------------------------------------------------------------------------


def test_migrate_ends_the_schedule_and_starts_the_new_version_there(api, subscription, plan):
    # given a v1 schedule with per-customer terms
    original = on_latest(
        api,
        subscription,
        plan,
        at(2024, 1),
        end_at=z(at(2025, 1)),
        entitlements=[{"feature_reference": "seats", "number": "10"}],
    ).json()
    # when
    migrated = api.post(
        f"{SCHEDULES}/{original['id']}/migrate",
        json={
            "start_at": z(at(2024, 7)),
            "pricing_plan_version_selector": {**latest(plan), "type": "VERSION", "version": 2},
        },
    )
    # then
    assert migrated.status_code == 201, migrated.text
    new = migrated.json()
    assert new["pricing_plan_version_id"] == str(plan["v2"].id)
    assert (new["start_at"], new["end_at"]) == ("2024-07-01T00:00:00Z", "2025-01-01T00:00:00Z")
    assert new["entitlements"] == [{"feature_reference": "seats", "number": "10"}]
    assert new["pricing_plan_subscription_id"] == subscription["id"]
    assert api.get(f"{SCHEDULES}/{original['id']}").json()["end_at"] == "2024-07-01T00:00:00Z"


def test_migrate_outside_the_schedule_is_400_and_changes_nothing(api, subscription, plan):
    original = on_latest(api, subscription, plan, at(2024, 1), end_at=z(at(2024, 6))).json()
    response = api.post(
        f"{SCHEDULES}/{original['id']}/migrate",
        json={"start_at": z(at(2024, 8)), "pricing_plan_version_id": str(plan["v2"].id)},
    )
    assert_solvimon_error(response, 400, field="start_at")
    assert Contract.objects.count() == 1
    assert Contract.objects.get().ending_before == at(2024, 6)


def test_migrate_unknown_schedule_is_404(api, plan, transactional_db):
    response = api.post(
        f"{SCHEDULES}/not-a-schedule/migrate",
        json={"start_at": z(at(2024, 8)), "pricing_plan_version_id": str(plan["v2"].id)},
    )
    assert_solvimon_error(response, 404, field="id")
