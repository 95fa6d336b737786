"""config/core/money.py: the one exact line-amount rule, and the writers that price through it."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import pytest

from config.core.money import exact_sum, line_amount, totals_by_credit_type
from contracts_app.services.materialise import expand_recurring_schedule, materialise_package_terms
from tests.contracts_app.contract_builders import make_package, make_product, scheduled_charge_term
from tests.factories import api_post, user_with_token

# 28 significant digits, the most Decimal's default context keeps.
PRICE_28_DIGITS = Decimal("0.1234567890123456789012345678")
TERM_ID = uuid.UUID(int=1)


@dataclass
class PackageTermRow:
    kind: str
    body: dict
    ordinal: int = 0
    id: uuid.UUID = TERM_ID
    product_id: str | None = None


def test_a_line_is_exact_beyond_the_default_context():
    """0.1234567890123456789012345678 x 1234567 has 35 significant digits; the default
    context would keep 28."""
    amount = line_amount(PRICE_28_DIGITS, 1234567)
    assert Fraction(amount) == Fraction(PRICE_28_DIGITS) * 1234567
    with_multiplier = line_amount(PRICE_28_DIGITS, 1234567, multiplier=Decimal("0.8"))
    assert Fraction(with_multiplier) == Fraction(PRICE_28_DIGITS) * 1234567 * Fraction(4, 5)


def test_a_prorated_line_is_rounded_once_half_to_even_at_ten_places():
    """1000 x 1/31 = 32.258064516129.. -> 32.2580645161; 1/(4e10) = 0.000000000025 -> the even
    0.0000000000; 3/(4e10) = 0.000000000075 -> the even 0.0000000001."""
    assert line_amount(1000, proration=Fraction(1, 31)) == Decimal("32.2580645161")
    assert line_amount(1, proration=Fraction(1, 4 * 10**10)) == Decimal(0)
    assert line_amount(3, proration=Fraction(1, 4 * 10**10)) == Decimal("1E-10")
    assert line_amount(5, None) == 5  # Metronome's absent quantity is 1


def test_totals_per_credit_type_are_exact_sums():
    lines = [("usd", PRICE_28_DIGITS), ("usd", Decimal("1E+30")), ("tokens", 7)]
    assert totals_by_credit_type(lines) == {
        "usd": Decimal("1000000000000000000000000000000.1234567890123456789012345678"),
        "tokens": Decimal(7),
    }
    assert exact_sum([PRICE_28_DIGITS, Decimal("1E+30")]) == totals_by_credit_type(lines)["usd"]


def test_recurring_credit_amount_is_exact_when_provisioned():
    """Defect (materialise._amount multiplied in the default 28-digit context): a recurring
    credit of 1234567 x 0.1234567890123456789012345678 was granted 152415768327997256.. rounded
    to 28 digits. It is the exact 35-digit product now."""
    body = {
        "id": str(uuid.UUID(int=1)),
        "product_id": str(uuid.UUID(int=2)),
        "access_amount": {"unit_price": PRICE_28_DIGITS, "quantity": Decimal(1234567)},
        "commit_duration": {"value": 1, "unit": "PERIODS"},
        "priority": 1,
        "starting_at_offset": {"unit": "MONTHS", "value": 0},
        "duration": {"unit": "MONTHS", "value": 1},
        "recurrence_frequency": "MONTHLY",
    }
    rows = materialise_package_terms(
        [PackageTermRow("recurring_credit", body)],
        contract_start=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
        contract_end=None,
    )
    (credit,) = [row for row in rows if row.kind == "credit"]
    granted = credit.body["access_schedule"]["schedule_items"][0]["amount"]
    assert Fraction(granted) == Fraction(PRICE_28_DIGITS) * 1234567


def test_divided_invoice_schedule_adds_up_to_the_exact_charge():
    """Defect: the last item took `total - sum(shares)` with the sum in the default context, so
    three items of a 35-digit charge added up to a 29-digit one."""
    schedule = {
        "recurring_schedule": {
            "starting_at": dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
            "ending_before": dt.datetime(2027, 4, 1, tzinfo=dt.UTC),
            "frequency": "MONTHLY",
            "amount_distribution": "DIVIDED",
            "quantity": Decimal(1234567),
            "unit_price": PRICE_28_DIGITS,
        }
    }
    items = expand_recurring_schedule(schedule, field_name="schedule")["schedule_items"]
    assert Fraction(exact_sum(item["amount"] for item in items)) == (
        Fraction(PRICE_28_DIGITS) * 1234567
    )


@pytest.mark.django_db
def test_a_charge_item_amount_on_the_wire_is_exact(client):
    """Defect (contract_serializers.point_schedule multiplied in the default context): a charge
    of 2 x 9.876543210987654321098765432 (28 digits) read back as 19.75308642197530864219753086,
    not 19.753086421975308642197530864."""
    unit_price = Decimal("9.876543210987654321098765432")
    package = make_package(terms=[scheduled_charge_term(make_product(), unit_price=unit_price)])
    _, token = user_with_token("packages_app.view_package")
    response = api_post(
        client,
        token,
        "/v1/packages/preview",
        {"package_id": str(package.id), "starting_at": "2027-01-01T00:00:00Z"},
    )
    data = json.loads(response.content, parse_float=Decimal)["data"]
    (item,) = data["current"]["scheduled_charges"][0]["schedule"]["schedule_items"]
    assert item["amount"] == Decimal("19.753086421975308642197530864")
