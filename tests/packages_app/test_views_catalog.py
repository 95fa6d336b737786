"""Building a catalog from zero in the browser: billable metrics, products, a rate card, its
rates (through the API's serializers and services, errors on the inputs) and its alias."""

import re

import pytest
from django.contrib.auth.models import Permission

from packages_app.models import AliasAssignment, BillableMetric, Product, Rate, RateCard
from tests.contracts_app.contract_builders import ensure_usd_cents, make_product
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pricing_client(client):
    ensure_usd_cents()
    client.force_login(UserFactory(username="pricing", is_superuser=True))
    return client


def test_catalog_from_zero(pricing_client):
    pricing_client.post(
        "/billable-metrics/",
        {
            "name": "Tokens",
            "aggregation_type": "SUM",
            "aggregation_key": "tokens",
            "event_type": "llm",
        },
    )
    metric = BillableMetric.objects.get()
    pricing_client.post(
        "/products/",
        {
            "name": "Input tokens",
            "type": "USAGE",
            "billable_metric": str(metric.id),
            "tags": "ai, tokens",
        },
    )
    product = Product.objects.get()
    assert product.billable_metric_id == metric.id
    response = pricing_client.post("/rate-cards/new/", {"name": "Standard", "alias": "Default"})
    card = RateCard.objects.get()
    assert response["Location"] == f"/rate-cards/{card.id}/"
    assert AliasAssignment.objects.get().rate_card_id == card.id
    response = pricing_client.post(
        f"/rate-cards/{card.id}/rates/",
        {
            "product": str(product.id),
            "rate_type": "TIERED",
            "tiers": "1000:3, :2",
            "starting_at": "2027-01-01",
            "entitled": "on",
        },
    )
    rate = Rate.objects.get()
    assert response["Location"].startswith(f"/rate-cards/{card.id}/?at=2027-01-01")
    assert rate.details["tiers"] == [{"price": 3, "size": 1000}, {"price": 2}]


def test_rate_errors_from_the_service_land_on_their_inputs(pricing_client):
    card = RateCard.objects.create(name="Standard")
    product = make_product("Seat", "SUBSCRIPTION")
    html = pricing_client.post(
        f"/rate-cards/{card.id}/rates/",
        {
            "product": str(product.id),
            "rate_type": "FLAT",
            "price": "5",
            "quantity": "2",
            "starting_at": "2027-01-01",
        },
    ).content.decode()
    assert Rate.objects.count() == 0
    assert re.search(r'id="id_quantity"[^>]*>\s*<span class="error"[^>]*>[^<]*SUBSCRIPTION', html)


def test_product_and_metric_lists_paginate_search_and_keep_queries_fixed(
    pricing_client, django_assert_max_num_queries
):
    Product.objects.bulk_create([Product(name=f"P{i:03d}", type="FIXED") for i in range(60)])
    with django_assert_max_num_queries(6):
        html = pricing_client.get("/products/?page=2").content.decode()
    assert "Page 2 of 2" in html and "P059" in html
    partial = pricing_client.get(
        "/products/?q=P00", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="catalog-table"
    ).content.decode()
    assert partial.lstrip().startswith('<div id="catalog-table">') and "P010" not in partial
    assert "None yet" in pricing_client.get("/billable-metrics/").content.decode()


def test_viewers_see_no_create_form_and_cannot_post(client):
    user = UserFactory(username="viewer")
    user.user_permissions.add(Permission.objects.get(codename="view_product"))
    client.force_login(user)
    assert '<form class="panel"' not in client.get("/products/").content.decode()
    assert client.post("/products/", {"name": "x", "type": "FIXED"}).status_code == 403
    assert Product.objects.count() == 0
    assert client.get("/rate-cards/new/").status_code == 403
