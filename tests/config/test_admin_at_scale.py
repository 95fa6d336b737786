"""Admin at scale: estimated counts, human names, plain prices, readable term bodies (issue 9)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.admin import EstimatedCountPaginator
from contracts_app.models import Contract, ContractTerm
from contracts_app.services.provisioning import contract_provision
from packages_app.models import AliasAssignment, AliasName, Rate
from packages_app.services.aliases import alias_assign
from tests.contracts_app import contract_builders as build
from tests.contracts_app.contract_builders import commit_term

pytestmark = pytest.mark.django_db
JAN = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def _unbounded_count(sql: str) -> bool:
    """A COUNT(*) that reads every matching row (the capped count carries a LIMIT)."""
    return "COUNT(*)" in sql and "LIMIT" not in sql


def _provisioned(count: int) -> list[Contract]:
    package = build.make_package(terms=[commit_term(build.make_product())])
    return [
        contract_provision(
            customer=build.make_customer(name=f"C{n}"), package=package, starting_at=JAN
        )
        for n in range(count)
    ]


@pytest.mark.parametrize(
    "changelist",
    [
        "admin:contracts_app_contract_changelist",
        "admin:contracts_app_customer_changelist",
        "admin:contracts_app_subscription_changelist",
        "admin:packages_app_package_changelist",
    ],
)
def test_big_changelists_never_count_the_whole_table(admin_client, changelist):
    _provisioned(3)
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(reverse(changelist))
        filtered = admin_client.get(reverse(changelist), {"q": "C1"})
    assert response.status_code == 200 and filtered.status_code == 200
    unbounded = [q["sql"] for q in queries.captured_queries if _unbounded_count(q["sql"])]
    assert unbounded == []


@pytest.mark.parametrize("filtered", [False, True])
def test_past_the_cap_the_count_is_postgresqls_estimate(monkeypatch, filtered):
    _provisioned(5)
    monkeypatch.setattr(EstimatedCountPaginator, "COUNT_CAP", 2)
    queryset = Contract.objects.order_by("id")
    if filtered:
        queryset = queryset.filter(name__startswith="Starter")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contracts_app_contract")

    paginator = EstimatedCountPaginator(queryset, 2)

    # the estimate of 5 rows (reltuples, or the planner's rows for the filter), never
    # less than what was counted up to the cap
    assert 3 <= paginator.count <= 50
    assert paginator.page(1).object_list


def test_rows_have_human_names():
    card = build.make_rate_card()
    rate = Rate.objects.create(
        rate_card=card,
        product=build.make_product(),
        starting_at=JAN,
        rate_type="FLAT",
        price=Decimal("12.50000000000000000000"),
    )
    alias_assign(kind=AliasName.Kind.RATE_CARD, name="standard", rate_card=card, starting_at=JAN)
    assignment = AliasAssignment.objects.select_related("alias_name").get(rate_card=card)
    (contract,) = _provisioned(1)
    term = ContractTerm.objects.filter(contract=contract).first()

    assert str(rate) == "FLAT 12.5 from 2025-01-01T00:00Z"
    assert str(assignment) == "alias interval 'standard' 2025-01-01T00:00Z to open end"
    assert str(term).startswith("Commit #0 (2025-01-01T00:00Z to ")
    assert "object (" not in str(rate) + str(assignment) + str(term)


def test_rate_card_page_shows_prices_as_entered(admin_client):
    card = build.make_rate_card()
    Rate.objects.create(
        rate_card=card,
        product=build.make_product(),
        starting_at=JAN,
        rate_type="FLAT",
        price=Decimal("12.5"),
        details={"tiers": [{"price": Decimal("1.25"), "size": 100}]},
    )
    content = admin_client.get(
        reverse("admin:packages_app_ratecard_change", args=[card.pk])
    ).content.decode()
    assert 'name="rates-0-price" value="12.5"' in content
    assert "12.50000" not in content
    assert '<pre class="json-body compact">' in content and "&quot;price&quot;: 1.25" in content


def test_term_bodies_are_pretty_printed(admin_client):
    (contract,) = _provisioned(1)
    content = admin_client.get(
        reverse("admin:contracts_app_contract_change", args=[contract.pk])
    ).content.decode()
    assert '<pre class="json-body">{\n  &quot;access_schedule&quot;: {' in content
