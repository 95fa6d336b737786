"""The money of a cohort migration's preview (`POST /v1/packages/migrations/preview`): each
sampled customer's 12 months before and after the move, the cohort's totals (exact when the
sample is the whole cohort, scaled from the sample otherwise) and how many customers each line
of the package diff touches. Amounts in USD cents, computed by hand in the docstrings."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from contracts_app.models import CohortMigration, Contract
from contracts_app.services.contracts import contract_archive
from contracts_app.services.provisioning import contract_provision
from tests.builders.pricing import USD, fee_upgrade
from tests.contracts_app.contract_builders import make_customer
from tests.factories import user_with_token

pytestmark = pytest.mark.django_db

AT = "2030-02-10T00:00:00Z"
START = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
PREVIEW_API_QUERIES = 15


@pytest.fixture
def token():
    return user_with_token("contracts_app.view_cohortmigration")[1]


@pytest.fixture
def plans():
    """Source: a 1000 monthly fee billed in advance, 12 months. Target: a 1500 monthly fee
    billed in advance and a 25000 onboarding charge on its first day, 12 months. Both on one
    rate card (fee 1000, "Pro fee" 1500)."""
    _card, source, target = fee_upgrade()
    return source, target


def on(source, n):
    return [
        contract_provision(
            customer=make_customer(f"Customer {i:02}"), starting_at=START, package=source
        )
        for i in range(n)
    ]


def preview(client, token, source, target):
    response = client.post(
        "/v1/packages/migrations/preview",
        json.dumps(
            {
                "source": {"package_id": str(source.id)},
                "target": {"package_id": str(target.id)},
                "effective": {"type": "AT", "at": AT},
            }
        ),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content
    return response.json()["data"]


def test_each_customer_and_the_cohort_before_and_after_by_hand(
    client, token, plans, django_assert_max_num_queries
):
    """Three customers on the source from 2030-01-01 (to 2031-01-01), moved at 2030-02-10;
    the window is the 12 months from the move, 2030-02-10 .. 2031-02-10.

    Before (the old contract running on, to its end 2031-01-01): the fee is billed in
    advance on the 1st, so Mar 1 .. Dec 1 fall in the window: 10 x 1000 = 10000 (Feb 1 is
    before the move, Jan 1 2031 after the contract's end).
    After (a new contract from 2030-02-10, its periods anchored there): Feb 10 .. Jan 10 2031,
    12 x 1500 = 18000, plus onboarding 1 x 25000 on Feb 10: 43000. Delta 33000 each.
    Cohort (all three priced, method ALL): 30000 before, 129000 after, delta 99000."""
    source, target = plans
    on(source, 3)
    # The preview's 11 (see test_cohort_migration_edits) and the token's: the three contracts
    # share one window, so each side is priced once.
    with django_assert_max_num_queries(PREVIEW_API_QUERIES):
        data = preview(client, token, source, target)
    for row in data["sample"]:
        assert row["money"] == {
            "months": 12,
            "before": {USD: 10000},
            "after": {USD: 43000},
            "delta": {USD: 33000},
        }
    money = data["money"]
    assert (money["method"], money["sample_size"], money["population"]) == ("ALL", 3, 3)
    assert (money["before"], money["after"], money["delta"]) == (
        {USD: 30000},
        {USD: 129000},
        {USD: 99000},
    )
    assert money["credit_types"] == {USD: "USD (cents)"}
    assert money["usage_included"] is False
    lines = [
        *data["diff"]["terms_added"],
        *data["diff"]["terms_removed"],
        *data["diff"]["terms_changed"],
    ]
    assert lines and all(line["customers"] == 3 for line in lines)
    assert not CohortMigration.objects.exists() and Contract.objects.count() == 3


def test_a_cohort_larger_than_the_sample_is_scaled_from_it(
    client, token, plans, django_assert_max_num_queries
):
    """23 customers, the sample prices 20 (PREVIEW_SAMPLE): before 20 x 10000 = 200000,
    x 23 / 20 = 230000; after 20 x 43000 = 860000, x 23 / 20 = 989000; delta 759000. The
    answer says it is an estimate from 20 of 23."""
    source, target = plans
    on(source, 23)
    with django_assert_max_num_queries(PREVIEW_API_QUERIES):  # as for 3: one window
        money = preview(client, token, source, target)["money"]
    assert (money["method"], money["sample_size"], money["population"]) == ("SAMPLE", 20, 23)
    assert Decimal(str(money["before"][USD])) == Decimal(230000)
    assert Decimal(str(money["after"][USD])) == Decimal(989000)
    assert Decimal(str(money["delta"][USD])) == Decimal(759000)


def test_skipped_customers_have_no_money_and_an_empty_cohort_has_none(client, token, plans):
    source, target = plans
    data = preview(client, token, source, target)
    assert data["sample"] == []
    assert data["money"]["before"] == {} and data["money"]["sample_size"] == 0
    contract = on(source, 1)[0]
    contract_archive(contract=contract)
    data = preview(client, token, source, target)
    assert [row["money"] for row in data["sample"]] == [None]


def test_the_money_is_documented_in_openapi(client, token):
    schema = client.get("/openapi.json", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    components = schema["components"]["schemas"]
    money = components["PreviewMoneyOutput"]["properties"]
    assert {"method", "sample_size", "population", "before", "after", "delta"} <= set(money)
    assert money["method"]["enum"] == ["ALL", "SAMPLE"] or "$ref" in str(money["method"])
    assert "money" in components["PreviewSampleOutput"]["properties"]
    assert "customers" in components["PreviewOutput"]["properties"]["diff"]["description"]
