"""Pricing-plan schedules with real package terms: re-materialisation, atomicity, query counts."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from contracts_app.models import Contract, ContractTerm, Subscription
from packages_app.models import AliasName
from packages_app.services.aliases import alias_assign
from tests.contracts_app import contract_builders as build
from tests.contracts_app.contract_builders import credit_term, eight_terms, offset
from tests.factories import user_with_token

pytestmark = pytest.mark.django_db
UTC = dt.UTC
SCHEDULES = "/v1/pricing-plan-schedules"


def at(y, m, d=1) -> dt.datetime:
    return dt.datetime(y, m, d, tzinfo=UTC)


def z(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def token() -> str:
    return user_with_token(
        "contracts_app.pricing_plan_schedule_create", "contracts_app.view_subscription"
    )[1]


def post(client, url: str, token: str, body: dict, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.post(
        f"{url}?{query}" if query else url,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_X_API_KEY=token,
    )


@pytest.fixture
def create_schedule(client, token):
    def create(subscription, start: dt.datetime, *, flags=None, **fields):
        """POST a schedule of the subscription starting at `start`; `flags`: its query flags."""
        body = {
            "pricing_plan_subscription_id": str(subscription.id),
            "start_at": z(start),
            **fields,
        }
        return post(client, SCHEDULES, token, body, **(flags or {}))

    return create


def test_moving_the_next_start_rematerialises_its_terms_from_the_new_start(create_schedule):
    # given a future schedule whose package grants a 3-month credit from its start
    package = build.make_package(
        terms=[credit_term(build.make_product(), duration=offset("MONTHS", 3))]
    )
    subscription = Subscription.objects.create(customer=build.make_customer())
    future = create_schedule(subscription, at(2099, 5), pricing_plan_version_id=str(package.id))
    assert future.status_code == 201, future.content
    # when a slice ending on Jan 31 is inserted before it
    inserted = create_schedule(
        subscription,
        at(2099, 1),
        flags={"set_next_start_at": "true"},
        end_at=z(at(2099, 1, 31)),
        pricing_plan_version_id=str(package.id),
    )
    # then the credit runs Jan 31 + 3 months = Apr 30 (calendar arithmetic from the new start)
    assert inserted.status_code == 201, inserted.content
    moved = Contract.objects.get(id=future.json()["id"])
    assert moved.starting_at == at(2099, 1, 31)
    term = ContractTerm.objects.get(contract=moved)
    assert (term.starting_at, term.ending_before) == (at(2099, 1, 31), at(2099, 4, 30))
    item = term.body["access_schedule"]["schedule_items"][0]
    assert (item["starting_at"], item["ending_before"]) == (
        "2099-01-31T00:00:00Z",
        "2099-04-30T00:00:00Z",
    )


def test_failed_migration_leaves_the_original_schedule_untouched(client, token, create_schedule):
    # given a schedule and an archived target version
    subscription = Subscription.objects.create(customer=build.make_customer())
    v1, archived = (
        build.make_package(name="v1"),
        build.make_package(name="v2", archived_at=timezone.now()),
    )
    original = create_schedule(subscription, at(2024, 1), pricing_plan_version_id=str(v1.id)).json()
    # when
    response = post(
        client,
        f"{SCHEDULES}/{original['id']}/migrate",
        token,
        {"start_at": z(at(2024, 6)), "pricing_plan_version_id": str(archived.id)},
    )
    # then nothing was written: the original is still open-ended
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "INVALID_REQUEST"
    assert Contract.objects.get(id=original["id"]).ending_before is None
    assert Contract.objects.count() == 1


def test_create_uses_a_fixed_number_of_queries(create_schedule, django_assert_max_num_queries):
    # given a plan whose version has eight terms, and a previous schedule to end
    package = build.make_package(
        terms=eight_terms(build.make_product()),
        rate_card=build.make_rate_card(),
        duration_unit="MONTHS",
        duration_value=12,
    )
    alias_assign(kind=AliasName.Kind.PACKAGE, name="Pro", package=package, starting_at=at(2024, 1))
    subscription = Subscription.objects.create(customer=build.make_customer())
    selector = {"pricing_plan_reference": "Pro", "type": "LATEST"}
    first = create_schedule(subscription, at(2024, 1), pricing_plan_version_selector=selector)
    assert first.status_code == 201, first.content
    # when / then: auth (3), lock the subscription, plan, LATEST, timeline, end the previous,
    # rate card, package terms, contract insert, one bulk insert of terms: 13 queries, plus
    # 7 savepoint statements (nested atomic blocks), and two webhook events (the previous
    # contract's new end, the new contract), whatever the number of terms
    with django_assert_max_num_queries(22):
        second = create_schedule(
            subscription,
            at(2024, 6),
            flags={"set_previous_end_at": "true"},
            pricing_plan_version_selector=selector,
            entitlements=[{"feature_reference": "seats", "number": "5"}],
        )
    assert second.status_code == 201, second.content
    assert Contract.objects.get(id=first.json()["id"]).ending_before == at(2024, 6)


def test_list_uses_a_fixed_number_of_queries(client, token, django_assert_max_num_queries):
    # given many schedules over many subscriptions
    package = build.make_package()
    customer = build.make_customer()
    for year in range(2030, 2045):
        subscription = Subscription.objects.create(customer=customer)
        Contract.objects.create(
            customer=customer,
            subscription=subscription,
            package=package,
            starting_at=at(year, 1),
            settings={"pricing_plan_schedule": {"type": "DEFAULT", "pricing_plan_id": None}},
        )
    # when / then: auth (3) + one page query, whatever the number of rows
    with django_assert_max_num_queries(4):
        response = client.get(f"{SCHEDULES}?limit=100", HTTP_X_API_KEY=token)
    assert response.status_code == 200
    assert len(response.json()["data"]) == 15
    with django_assert_max_num_queries(5):
        response = client.get("/v1/pricing-plan-subscriptions?limit=100", HTTP_X_API_KEY=token)
    assert len(response.json()["data"]) == 15
