"""Rates in force (issue 17 defect 5): a later rate supersedes an earlier one from its start.

Read through the official SDK in strict mode (getRates, getRateSchedule) and the rate-card page;
every read answers at most one segment per product and pricing-group values at any instant, and
the same rate added twice is one rate.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from packages_app.models import Product, Rate, RateCard

UTC = dt.UTC
Y2026 = dt.datetime(2026, 1, 1, tzinfo=UTC)
JUNE_2027 = dt.datetime(2027, 6, 1, tzinfo=UTC)
JULY_2027 = dt.datetime(2027, 7, 1, tzinfo=UTC)
SEPT_2027 = dt.datetime(2027, 9, 1, tzinfo=UTC)


@pytest.fixture
def card(sdk):
    cards = sdk.v1.contracts.rate_cards
    card_id = cards.create(name="Standard").data.id
    metric = sdk.v1.billable_metrics.create(name="tokens", aggregation_type="COUNT").data.id
    product_id = sdk.v1.contracts.products.create(
        name="Input tokens", type="USAGE", billable_metric_id=metric
    ).data.id
    return cards, card_id, product_id


def _rate(product_id, price, starting_at, **fields):
    return {
        "product_id": product_id,
        "entitled": True,
        "rate_type": "FLAT",
        "price": price,
        "starting_at": starting_at,
        **fields,
    }


def _in_force(cards, card_id, at):
    return [
        (r.rate.price, r.starting_at, r.ending_before)
        for r in cards.rates.list(rate_card_id=card_id, at=at)
    ]


def _schedule(cards, card_id, starting_at, **kwargs):
    return [
        (r.rate.price, r.starting_at, r.ending_before)
        for r in cards.retrieve_rate_schedule(
            rate_card_id=card_id, starting_at=starting_at, **kwargs
        ).data
    ]


def test_a_later_rate_supersedes_the_earlier_one_from_its_start(sdk, card, client):
    # given Input tokens at 0.25 from 2026
    cards, card_id, product_id = card
    cards.rates.add_many(rate_card_id=card_id, rates=[_rate(product_id, 0.25, Y2026)])

    # when 0.30 is added from 2027-06-01
    cards.rates.add_many(rate_card_id=card_id, rates=[_rate(product_id, 0.30, JUNE_2027)])

    # then one rate is in force at each instant, and the earlier one ends where the later starts
    assert _in_force(cards, card_id, JULY_2027) == [(0.3, JUNE_2027, None)]
    assert _in_force(cards, card_id, JUNE_2027 - dt.timedelta(seconds=1)) == [
        (0.25, Y2026, JUNE_2027)
    ]
    assert _schedule(cards, card_id, Y2026) == [(0.25, Y2026, JUNE_2027), (0.3, JUNE_2027, None)]
    assert _schedule(cards, card_id, JULY_2027) == [(0.3, JUNE_2027, None)]
    # and the rate-card page says the same
    client.force_login(_superuser())
    html = client.get(f"/rate-cards/{card_id}/?at=2027-07-01").content.decode()
    in_force = html.split('data-testid="rates-in-force"')[1].split("</table>")[0]
    assert in_force.count("<tr>") == 2  # the head and one rate
    assert "0.3 USD (cents)" in in_force and "0.25" not in in_force


def test_the_same_rate_added_twice_is_one_rate(sdk, card):
    cards, card_id, product_id = card
    for _ in range(2):
        cards.rates.add_many(rate_card_id=card_id, rates=[_rate(product_id, 0.25, Y2026)])
    cards.rates.add(rate_card_id=card_id, **_rate(product_id, 0.25, Y2026))

    assert _in_force(cards, card_id, JULY_2027) == [(0.25, Y2026, None)]
    assert _schedule(cards, card_id, Y2026) == [(0.25, Y2026, None)]
    assert Rate.objects.count() == 1


def test_a_new_price_on_the_same_start_replaces_the_old_one(sdk, card):
    cards, card_id, product_id = card
    cards.rates.add_many(rate_card_id=card_id, rates=[_rate(product_id, 0.25, Y2026)])

    cards.rates.add_many(
        rate_card_id=card_id,
        rates=[_rate(product_id, 0.27, Y2026), _rate(product_id, 0.28, Y2026)],
    )

    assert _schedule(cards, card_id, Y2026) == [(0.28, Y2026, None)]
    assert Rate.objects.count() == 1


def test_a_bounded_later_rate_hands_back_to_the_earlier_one(sdk, card):
    # given 0.25 from 2026 and a promotion at 0.20 for June to September 2027
    cards, card_id, product_id = card
    cards.rates.add_many(
        rate_card_id=card_id,
        rates=[
            _rate(product_id, 0.20, JUNE_2027, ending_before=SEPT_2027),
            _rate(product_id, 0.25, Y2026),
        ],
    )

    # then (whatever the order they were added in) 0.25 resumes when the promotion ends
    assert _schedule(cards, card_id, Y2026) == [
        (0.25, Y2026, JUNE_2027),
        (0.2, JUNE_2027, SEPT_2027),
        (0.25, SEPT_2027, None),
    ]
    assert _in_force(cards, card_id, SEPT_2027) == [(0.25, SEPT_2027, None)]
    assert _schedule(cards, card_id, JULY_2027, ending_before=SEPT_2027) == [
        (0.2, JUNE_2027, SEPT_2027)
    ]


def test_other_pricing_groups_and_products_keep_their_own_schedules(sdk, card):
    cards, card_id, product_id = card
    eu, us = {"region": "eu"}, {"region": "us"}
    cards.rates.add_many(
        rate_card_id=card_id,
        rates=[
            _rate(product_id, 1, Y2026, pricing_group_values=eu),
            _rate(product_id, 2, Y2026, pricing_group_values=us),
            _rate(product_id, 3, JUNE_2027, pricing_group_values=eu),
        ],
    )

    assert sorted(_in_force(cards, card_id, JULY_2027)) == [
        (2, Y2026, None),
        (3, JUNE_2027, None),
    ]
    pages = cards.rates.list(rate_card_id=card_id, at=JULY_2027, limit=1)
    assert len(pages.data) == 1 and pages.next_page
    assert sorted(
        r.rate.price for r in cards.rates.list(rate_card_id=card_id, at=JULY_2027, limit=1)
    ) == [2, 3]


def test_the_database_refuses_a_second_rate_on_the_same_key_and_start(db):
    card = RateCard.objects.create(name="c")
    product = Product.objects.create(name="p", type="FIXED")
    fields = {"rate_card": card, "product": product, "starting_at": Y2026, "rate_type": "FLAT"}
    Rate.objects.create(price=1, pricing_group_values={"a": "1", "b": "2"}, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Rate.objects.create(price=2, pricing_group_values={"b": "2", "a": "1"}, **fields)
    # another billing frequency is another schedule
    Rate.objects.create(
        price=3,
        pricing_group_values={"a": "1", "b": "2"},
        details={"billing_frequency": "ANNUAL"},
        **fields,
    )


def test_schedule_segments_never_overlap_for_one_key(db):
    from packages_app.selectors.rate_schedule import schedule_segments

    card = RateCard.objects.create(name="c")
    product = Product.objects.create(name="p", type="FIXED")
    days = [Y2026 + dt.timedelta(days=n) for n in range(0, 100, 7)]
    rates = [
        Rate(
            rate_card=card,
            product=product,
            starting_at=start,
            ending_before=start + dt.timedelta(days=(index * 13) % 40 + 1) if index % 3 else None,
            rate_type="FLAT",
            price=Decimal(index),
        )
        for index, start in enumerate(days)
    ]

    segments = schedule_segments(rates)

    for before, after in itertools.pairwise(segments):
        assert before.ending_before is not None and before.ending_before <= after.starting_at
    for instant in (day + dt.timedelta(hours=h) for day in days for h in (0, 30, 200)):
        covering = [
            r
            for r in rates
            if r.starting_at <= instant and (r.ending_before is None or instant < r.ending_before)
        ]
        holding = [
            s
            for s in segments
            if s.starting_at <= instant and (s.ending_before is None or instant < s.ending_before)
        ]
        expected = max(covering, key=lambda r: r.starting_at).price if covering else None
        assert [s.price for s in holding] == ([] if expected is None else [expected])


def _superuser():
    from tests.factories import UserFactory

    return UserFactory(is_superuser=True, is_staff=True)
