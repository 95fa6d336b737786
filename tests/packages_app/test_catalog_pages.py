"""Catalog pages without a browser: the package list (version lineage through each alias,
v1 → v2 …, the aliases pointing at each package with their state, the contracts running on it
now, in a fixed number of queries); unknown ids and missing permissions on the new writes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from contracts_app.services.provisioning import contract_provision
from packages_app.services.products import product_create
from tests.builders.pages import package, point_alias, rate_card
from tests.contracts_app.contract_builders import make_customer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _rows(html: str) -> list[str]:
    body = html.split('data-testid="package-list"')[1].split("</tbody>")[0]
    return body.split("<tr>")[2:]


def test_the_list_shows_lineage_aliases_and_cohort_in_fixed_queries(
    pricing_client, django_assert_max_num_queries
):
    now = timezone.now().replace(microsecond=0)
    card = rate_card()
    v1, v2 = package("Growth v1", card), package("Growth v2", card)
    point_alias("Growth", v1, now - dt.timedelta(days=100))
    point_alias("Growth", v2, now + dt.timedelta(days=30))
    for i in range(3):
        contract_provision(
            customer=make_customer(f"C{i}"), starting_at=now - dt.timedelta(days=10), package=v1
        )
    for i in range(20):  # more packages, each with its own alias: the query count stays
        point_alias(f"Other {i}", package(f"Other {i}", card), now - dt.timedelta(days=1))

    # session, user, count, page, alias intervals, cohort counts
    with django_assert_max_num_queries(6):
        html = pricing_client.get("/packages/").content.decode()

    rows = {row.split("</a>")[0].rsplit(">", 1)[1]: row for row in _rows(html)}
    growth1, growth2 = rows["Growth v1"], rows["Growth v2"]
    assert 'data-col="running"><a' in growth1 and ">3</a>" in growth1.split('data-col="running"')[1]
    assert ">0</a>" in growth2.split('data-col="running"')[1]
    assert "Growth: <strong" in growth1 and ">v1</strong> → <a" in growth1
    assert ">v2</strong>" in growth2
    assert f"scheduled from {(now + dt.timedelta(days=30)):%Y-%m-%d}" in growth2
    assert f"ended {(now + dt.timedelta(days=30)):%Y-%m-%d}" not in growth1  # not yet
    assert "in force" in growth1


@pytest.mark.parametrize(
    "path",
    [
        "/products/{id}/archive/",
        "/billable-metrics/{id}/archive/",
        "/rate-cards/{id}/rates/{id}/change/",
    ],
)
def test_catalog_writes_on_unknown_ids_are_404_not_500(pricing_client, path):
    response = pricing_client.post(path.format(id="00000000-0000-0000-0000-000000000001"))
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/products/{id}/", "/products/{id}/archive/", "/billable-metrics/{id}/archive/"],
)
def test_catalog_pages_need_the_permission(client, path):
    product = product_create(name="Seats", type="SUBSCRIPTION")
    client.force_login(UserFactory(username="nobody"))
    response = client.post(path.format(id=product.pk))
    assert response.status_code == 403
