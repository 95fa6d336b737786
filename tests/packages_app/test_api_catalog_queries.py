"""Catalog hot paths cost a fixed number of queries whatever the row count; amounts stay exact."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.core.jsonutil import dumps
from packages_app.models import AliasName, BillableMetric, CreditType, Product, Rate, RateCard
from packages_app.services.aliases import alias_assign
from tests.factories import api_post_text, user_with_token

pytestmark = pytest.mark.django_db
JAN = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
PRICING = "/v1/contract-pricing"


@pytest.fixture
def api(client):
    _, token = user_with_token(superuser=True)

    def call(method: str, url: str, body=None):
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        if method == "post":
            kwargs.update(
                data=dumps(body) if body is not None else "", content_type="application/json"
            )
        response = getattr(client, method)(url, **kwargs)
        return response, json.loads(response.content, parse_float=Decimal)

    return call


def _queries(api, method: str, url: str, body=None) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response, data = api(method, url, body)
    assert response.status_code == 200, data
    return len(queries), data


def _rates(product: Product, count: int, first: int = 0) -> list[dict]:
    return [
        {
            "product_id": str(product.id),
            "entitled": True,
            "rate_type": "TIERED",
            "tiers": [{"price": Decimal("2.5"), "size": 10}, {"price": 1}],
            "starting_at": (JAN + dt.timedelta(hours=i)).isoformat(),
            "pricing_group_values": {"region": f"r{i}"},
        }
        for i in range(first, first + count)
    ]


def test_add_rates_is_one_insert_whatever_the_count(api, django_assert_max_num_queries):
    # given
    card = RateCard.objects.create(name="c")
    product = Product.objects.create(name="p", type="FIXED")
    url = f"{PRICING}/rate-cards/addRates"
    few, _ = _queries(api, "post", url, {"rate_card_id": str(card.id), "rates": _rates(product, 5)})

    # when
    with django_assert_max_num_queries(8):
        many, _ = _queries(
            api, "post", url, {"rate_card_id": str(card.id), "rates": _rates(product, 200, first=5)}
        )

    # then
    assert many == few
    assert Rate.objects.count() == 205


def _card_with_history(index: int, credits: CreditType, product: Product) -> None:
    card = RateCard.objects.create(
        name=f"card {index}",
        details={
            "credit_type_conversions": [
                {"custom_credit_type_id": str(credits.id), "fiat_per_custom_credit": Decimal(2)}
            ]
        },
    )
    alias_assign(
        kind=AliasName.Kind.RATE_CARD, name=f"alias {index}", rate_card=card, starting_at=JAN
    )
    Rate.objects.create(rate_card=card, product=product, starting_at=JAN, rate_type="FLAT", price=1)


@pytest.mark.parametrize(
    ("path", "method", "body"),
    [
        (f"{PRICING}/rate-cards/list", "post", None),
        (f"{PRICING}/products/list", "post", {"archive_filter": "ALL"}),
        ("/v1/billable-metrics", "get", None),
    ],
)
def test_list_pages_cost_the_same_for_3_and_30_rows(api, path, method, body):
    # given
    credits = CreditType.objects.create(name="credits")
    metric = BillableMetric.objects.create(name="m", aggregation_type="COUNT")

    def add(count):
        for index in range(count):
            product = Product.objects.create(name=f"p{index}", type="USAGE", billable_metric=metric)
            BillableMetric.objects.create(name=f"m{index}", aggregation_type="COUNT")
            _card_with_history(RateCard.objects.count(), credits, product)

    add(3)
    few, first = _queries(api, method, f"{path}?limit=100", body)

    # when
    add(27)
    many, second = _queries(api, method, f"{path}?limit=100", body)

    # then
    assert len(second["data"]) >= 30 > len(first["data"])
    assert many == few


def test_get_rates_costs_the_same_for_3_and_30_rates(api):
    card = RateCard.objects.create(name="c")
    product = Product.objects.create(name="p", type="FIXED", details={"initial": {"tags": ["t"]}})
    body = {"rate_card_id": str(card.id), "at": "2025-06-01T00:00:00Z"}
    url = f"{PRICING}/rate-cards/getRates?limit=100"
    api(
        "post",
        f"{PRICING}/rate-cards/addRates",
        {"rate_card_id": str(card.id), "rates": _rates(product, 3)},
    )
    few, first = _queries(api, "post", url, body)
    api(
        "post",
        f"{PRICING}/rate-cards/addRates",
        {"rate_card_id": str(card.id), "rates": _rates(product, 27, first=3)},
    )
    many, second = _queries(api, "post", url, body)
    assert (len(first["data"]), len(second["data"])) == (3, 30)
    assert many == few


def test_prices_beyond_float_precision_round_trip_exactly(api):
    # given: more significant digits than a float holds
    card = RateCard.objects.create(name="c")
    product = Product.objects.create(name="p", type="FIXED")
    price = Decimal("12345678901234567890.12345678901234567891")
    tier_price = Decimal("0.000000000000000000000001")

    # when
    response, added = api(
        "post",
        f"{PRICING}/rate-cards/addRate",
        {
            "rate_card_id": str(card.id),
            "product_id": str(product.id),
            "entitled": True,
            "rate_type": "FLAT",
            "price": price,
            "starting_at": "2025-01-01T00:00:00",  # naive: read as UTC
            "commit_rate": {"rate_type": "TIERED", "tiers": [{"price": tier_price}]},
        },
    )
    _, listed = api(
        "post",
        f"{PRICING}/rate-cards/getRates",
        {"rate_card_id": str(card.id), "at": "2025-01-01T00:00:00Z"},
    )

    # then
    assert response.status_code == 200, added
    assert added["data"]["price"] == price
    assert added["data"]["commit_rate"]["tiers"][0]["price"] == tier_price
    item = listed["data"][0]
    assert item["rate"]["price"] == price and item["starting_at"] == "2025-01-01T00:00:00Z"
    assert item["commit_rate"]["tiers"][0]["price"] == tier_price


def test_rate_card_list_accepts_an_empty_body(client):
    _, token = user_with_token("packages_app.view_ratecard")
    RateCard.objects.create(name="c")
    # What the SDK sends for rate_cards.list(): a JSON content type and no body at all.
    response = api_post_text(client, token, f"{PRICING}/rate-cards/list", "")
    assert response.status_code == 200
    assert [card["name"] for card in response.json()["data"]] == ["c"]
