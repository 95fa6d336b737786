"""Ending and replacing a rate (the rate-card page's "End or replace…"): the schedule of the
rate's key stops at the date (an earlier open-ended rate does not come back), a replacement
starts there with the same key; bad input is a 400 naming the field and writes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from config.core.errors import ValidationFailed
from packages_app.models import Rate
from packages_app.selectors.rate_schedule import rate_schedule
from packages_app.services.rate_cards import rate_end, rate_replace
from tests.builders.pages import day, flat_rate, product, rate_card

pytestmark = pytest.mark.django_db


def prices(card, at: dt.datetime) -> dict[str, Decimal | None]:
    return {s.product.name: s.price for s in rate_schedule(rate_card=card, at=at)}


def test_ending_a_superseding_rate_does_not_hand_back_to_the_earlier_one():
    card = rate_card()
    calls = product("API calls")
    flat_rate(card, calls, "0.25", day(2027, 1, 1))
    later = flat_rate(card, calls, "0.30", day(2027, 6, 1))
    scheduled = flat_rate(card, calls, "0.40", day(2028, 1, 1))

    ended = rate_end(rate_card_id=card.pk, rate_id=later.pk, ending_before=day(2027, 9, 1))

    assert len(ended) == 2  # the 0.30 and the open-ended 0.25 under it
    assert prices(card, day(2027, 8, 31)) == {"API calls": Decimal("0.30")}
    assert prices(card, day(2027, 10, 1)) == {}
    assert prices(card, day(2028, 2, 1)) == {"API calls": Decimal("0.40")}  # kept
    scheduled.refresh_from_db()
    assert scheduled.ending_before is None


def test_replace_ends_the_schedule_and_adds_the_same_rate_from_the_date():
    card = rate_card()
    seats = product("Seats", "SUBSCRIPTION")
    old = flat_rate(
        card, seats, "10", day(2027, 1, 1), quantity=Decimal(1), billing_frequency="MONTHLY"
    )

    new = rate_replace(
        rate_card_id=card.pk, rate_id=old.pk, starting_at=day(2027, 9, 1), price=Decimal("12")
    )

    old.refresh_from_db()
    assert old.ending_before == day(2027, 9, 1)
    assert (new.starting_at, new.ending_before, new.price) == (day(2027, 9, 1), None, Decimal("12"))
    assert (new.rate_type, new.details) == (old.rate_type, old.details)
    assert prices(card, day(2027, 9, 1)) == {"Seats": Decimal("12")}


@pytest.mark.parametrize(
    "call, field",
    [
        (
            lambda card, rate: rate_end(
                rate_card_id=card.pk, rate_id=rate.pk, ending_before=day(2020, 1, 1)
            ),
            "ending_before",
        ),
        (
            lambda card, rate: rate_end(
                rate_card_id=card.pk, rate_id=rate.pk, ending_before=day(2026, 12, 31)
            ),
            "ending_before",
        ),
        (
            lambda card, rate: rate_replace(
                rate_card_id=card.pk,
                rate_id=rate.pk,
                starting_at=day(2027, 9, 1),
                price=Decimal("-1"),
            ),
            "price",
        ),
    ],
    ids=["in the past", "before the rate starts", "negative price"],
)
def test_bad_input_names_the_field_and_writes_nothing(call, field):
    card = rate_card()
    rate = flat_rate(card, product("API calls"), "0.25", day(2027, 1, 1))
    before = list(Rate.objects.values_list("id", "starting_at", "ending_before", "price"))

    with pytest.raises(ValidationFailed) as error:
        call(card, rate)

    assert error.value.field == field
    assert list(Rate.objects.values_list("id", "starting_at", "ending_before", "price")) == before
