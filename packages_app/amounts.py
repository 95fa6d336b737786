"""Amounts and quantities: the one rule every writer checks them by (`amounts_check`).

Arithmetic on amounts (exact sums and products, a line's amount) is config/core/money.py's.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from config.api.errors import ValidationFailed

# --- the one rule for amounts ----------------------------------------------------------------
#
# Metronome documents prices as >= 0, and its reference (shared/reference/metronome-api.md) gives
# no negative meaning to commit, credit, charge or threshold amounts, so every amount and every
# quantity charged or granted is held to the same: 0 or more. A discount is a multiplier or an
# override, never a negative amount. Every writer (package create, rate cards, contract create,
# edits, amendments; the API, the pages and the commands through them) checks here, and nowhere
# else.

# Keys whose number is an amount of money or a quantity charged or granted, at any depth.
AMOUNT_KEYS = frozenset(
    {
        "amount",
        "unit_price",
        "price",
        "quantity",
        "threshold_amount",
        "recharge_to_amount",
        "tax_amount",
    }
)
# Caller-defined maps: whatever they hold is not an amount of ours.
_OPAQUE_KEYS = frozenset({"custom_fields", "custom_rate", "invoice_metadata"})


def amount_check(value: object, *, field: str) -> None:
    """The rule for one amount: a number below 0 is a 400 naming `field`."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return
    if value < 0:
        raise ValidationFailed(f"Must be 0 or more (got {value})", field=field)


def amounts_check(value: object, *, field: str = "") -> None:
    """The rule for every amount in a request body (dicts and lists at any depth): the first
    negative one is a 400 naming its field path (`commits[0].access_schedule.schedule_items[0]
    .amount`), as the API's serializers name fields."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in _OPAQUE_KEYS:
                continue
            path = f"{field}.{key}" if field else str(key)
            if key in AMOUNT_KEYS:
                amount_check(item, field=path)
            amounts_check(item, field=path)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            amounts_check(item, field=f"{field}[{index}]")
