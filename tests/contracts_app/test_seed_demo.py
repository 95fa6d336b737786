"""`manage.py seed_demo`: the seed-002 world, idempotent, through the real services."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from contracts_app.management.commands.seed_demo import PLAN_ALIAS, V1_FROM, V1_KEY, V2_FROM, V2_KEY
from contracts_app.models import (
    BillingProviderConfiguration,
    Contract,
    ContractTerm,
    Customer,
    Subscription,
)
from packages_app.models import (
    AliasAssignment,
    BillableMetric,
    Package,
    PackageTerm,
    Product,
    Rate,
    RateCard,
)
from packages_app.selectors.aliases import package_for_alias

pytestmark = pytest.mark.django_db

COUNTED = (
    BillableMetric,
    Product,
    RateCard,
    Rate,
    Package,
    PackageTerm,
    AliasAssignment,
    Customer,
    BillingProviderConfiguration,
    Subscription,
    Contract,
    ContractTerm,
)


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def _seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seeding_twice_adds_nothing():
    # given
    _seed()
    first = _counts()

    # when
    output = _seed()

    # then
    assert _counts() == first
    assert "0 contracts provisioned" in output
    assert first["Customer"] == first["Contract"] == 300
    assert first["Package"] == 2 and first["RateCard"] == 1


def test_if_empty_seeds_an_empty_database_and_then_leaves_it_alone():
    _seed("--if-empty", "--customers", "12")
    seeded = _counts()
    assert seeded["Contract"] == 12

    output = _seed("--if-empty", "--customers", "40")

    assert "nothing to do" in output
    assert _counts() == seeded


def test_a_run_cut_short_is_finished_by_the_next_one():
    # given: a smaller earlier run, as if it had stopped after 10 customers
    _seed("--customers", "10")

    # when
    _seed("--customers", "30")

    # then
    assert Customer.objects.count() == Contract.objects.count() == 30
    assert Package.objects.count() == 2


def test_the_world_matches_seed_002():
    # when
    _seed("--customers", "60")

    # then: the catalog
    v1 = Package.objects.get(uniqueness_key=V1_KEY)
    v2 = Package.objects.get(uniqueness_key=V2_KEY)
    assert {p.name for p in Product.objects.filter(type="USAGE")} == {
        "Input tokens",
        "Output tokens",
    }
    assert all(p.billable_metric_id for p in Product.objects.filter(type="USAGE"))
    assert v1.rate_card.name == "Standard" and v2.rate_card_id == v1.rate_card_id
    assert {rate.rate_type for rate in v1.rate_card.rates.all()} == {"FLAT", "SUBSCRIPTION"}
    credit = v1.terms.get(kind="recurring_credit").body
    assert credit["access_amount"]["unit_price"] == 1000  # $10 in cents
    assert credit["duration"] == {"unit": "MONTHS", "value": 3}
    assert set(credit["applicable_product_ids"]) == {
        str(p.id) for p in Product.objects.filter(type="USAGE")
    }
    fee = v1.terms.get(kind="subscription").body
    assert fee["subscription_rate"]["billing_frequency"] == "MONTHLY"

    # then: contracts on each package, alias resolution switching at V2_FROM
    assert Contract.objects.filter(package=v1).count() > 0
    assert Contract.objects.filter(package=v2).count() > 0
    assert package_for_alias(name=PLAN_ALIAS, at=V1_FROM) == v1
    assert package_for_alias(name=PLAN_ALIAS, at=V2_FROM - dt.timedelta(seconds=1)) == v1
    assert package_for_alias(name=PLAN_ALIAS, at=V2_FROM) == v2
    for contract in Contract.objects.select_related("package"):
        expected = v1 if contract.starting_at < V2_FROM else v2
        assert contract.package == expected, contract.starting_at
    # the v1 sign-up credit is three monthly grants, materialised from the contract start
    contract = Contract.objects.filter(package=v1).order_by("starting_at").first()
    grants = contract.terms.filter(generated_from__isnull=False).order_by("starting_at")
    assert [g.starting_at for g in grants][:1] == [contract.starting_at]
    assert grants.count() == 3


def test_customers_are_provisioned_by_id_and_by_alias_with_billing_configurations():
    _seed("--customers", "30")

    assert Customer.objects.filter(external_id__startswith="demo-customer-").count() == 30
    assert BillingProviderConfiguration.objects.filter(billing_provider="stripe").count() == 30
    starts = sorted(Contract.objects.values_list("starting_at", flat=True))
    assert starts[0] < V2_FROM <= starts[-1]
