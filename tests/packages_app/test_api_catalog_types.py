"""Catalog endpoints take JSON types as the SDK declares them: a wrong type is a 400 naming the
field, never coerced (DRF's defaults would read 5 as "5", "yes" as true, "1" as 1)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from config.core.jsonutil import dumps
from packages_app.models import BillableMetric, CreditType, Product, Rate, RateCard
from tests.builders.catalog import ensure_usd_cents
from tests.factories import user_with_token

pytestmark = pytest.mark.django_db
PRICING = "/v1/contract-pricing"
JAN = "2025-01-01T00:00:00Z"


@pytest.fixture
def api(client):
    _, token = user_with_token(superuser=True)

    def call(method: str, url: str, body):
        response = getattr(client, method)(
            url,
            data=dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        return response.status_code, json.loads(response.content, parse_float=Decimal)

    return call


@pytest.fixture
def catalog():
    ensure_usd_cents()
    metric = BillableMetric.objects.create(name="calls", aggregation_type="COUNT")
    return {
        "card": RateCard.objects.create(name="card"),
        "product": Product.objects.create(name="fixed", type="FIXED"),
        "usage": Product.objects.create(name="usage", type="USAGE", billable_metric=metric),
    }


def assert_400(answer: tuple[int, dict], field: str) -> None:
    status, body = answer
    assert status == 400, body
    assert body["field"] == field, body
    assert body["message"]


METRIC_CASES = [
    ({"name": 5}, "name"),
    ({"aggregation_type": 1}, "aggregation_type"),
    ({"aggregation_key": 7, "aggregation_type": "SUM"}, "aggregation_key"),
    ({"property_filters": [{"name": "a", "exists": "yes"}]}, "property_filters[0].exists"),
    ({"property_filters": [{"name": 3}]}, "property_filters[0].name"),
    ({"event_type_filter": {"in_values": [1]}}, "event_type_filter.in_values[0]"),
    ({"custom_fields": {"team": 1}}, "custom_fields.team"),
    ({"sql": True}, "sql"),
]


@pytest.mark.parametrize(("fields", "field"), METRIC_CASES)
def test_billable_metric_create_refuses_wrong_types(api, fields, field):
    body = {"name": "m", "aggregation_type": "COUNT", **fields}
    assert_400(api("post", "/v1/billable-metrics/create", body), field)
    assert not BillableMetric.objects.exists()


def test_billable_metric_rename_and_archive_refuse_wrong_types(api):
    metric = BillableMetric.objects.create(name="m", aggregation_type="COUNT")
    assert_400(api("put", f"/v1/billable-metrics/{metric.id}", {"name": 5}), "name")
    assert_400(api("post", "/v1/billable-metrics/archive", {"id": 5}), "id")
    metric.refresh_from_db()
    assert (metric.name, metric.archived_at) == ("m", None)


PRODUCT_CASES = [
    ({"name": 5}, "name"),
    ({"type": 1}, "type"),
    ({"is_refundable": "yes"}, "is_refundable"),
    ({"tags": [1]}, "tags[0]"),
    ({"custom_fields": {"k": False}}, "custom_fields.k"),
    ({"netsuite_internal_item_id": 12}, "netsuite_internal_item_id"),
]


@pytest.mark.parametrize(("fields", "field"), PRODUCT_CASES)
def test_product_create_refuses_wrong_types(api, fields, field):
    body = {"name": "p", "type": "FIXED", **fields}
    assert_400(api("post", f"{PRICING}/products/create", body), field)
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"quantity_conversion": {"conversion_factor": "2", "operation": "MULTIPLY"}},
         "quantity_conversion.conversion_factor"),
        ({"quantity_rounding": {"decimal_places": "2", "rounding_method": "ROUND_UP"}},
         "quantity_rounding.decimal_places"),
        ({"billable_metric_id": 5}, "billable_metric_id"),
        ({"pricing_group_key": "region"}, "pricing_group_key"),
    ],
)  # fmt: skip
def test_usage_product_create_refuses_wrong_types(api, catalog, fields, field):
    metric = catalog["usage"].billable_metric
    body = {"name": "u", "type": "USAGE", "billable_metric_id": str(metric.id), **fields}
    assert_400(api("post", f"{PRICING}/products/create", body), field)
    assert Product.objects.count() == 2  # the catalog's only


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"name": 5}, "name"), ({"starting_at": 5}, "starting_at"), ({"product_id": 5}, "product_id")],
)
def test_product_update_refuses_wrong_types(api, catalog, fields, field):
    product = catalog["product"]
    body = {"product_id": str(product.id), "starting_at": JAN, "name": "new", **fields}
    assert_400(api("post", f"{PRICING}/products/update", body), field)
    product.refresh_from_db()
    assert product.details.get("updates", []) == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": 5}, "name"),
        ({"description": 5}, "description"),
        ({"fiat_credit_type_id": 5}, "fiat_credit_type_id"),
        (
            {"credit_type_conversions": [{"custom_credit_type_id": "x", "fiat_per_custom_credit": "1"}]},
            "credit_type_conversions[0].fiat_per_custom_credit",
        ),
        ({"aliases": [{"name": 5}]}, "aliases[0].name"),
    ],
)  # fmt: skip
def test_rate_card_create_refuses_wrong_types(api, fields, field):
    assert_400(api("post", f"{PRICING}/rate-cards/create", {"name": "c", **fields}), field)
    assert not RateCard.objects.exists()


RATE_CASES = [
    ({"entitled": "yes"}, "entitled"),
    ({"entitled": 1}, "entitled"),
    ({"price": "1"}, "price"),
    ({"price": True}, "price"),
    ({"product_id": 5}, "product_id"),
    ({"starting_at": 20250101}, "starting_at"),
    ({"credit_type_id": 5}, "credit_type_id"),
    ({"pricing_group_values": {"region": 1}}, "pricing_group_values.region"),
    # Numbers, but more digits than the price column keeps: refused, not rounded.
    ({"price": Decimal("0.1234567890123456789012")}, "price"),
    ({"price": Decimal("123456789012345678901")}, "price"),
]


@pytest.mark.parametrize(("fields", "field"), RATE_CASES)
def test_add_rate_refuses_wrong_types(api, catalog, fields, field):
    body = {
        "rate_card_id": str(catalog["card"].id),
        "product_id": str(catalog["product"].id),
        "entitled": True,
        "rate_type": "FLAT",
        "price": 1,
        "starting_at": JAN,
        **fields,
    }
    assert_400(api("post", f"{PRICING}/rate-cards/addRate", body), field)
    assert not Rate.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"tiers": [{"price": "1"}]}, "rates[0].tiers[0].price"),
        ({"tiers": [{"price": 1, "size": "10"}, {"price": 1}]}, "rates[0].tiers[0].size"),
        ({"rate_type": "SUBSCRIPTION", "quantity": True}, "rates[0].quantity"),
        ({"rate_type": "SUBSCRIPTION", "is_prorated": 1}, "rates[0].is_prorated"),
    ],
)
def test_add_rates_refuses_wrong_types(api, catalog, fields, field):
    rate = {
        "product_id": str(catalog["product"].id),
        "entitled": True,
        "rate_type": "TIERED",
        "starting_at": JAN,
        **fields,
    }
    body = {"rate_card_id": str(catalog["card"].id), "rates": [rate]}
    assert_400(api("post", f"{PRICING}/rate-cards/addRates", body), field)
    assert not Rate.objects.exists()


def test_rate_reads_refuse_wrong_types(api, catalog):
    card_id = str(catalog["card"].id)
    url = f"{PRICING}/rate-cards/getRates"
    assert_400(api("post", url, {"rate_card_id": 5, "at": JAN}), "rate_card_id")
    body = {"rate_card_id": card_id, "at": JAN, "selectors": [{"product_id": 5}]}
    assert_400(api("post", url, body), "selectors[0].product_id")
    body = {"rate_card_id": card_id, "at": JAN, "selectors": [{"product_tags": [True]}]}
    assert_400(api("post", url, body), "selectors[0].product_tags[0]")


def test_credit_type_endpoints_refuse_wrong_types(api):
    ensure_usd_cents()
    assert_400(api("post", "/v1/credit-types/create", {"name": 5}), "name")
    assert_400(api("post", "/v1/credit-types/archive", {"id": 5}), "id")
    assert list(CreditType.objects.values_list("name", flat=True)) == ["USD (cents)"]
