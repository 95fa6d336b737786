"""Package terms in plain words for the pricing team's pages ("$10.00 credit on Input tokens,
each month for 3 months from contract start"). Pure: names are passed in, nothing is queried.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from config.core.money import line_amount
from packages_app.models import USD_CENTS_ID

FREQUENCY_WORDS = {
    "DAILY": ("each day", "days"),
    "WEEKLY": ("each week", "weeks"),
    "MONTHLY": ("each month", "months"),
    "QUARTERLY": ("each quarter", "quarters"),
    "ANNUAL": ("each year", "years"),
}
KIND_WORDS = {
    "commit": "commit",
    "credit": "credit",
    "recurring_commit": "recurring commit",
    "recurring_credit": "recurring credit",
    "subscription": "subscription",
    "scheduled_charge": "scheduled charge",
    "override": "override",
    "spend_tracker": "spend tracker",
}


def money(amount: Any, credit_type_id: str | None, credit_type_names: Mapping[str, str]) -> str:
    """An amount with its credit type: USD cents as dollars, anything else with its unit name."""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return str(amount)
    key = str(credit_type_id or USD_CENTS_ID)
    if key == str(USD_CENTS_ID):
        return f"${value / 100:,.2f}"
    return f"{value.normalize():f} {credit_type_names.get(key, 'units')}"


def offset_words(offset: Mapping[str, Any] | None, *, zero: str = "contract start") -> str:
    if not offset or int(offset.get("value") or 0) == 0:
        return zero
    value, unit = int(offset["value"]), str(offset["unit"]).lower()
    if value == 1:
        unit = unit.rstrip("s")
    return f"{value} {unit} after contract start"


def length_words(offset: Mapping[str, Any] | None) -> str:
    if not offset:
        return ""
    value, unit = int(offset["value"]), str(offset["unit"]).lower()
    return f"{value} {unit.rstrip('s') if value == 1 else unit}"


def describe_term(
    kind: str,
    body: Mapping[str, Any],
    *,
    product_names: Mapping[str, str],
    credit_type_names: Mapping[str, str],
) -> str:
    """One sentence for a package term in its stored request form (relative offsets)."""

    def product(product_id: Any) -> str:
        return product_names.get(str(product_id), "an unknown product")

    if kind in ("commit", "credit"):
        schedule = body.get("access_schedule") or {}
        items = schedule.get("schedule_items") or []
        parts = [
            f"{money(i.get('amount'), schedule.get('credit_type_id'), credit_type_names)} from "
            f"{offset_words(i.get('starting_at_offset'))} for {length_words(i.get('duration'))}"
            for i in items
        ]
        what = f"{body.get('type', '').lower()} commit" if kind == "commit" else "credit"
        return f"{what.strip().capitalize()} on {product(body.get('product_id'))}: " + "; ".join(
            parts
        )
    if kind in ("recurring_commit", "recurring_credit"):
        amount = body.get("access_amount") or {}
        total = line_amount(amount.get("unit_price", 0), amount.get("quantity", 1))
        each, _plural = FREQUENCY_WORDS.get(
            body.get("recurrence_frequency") or "", ("each period", "periods")
        )
        text = (
            f"{money(total, amount.get('credit_type_id'), credit_type_names)} "
            f"{'commit' if kind == 'recurring_commit' else 'credit'} on "
            f"{product(body.get('product_id'))}, {each}"
        )
        duration = body.get("duration")
        if duration:
            text += f" for {length_words(duration)}"
        else:
            text += " until the contract ends"
        return f"{text} from {offset_words(body.get('starting_at_offset'))}"
    if kind == "subscription":
        rate = body.get("subscription_rate") or {}
        each, _ = FREQUENCY_WORDS.get(rate.get("billing_frequency") or "", ("each period", ""))
        quantity = body.get("initial_quantity")
        seats = f"{quantity} x " if quantity is not None else ""
        collected = "in advance" if body.get("collection_schedule") == "ADVANCE" else "in arrears"
        text = f"Subscription: {seats}{product(rate.get('product_id'))}, billed {each} {collected}"
        if body.get("duration"):
            text += f" for {length_words(body['duration'])}"
        return f"{text} from {offset_words(body.get('starting_at_offset'))}"
    if kind == "scheduled_charge":
        schedule = body.get("schedule") or {}
        parts = [
            f"{money(line_amount(i.get('unit_price', 0), i.get('quantity', 1)), schedule.get('credit_type_id'), credit_type_names)}"
            f" at {offset_words(i.get('date_offset'))}"
            for i in schedule.get("schedule_items") or []
        ]
        return f"Charge for {product(body.get('product_id'))}: " + "; ".join(parts)
    if kind == "override":
        specifiers = body.get("override_specifiers") or []
        targets = ", ".join(
            product(s["product_id"]) if s.get("product_id") else "matching usage"
            for s in specifiers
        )
        if body.get("type") == "MULTIPLIER" or (
            body.get("multiplier") is not None and not body.get("type")
        ):
            change = f"multiplied by {body.get('multiplier')}"
        elif body.get("overwrite_rate"):
            rate = body["overwrite_rate"]
            change = (
                f"price set to {money(rate.get('price'), rate.get('credit_type_id'), credit_type_names)}"
                if rate.get("price") is not None
                else f"{rate.get('rate_type', '').lower()} rate"
            )
        else:
            change = str(body.get("type", "")).lower()
        text = f"Override on {targets or 'every product'}: {change}"
        if body.get("duration"):
            text += f" for {length_words(body['duration'])}"
        return f"{text} from {offset_words(body.get('starting_at_offset'))}"
    if kind == "spend_tracker":
        return f"Spend tracker “{body.get('alias', '')}”"
    return KIND_WORDS.get(kind, kind)
