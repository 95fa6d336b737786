"""The catalog API through the official SDK in strict mode: metrics, products, rate cards, rates."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import metronome
import pytest

from packages_app.models import USD_CENTS_ID, AliasName, CreditType, Product, Rate
from packages_app.selectors.aliases import rate_card_for_alias

UTC = dt.UTC
JAN = dt.datetime(2025, 1, 1, tzinfo=UTC)
FEB = dt.datetime(2025, 2, 1, tzinfo=UTC)
MAR = dt.datetime(2025, 3, 1, tzinfo=UTC)


def _metric(sdk, name="API calls", **fields) -> str:
    fields.setdefault("aggregation_type", "COUNT")
    fields = {key: value for key, value in fields.items() if value is not None}
    return sdk.v1.billable_metrics.create(name=name, **fields).data.id


def _usage_product(sdk, name="API", **fields) -> str:
    metric_id = fields.pop("billable_metric_id", None) or _metric(sdk)
    return sdk.v1.contracts.products.create(
        name=name, type="USAGE", billable_metric_id=metric_id, **fields
    ).data.id


def _bad_request(call) -> dict:
    with pytest.raises(metronome.BadRequestError) as caught:
        call()
    return caught.value.body


# Billable metrics ---------------------------------------------------------------------------


def test_billable_metric_round_trips_every_field(sdk):
    # given
    metric_id = sdk.v1.billable_metrics.create(
        name="Compute seconds",
        aggregation_type="SUM",
        aggregation_key="seconds",
        event_type_filter={"in_values": ["compute"]},
        property_filters=[
            {"name": "seconds", "exists": True},
            {"name": "region", "in_values": ["eu", "us"]},
        ],
        group_keys=[["region"]],
        custom_fields={"team": "infra"},
    ).data.id

    # when
    metric = sdk.v1.billable_metrics.retrieve(billable_metric_id=metric_id).data

    # then
    assert metric.id == metric_id and metric.name == "Compute seconds"
    assert metric.aggregation_type == "SUM" and metric.aggregation_key == "seconds"
    assert metric.event_type_filter.in_values == ["compute"]
    assert [f.name for f in metric.property_filters] == ["seconds", "region"]
    assert metric.property_filters[1].in_values == ["eu", "us"]
    assert metric.group_keys == [["region"]]
    assert metric.custom_fields == {"team": "infra"}
    assert metric.archived_at is None


def test_sql_metric_excludes_streaming_fields(sdk):
    metric_id = _metric(sdk, "SQL metric", aggregation_type=None, sql="SELECT 1")
    assert sdk.v1.billable_metrics.retrieve(billable_metric_id=metric_id).data.sql == "SELECT 1"

    body = _bad_request(
        lambda: sdk.v1.billable_metrics.create(name="x", sql="SELECT 1", aggregation_type="COUNT")
    )
    assert body["field"] == "aggregation_type"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"aggregation_type": "COUNT", "name": ""}, "name"),
        ({}, "aggregation_type"),
        ({"aggregation_type": "SUM"}, "aggregation_key"),
        ({"aggregation_type": "SUM", "aggregation_key": "bytes"}, "aggregation_key"),
        ({"aggregation_type": "TOTAL"}, "aggregation_type"),
        (
            {"aggregation_type": "COUNT", "property_filters": [{"name": "a", "in_values": []}]},
            "property_filters[0].in_values",
        ),
        ({"aggregation_type": "COUNT", "group_keys": [["region"]]}, "group_keys[0]"),
    ],
)
def test_billable_metric_bad_input_is_400_naming_the_field(sdk, fields, field):
    fields = {"name": "m", **fields}
    body = _bad_request(lambda: sdk.v1.billable_metrics.create(**fields))
    assert body["field"] == field, body
    assert body["message"]


def test_billable_metric_rename_archive_and_list_filters(sdk):
    # given
    kept, archived = _metric(sdk, "kept"), _metric(sdk, "old")

    # when
    sdk.v1.billable_metrics.update(billable_metric_id=kept, name="renamed")
    sdk.v1.billable_metrics.archive(id=archived)

    # then
    default = {m.id: m for m in sdk.v1.billable_metrics.list()}
    everything = {m.id: m for m in sdk.v1.billable_metrics.list(include_archived=True)}
    assert set(default) == {kept} and default[kept].name == "renamed"
    assert set(everything) == {kept, archived}
    assert everything[archived].archived_at is not None
    assert (
        sdk.v1.billable_metrics.retrieve(billable_metric_id=archived).data.archived_at is not None
    )


def test_billable_metric_list_auto_pages(sdk):
    ids = [_metric(sdk, f"metric {i}") for i in range(5)]
    first = sdk.v1.billable_metrics.list(limit=2)
    assert len(first.data) == 2 and first.next_page
    assert [m.id for m in sdk.v1.billable_metrics.list(limit=2)] == ids


def test_unknown_billable_metric_is_404(sdk):
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.billable_metrics.retrieve(billable_metric_id="c5e2b7a0-0000-4000-8000-000000000000")
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.billable_metrics.retrieve(billable_metric_id="not-a-uuid")
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.billable_metrics.archive(id="c5e2b7a0-0000-4000-8000-000000000000")


# Products -----------------------------------------------------------------------------------


def test_usage_product_round_trips(sdk):
    # given
    metric_id = _metric(
        sdk,
        "Tokens",
        aggregation_type="SUM",
        aggregation_key="tokens",
        property_filters=[{"name": "tokens"}, {"name": "model"}, {"name": "region"}],
        group_keys=[["model", "region"]],
    )

    # when
    product_id = sdk.v1.contracts.products.create(
        name="Tokens",
        type="USAGE",
        billable_metric_id=metric_id,
        pricing_group_key=["model"],
        presentation_group_key=["region"],
        quantity_conversion={"conversion_factor": 1000, "operation": "DIVIDE"},
        quantity_rounding={"decimal_places": 2, "rounding_method": "ROUND_UP"},
        tags=["ai"],
        custom_fields={"sku": "T-1"},
        is_refundable=False,
    ).data.id
    product = sdk.v1.contracts.products.retrieve(id=product_id).data

    # then
    assert product.type == "USAGE" and product.updates == []
    assert product.custom_fields == {"sku": "T-1"}
    for state in (product.initial, product.current):
        assert state.name == "Tokens" and state.billable_metric_id == metric_id
        assert state.pricing_group_key == ["model"] and state.presentation_group_key == ["region"]
        assert state.quantity_conversion.conversion_factor == 1000
        assert state.quantity_conversion.operation == "DIVIDE"
        assert state.quantity_rounding.rounding_method == "ROUND_UP"
        assert state.tags == ["ai"] and state.is_refundable is False
        assert state.created_by


@pytest.mark.parametrize("sent", ["PRO_SERVICE", "PROFESSIONAL_SERVICE"])
def test_professional_service_answers_with_the_response_enum(sdk, sent):
    product_id = sdk.v1.contracts.products.create(name="Onboarding", type=sent).data.id
    assert sdk.v1.contracts.products.retrieve(id=product_id).data.type == "PRO_SERVICE"


def test_composite_product_needs_existing_components(sdk):
    component = _usage_product(sdk)
    composite = sdk.v1.contracts.products.create(
        name="Bundle", type="COMPOSITE", composite_product_ids=[component], composite_tags=["x"]
    ).data.id
    state = sdk.v1.contracts.products.retrieve(id=composite).data.current
    assert state.composite_product_ids == [component]

    body = _bad_request(
        lambda: sdk.v1.contracts.products.create(
            name="Bundle",
            type="COMPOSITE",
            composite_product_ids=[component, "c5e2b7a0-0000-4000-8000-000000000000"],
        )
    )
    assert body["field"] == "composite_product_ids[1]"


def test_usage_product_needs_an_active_metric(sdk):
    # given
    archived_metric = _metric(sdk, "old")
    sdk.v1.billable_metrics.archive(id=archived_metric)
    create = sdk.v1.contracts.products.create

    # then
    for metric_id in (None, archived_metric, "c5e2b7a0-0000-4000-8000-000000000000"):
        extra = {"billable_metric_id": metric_id} if metric_id else {}
        body = _bad_request(lambda extra=extra: create(name="U", type="USAGE", **extra))
        assert body["field"] == "billable_metric_id", body
    body = _bad_request(
        lambda: create(name="F", type="FIXED", billable_metric_id=_metric(sdk, "m"))
    )
    assert body["field"] == "billable_metric_id"
    assert _bad_request(lambda: create(name="F", type="BUNDLE"))["field"] == "type"


def test_product_update_is_scheduled_and_keeps_history(sdk):
    # given
    product_id = sdk.v1.contracts.products.create(name="Seats", type="FIXED", tags=["a"]).data.id
    past_hour = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    future_hour = past_hour + dt.timedelta(days=30)

    # when
    sdk.v1.contracts.products.update(product_id=product_id, starting_at=past_hour, name="Seats v2")
    sdk.v1.contracts.products.update(product_id=product_id, starting_at=future_hour, tags=["b"])
    product = sdk.v1.contracts.products.retrieve(id=product_id).data

    # then
    assert product.initial.name == "Seats" and product.initial.tags == ["a"]
    assert product.current.name == "Seats v2" and product.current.tags == ["a"]
    assert product.current.starting_at == past_hour
    assert [(u.name, u.tags, u.starting_at) for u in product.updates] == [
        ("Seats v2", None, past_hour),
        (None, ["b"], future_hour),
    ]
    body = _bad_request(
        lambda: sdk.v1.contracts.products.update(
            product_id=product_id, starting_at=past_hour.replace(minute=30)
        )
    )
    assert body["field"] == "starting_at"


def test_usage_product_update_switches_metric_and_survives_an_archived_one(sdk):
    # given: a USAGE product whose metric gets archived
    old_metric, new_metric = _metric(sdk, "old"), _metric(sdk, "new")
    product_id = _usage_product(sdk, billable_metric_id=old_metric)
    sdk.v1.billable_metrics.archive(id=old_metric)
    hour = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    update = sdk.v1.contracts.products.update

    # when / then: renaming keeps the archived metric, choosing it anew is refused
    update(product_id=product_id, starting_at=hour, name="renamed")
    body = _bad_request(
        lambda: update(product_id=product_id, starting_at=hour, billable_metric_id=old_metric)
    )
    assert body["field"] == "billable_metric_id"
    update(product_id=product_id, starting_at=hour, billable_metric_id=new_metric)
    current = sdk.v1.contracts.products.retrieve(id=product_id).data.current
    assert (current.name, current.billable_metric_id) == ("renamed", new_metric)
    assert str(Product.objects.get(pk=product_id).billable_metric_id) == new_metric
    with pytest.raises(metronome.NotFoundError):
        update(product_id="c5e2b7a0-0000-4000-8000-000000000000", starting_at=hour, name="x")


def test_product_list_archive_filter_and_paging(sdk):
    # given
    ids = [sdk.v1.contracts.products.create(name=f"P{i}", type="FIXED").data.id for i in range(5)]
    sdk.v1.contracts.products.archive(product_id=ids[0])

    # when
    default = [p.id for p in sdk.v1.contracts.products.list(limit=2)]
    archived = [p.id for p in sdk.v1.contracts.products.list(archive_filter="ARCHIVED")]
    everything = [p.id for p in sdk.v1.contracts.products.list(limit=2, archive_filter="ALL")]

    # then
    assert default == ids[1:] and archived == ids[:1] and everything == ids
    listed = next(iter(sdk.v1.contracts.products.list(archive_filter="ARCHIVED")))
    assert listed.archived_at is not None


def test_unknown_product_is_404(sdk):
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.contracts.products.retrieve(id="c5e2b7a0-0000-4000-8000-000000000000")
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.contracts.products.archive(product_id="c5e2b7a0-0000-4000-8000-000000000000")


# Rate cards ---------------------------------------------------------------------------------


def test_rate_card_round_trips_with_aliases_and_conversions(sdk):
    # given
    credits = CreditType.objects.create(name="credits")

    # when
    rate_card_id = sdk.v1.contracts.rate_cards.create(
        name="Standard 2025",
        description="list prices",
        aliases=[{"name": "standard", "starting_at": JAN}],
        credit_type_conversions=[
            {"custom_credit_type_id": str(credits.id), "fiat_per_custom_credit": 0.5}
        ],
        custom_fields={"region": "eu"},
    ).data.id
    card = sdk.v1.contracts.rate_cards.retrieve(id=rate_card_id).data

    # then
    assert card.name == "Standard 2025" and card.description == "list prices"
    assert card.fiat_credit_type.id == str(USD_CENTS_ID)
    assert card.fiat_credit_type.name == "USD (cents)"
    assert [(a.name, a.starting_at, a.ending_before) for a in card.aliases] == [
        ("standard", JAN, None)
    ]
    conversion = card.credit_type_conversions[0]
    assert conversion.custom_credit_type.id == str(credits.id)
    assert conversion.custom_credit_type.name == "credits"
    assert conversion.fiat_per_custom_credit == "0.5"
    assert card.custom_fields == {"region": "eu"} and card.created_by


def test_rate_card_bad_references_are_400(sdk):
    create = sdk.v1.contracts.rate_cards.create
    missing = "c5e2b7a0-0000-4000-8000-000000000000"
    assert _bad_request(lambda: create(name="x", fiat_credit_type_id=missing))["field"] == (
        "fiat_credit_type_id"
    )
    body = _bad_request(
        lambda: create(
            name="x",
            credit_type_conversions=[
                {"custom_credit_type_id": missing, "fiat_per_custom_credit": 1}
            ],
        )
    )
    assert body["field"] == "credit_type_conversions[0].custom_credit_type_id"
    body = _bad_request(
        lambda: create(name="x", aliases=[{"name": "a", "starting_at": FEB, "ending_before": JAN}])
    )
    assert body["field"].startswith("aliases[0]")
    assert _bad_request(lambda: create(name=""))["field"] == "name"


def test_rate_card_update_reassigns_an_alias_from_a_date(sdk):
    # given
    cards = sdk.v1.contracts.rate_cards
    old = cards.create(name="2024", aliases=[{"name": "standard", "starting_at": JAN}]).data.id
    new = cards.create(name="2025").data.id

    # when
    cards.update(
        rate_card_id=new,
        name="2025 list",
        description="new prices",
        aliases=[{"name": "standard", "starting_at": MAR}],
    )

    # then
    old_aliases = cards.retrieve(id=old).data.aliases
    new_card = cards.retrieve(id=new).data
    assert [(a.starting_at, a.ending_before) for a in old_aliases] == [(JAN, MAR)]
    assert [(a.name, a.starting_at, a.ending_before) for a in new_card.aliases] == [
        ("standard", MAR, None)
    ]
    assert new_card.name == "2025 list" and new_card.description == "new prices"
    assert str(rate_card_for_alias(name="standard", at=FEB).id) == old
    assert str(rate_card_for_alias(name="standard", at=MAR).id) == new
    assert AliasName.objects.get(name="standard").kind == AliasName.Kind.RATE_CARD


def test_rate_card_update_adds_conversions_but_never_changes_one(sdk):
    credits = CreditType.objects.create(name="credits")
    conversion = {"custom_credit_type_id": str(credits.id), "fiat_per_custom_credit": 2}
    cards = sdk.v1.contracts.rate_cards
    card_id = cards.create(name="c").data.id
    cards.update(rate_card_id=card_id, add_credit_type_conversions=[conversion])
    assert cards.retrieve(id=card_id).data.credit_type_conversions[0].fiat_per_custom_credit == "2"
    body = _bad_request(
        lambda: cards.update(rate_card_id=card_id, add_credit_type_conversions=[conversion])
    )
    assert body["field"] == "add_credit_type_conversions[0].custom_credit_type_id"


def test_rate_card_list_without_body_pages_and_hides_archived(sdk):
    # given
    ids = [sdk.v1.contracts.rate_cards.create(name=f"card {i}").data.id for i in range(5)]
    sdk.v1.contracts.rate_cards.archive(id=ids[0])

    # when
    listed = [card.id for card in sdk.v1.contracts.rate_cards.list(limit=2)]

    # then
    assert listed == ids[1:]
    everything = sdk.v1.contracts.rate_cards.list(body={"archive_filter": "ALL"})
    assert [card.id for card in everything] == ids


def test_unknown_rate_card_is_404_everywhere(sdk):
    missing = "c5e2b7a0-0000-4000-8000-000000000000"
    cards = sdk.v1.contracts.rate_cards
    product_id = sdk.v1.contracts.products.create(name="F", type="FIXED").data.id
    calls = [
        lambda: cards.retrieve(id=missing),
        lambda: cards.update(rate_card_id=missing, name="x"),
        lambda: cards.archive(id=missing),
        lambda: cards.rates.add(
            rate_card_id=missing,
            product_id=product_id,
            entitled=True,
            rate_type="FLAT",
            price=1,
            starting_at=JAN,
        ),
        lambda: cards.rates.list(rate_card_id=missing, at=JAN),
    ]
    for call in calls:
        with pytest.raises(metronome.NotFoundError):
            call()


# Rates --------------------------------------------------------------------------------------


def test_add_rate_keeps_decimal_prices_exact(sdk):
    # given
    card_id = sdk.v1.contracts.rate_cards.create(name="c").data.id
    product_id = _usage_product(sdk)

    # when
    raw = sdk.v1.contracts.rate_cards.rates.with_raw_response.add(
        rate_card_id=card_id,
        product_id=product_id,
        entitled=True,
        rate_type="FLAT",
        price=0.000001234,  # the SDK sends the float as 1.234e-06; read as Decimal exactly
        starting_at=JAN,
        pricing_group_values={"model": "large"},
    )

    # then
    sent_back = json.loads(raw.http_response.text, parse_float=Decimal)["data"]
    assert sent_back["price"] == Decimal("0.000001234")
    assert "0.000001234" in raw.http_response.text or "1.234E-6" in raw.http_response.text
    assert sent_back["credit_type"] == {"id": str(USD_CENTS_ID), "name": "USD (cents)"}
    assert raw.parse().data.pricing_group_values == {"model": "large"}
    assert Rate.objects.get().price == Decimal("0.000001234")
    listed = sdk.v1.contracts.rate_cards.rates.with_raw_response.list(rate_card_id=card_id, at=JAN)
    item = json.loads(listed.http_response.text, parse_float=Decimal)["data"][0]
    assert item["rate"]["price"] == Decimal("0.000001234")


def test_add_rate_of_every_type(sdk):
    card_id = sdk.v1.contracts.rate_cards.create(name="c").data.id
    product_id = _usage_product(sdk)
    add = sdk.v1.contracts.rate_cards.rates.add
    common = {"rate_card_id": card_id, "product_id": product_id, "entitled": True}

    tiered = add(
        **common,
        rate_type="TIERED",
        starting_at=JAN,
        tiers=[{"price": 3, "size": 100}, {"price": 1.5}],
        commit_rate={"rate_type": "FLAT", "price": 2},
    ).data
    assert [(t.price, t.size) for t in tiered.tiers] == [(3, 100), (1.5, None)]
    assert tiered.commit_rate.price == 2
    subscription = add(
        **common,
        rate_type="SUBSCRIPTION",
        starting_at=JAN,
        price=1000,
        quantity=2,
        is_prorated=True,
        billing_frequency="MONTHLY",
    ).data
    assert (subscription.price, subscription.quantity, subscription.is_prorated) == (1000, 2, True)
    percentage = add(**common, rate_type="PERCENTAGE", starting_at=JAN, price=0.1).data
    assert percentage.price == 0.1 and percentage.credit_type is None
    custom = add(**common, rate_type="CUSTOM", starting_at=JAN, custom_rate={"k": "v"}).data
    assert custom.custom_rate == {"k": "v"}
    tiered_pct = add(
        **common, rate_type="TIERED_PERCENTAGE", starting_at=JAN, tiers=[{"price": 0.2}]
    ).data
    assert tiered_pct.rate_type == "TIERED_PERCENTAGE"
    # each replaced the one before on the same product and start, but for the subscription
    # rate (its billing frequency keeps a schedule of its own)
    in_force = sdk.v1.contracts.rate_cards.rates.list(rate_card_id=card_id, at=JAN)
    assert sorted(r.rate.rate_type for r in in_force) == ["SUBSCRIPTION", "TIERED_PERCENTAGE"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"rate_type": "TIERED"}, "tiers"),
        ({"rate_type": "TIERED", "tiers": [{"price": 1}, {"price": 2}]}, "tiers[0].size"),
        ({"rate_type": "FLAT"}, "price"),
        ({"rate_type": "FLAT", "price": -1}, "price"),
        ({"rate_type": "PERCENTAGE", "price": 2}, "price"),
        ({"rate_type": "FLAT", "price": 1, "quantity": 2}, "quantity"),
        ({"rate_type": "CUSTOM"}, "custom_rate"),
        ({"rate_type": "FLAT", "price": 1, "ending_before": JAN}, "ending_before"),
        ({"rate_type": "FLAT", "price": 1, "credit_type_id": "nope"}, "credit_type_id"),
        ({"rate_type": "FLAT", "price": 1, "product_id": "nope"}, "product_id"),
        ({"rate_type": "FLAT", "price": "0.1234567890123456789012"}, "price"),
        ({"rate_type": "DAILY", "price": 1}, "rate_type"),
    ],
)
def test_add_rate_bad_input_is_400_naming_the_field(sdk, fields, field):
    card_id = sdk.v1.contracts.rate_cards.create(name="c").data.id
    product_id = sdk.v1.contracts.products.create(name="F", type="FIXED").data.id
    fields = {"product_id": product_id, "starting_at": JAN, **fields}
    body = _bad_request(
        lambda: sdk.v1.contracts.rate_cards.rates.add(rate_card_id=card_id, entitled=True, **fields)
    )
    assert body["field"] == field, body
    assert not Rate.objects.exists()


def test_rate_in_a_custom_credit_type_needs_a_conversion(sdk):
    credits = CreditType.objects.create(name="credits")
    cards = sdk.v1.contracts.rate_cards
    card_id = cards.create(name="c").data.id
    product_id = sdk.v1.contracts.products.create(name="F", type="FIXED").data.id
    rate = {
        "rate_card_id": card_id,
        "product_id": product_id,
        "entitled": True,
        "rate_type": "FLAT",
        "price": 5,
        "starting_at": JAN,
        "credit_type_id": str(credits.id),
    }
    assert _bad_request(lambda: cards.rates.add(**rate))["field"] == "credit_type_id"
    cards.update(
        rate_card_id=card_id,
        add_credit_type_conversions=[
            {"custom_credit_type_id": str(credits.id), "fiat_per_custom_credit": 10}
        ],
    )
    assert cards.rates.add(**rate).data.credit_type.name == "credits"


def test_archived_product_or_rate_card_takes_no_new_rates(sdk):
    cards = sdk.v1.contracts.rate_cards
    card_id = cards.create(name="c").data.id
    product_id = sdk.v1.contracts.products.create(name="F", type="FIXED").data.id
    rate = {"entitled": True, "rate_type": "FLAT", "price": 1, "starting_at": JAN}
    sdk.v1.contracts.products.archive(product_id=product_id)
    body = _bad_request(
        lambda: cards.rates.add(rate_card_id=card_id, product_id=product_id, **rate)
    )
    assert body["field"] == "product_id"
    other = sdk.v1.contracts.products.create(name="G", type="FIXED").data.id
    cards.archive(id=card_id)
    body = _bad_request(lambda: cards.rates.add(rate_card_id=card_id, product_id=other, **rate))
    assert body["field"] == "rate_card_id"


def test_add_rates_is_all_or_nothing(sdk):
    # given
    card_id = sdk.v1.contracts.rate_cards.create(name="c").data.id
    product_id = _usage_product(sdk)
    good = {"product_id": product_id, "entitled": True, "rate_type": "FLAT", "starting_at": JAN}

    # when
    body = _bad_request(
        lambda: sdk.v1.contracts.rate_cards.rates.add_many(
            rate_card_id=card_id,
            rates=[
                {**good, "price": 1},
                {**good, "price": 2, "starting_at": FEB},
                {**good, "rate_type": "TIERED"},
            ],
        )
    )

    # then
    assert body["field"] == "rates[2].tiers"
    assert not Rate.objects.exists()
    result = sdk.v1.contracts.rate_cards.rates.add_many(
        rate_card_id=card_id, rates=[{**good, "price": 1}, {**good, "price": 2, "starting_at": FEB}]
    )
    assert result.data.id == card_id
    assert Rate.objects.count() == 2
    body = _bad_request(
        lambda: sdk.v1.contracts.rate_cards.rates.add_many(
            rate_card_id=card_id, rates=[{**good, "price": 1}, {**good}]
        )
    )
    assert body["field"] == "rates[1].price"


def test_get_rates_answers_what_is_in_force_at_an_instant(sdk):
    # given: one product repriced on Feb 1, another priced per model from Feb 1
    cards = sdk.v1.contracts.rate_cards
    card_id = cards.create(name="c").data.id
    api = _usage_product(sdk, "API", tags=["core"])
    storage = sdk.v1.contracts.products.create(name="Storage", type="FIXED", tags=["disk"]).data.id
    flat = {"entitled": True, "rate_type": "FLAT"}
    cards.rates.add_many(
        rate_card_id=card_id,
        rates=[
            {**flat, "product_id": api, "price": 10, "starting_at": JAN, "ending_before": FEB},
            {**flat, "product_id": api, "price": 8, "starting_at": FEB},
            {
                **flat,
                "product_id": storage,
                "price": 3,
                "starting_at": FEB,
                "pricing_group_values": {"tier": "hot", "region": "eu"},
            },
            {
                **flat,
                "product_id": storage,
                "price": 1,
                "starting_at": FEB,
                "pricing_group_values": {"tier": "cold", "region": "eu"},
            },
        ],
    )

    def prices(at, **kwargs):
        return sorted(r.rate.price for r in cards.rates.list(rate_card_id=card_id, at=at, **kwargs))

    # then
    assert prices(JAN - dt.timedelta(seconds=1)) == []
    assert prices(JAN) == [10]
    assert prices(FEB - dt.timedelta(microseconds=1000)) == [10]
    assert prices(FEB) == [1, 3, 8]
    assert prices(MAR, selectors=[{"product_id": api}]) == [8]
    assert prices(MAR, selectors=[{"pricing_group_values": {"tier": "hot"}}]) == []
    assert prices(MAR, selectors=[{"partial_pricing_group_values": {"tier": "hot"}}]) == [3]
    assert prices(MAR, selectors=[{"partial_pricing_group_values": {"region": "eu"}}]) == [1, 3]
    assert prices(
        MAR,
        selectors=[{"pricing_group_values": {"tier": "cold", "region": "eu"}}, {"product_id": api}],
    ) == [1, 8]
    assert prices(MAR, selectors=[{"product_tags": ["core"]}]) == [8]
    item = next(iter(cards.rates.list(rate_card_id=card_id, at=JAN)))
    assert (item.product_id, item.product_name, item.product_tags) == (api, "API", ["core"])
    assert (item.starting_at, item.ending_before, item.entitled) == (JAN, FEB, True)


def test_get_rates_auto_pages(sdk):
    cards = sdk.v1.contracts.rate_cards
    card_id = cards.create(name="c").data.id
    product_id = sdk.v1.contracts.products.create(name="F", type="FIXED").data.id
    cards.rates.add_many(
        rate_card_id=card_id,
        rates=[
            {
                "product_id": product_id,
                "entitled": True,
                "rate_type": "FLAT",
                "price": i,
                "starting_at": JAN + dt.timedelta(days=i),
                "pricing_group_values": {"region": f"r{i}"},
            }
            for i in range(5)
        ],
    )
    first = cards.rates.list(rate_card_id=card_id, at=MAR, limit=2)
    assert len(first.data) == 2 and first.next_page
    assert [r.rate.price for r in cards.rates.list(rate_card_id=card_id, at=MAR, limit=2)] == [
        0,
        1,
        2,
        3,
        4,
    ]


def test_get_rate_schedule_lists_rates_overlapping_a_window(sdk):
    cards = sdk.v1.contracts.rate_cards
    card_id = cards.create(name="c").data.id
    product_id = sdk.v1.contracts.products.create(name="F", type="FIXED").data.id
    common = {"product_id": product_id, "entitled": True, "rate_type": "FLAT"}
    cards.rates.add_many(
        rate_card_id=card_id,
        rates=[
            {**common, "price": 1, "starting_at": JAN, "ending_before": FEB},
            {**common, "price": 2, "starting_at": FEB},
        ],
    )
    schedule = cards.retrieve_rate_schedule(rate_card_id=card_id, starting_at=FEB)
    assert [r.rate.price for r in schedule.data] == [2] and schedule.next_page is None
    everything = cards.retrieve_rate_schedule(rate_card_id=card_id, starting_at=JAN)
    assert [r.rate.price for r in everything.data] == [1, 2]


# Authentication and permissions ---------------------------------------------------------------


def test_bad_token_is_401(sdk, live_server):
    client = metronome.Metronome(
        base_url=live_server.url,
        bearer_token="pp_wrong",
        _strict_response_validation=True,
        max_retries=0,
    )
    with pytest.raises(metronome.AuthenticationError):
        client.v1.contracts.rate_cards.list()
    with pytest.raises(metronome.AuthenticationError):
        client.v1.billable_metrics.list()


def test_missing_permission_is_403(sdk_for):
    viewer = sdk_for("packages_app.view_ratecard", "packages_app.view_product")
    assert list(viewer.v1.contracts.rate_cards.list()) == []
    assert list(viewer.v1.contracts.products.list()) == []
    calls = [
        lambda: viewer.v1.contracts.rate_cards.create(name="x"),
        lambda: viewer.v1.contracts.products.create(name="x", type="FIXED"),
        lambda: viewer.v1.contracts.products.archive(product_id="x"),
        lambda: viewer.v1.billable_metrics.list(),
        lambda: viewer.v1.billable_metrics.create(name="x", aggregation_type="COUNT"),
        lambda: viewer.v1.contracts.rate_cards.rates.add_many(rate_card_id="x", rates=[]),
    ]
    for call in calls:
        with pytest.raises(metronome.PermissionDeniedError):
            call()
