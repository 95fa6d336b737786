"""Package terms in plain words for the pricing team's pages ("$10.00 credit on Input tokens,
each month for 3 months from contract start"). Pure: names are passed in, nothing is queried.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
# How the pages spell billing providers and delivery methods (the wire keeps its snake_case):
# the builder's and the customer page's choices and every page showing one (the `provider_name`
# and `delivery_name` filters of templatetags/ui.py), and the History's values (registered with
# config.audit in PackagesAppConfig.ready()).
BILLING_PROVIDER_NAMES = {
    "stripe": "Stripe",
    "netsuite": "NetSuite",
    "aws_marketplace": "AWS Marketplace",
    "azure_marketplace": "Azure Marketplace",
    "gcp_marketplace": "GCP Marketplace",
}
DELIVERY_METHOD_NAMES = {
    "direct_to_billing_provider": "Direct to billing provider",
    "aws_sqs": "AWS SQS",
    "aws_sns": "AWS SNS",
    "tackle": "Tackle",
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


@dataclass(frozen=True)
class _Names:
    """The product and credit type names a description shows."""

    products: Mapping[str, str]
    credit_types: Mapping[str, str]

    def product(self, product_id: Any) -> str:
        return self.products.get(str(product_id), "an unknown product")

    def money(self, amount: Any, credit_type_id: str | None) -> str:
        return money(amount, credit_type_id, self.credit_types)


def _describe_commit_or_credit(kind: str, body: Mapping[str, Any], names: _Names) -> str:
    """'Prepaid commit on X: $10.00 from contract start for 3 months; ...'"""
    schedule = body.get("access_schedule") or {}
    items = schedule.get("schedule_items") or []
    parts = [
        f"{names.money(i.get('amount'), schedule.get('credit_type_id'))} from "
        f"{offset_words(i.get('starting_at_offset'))} for {length_words(i.get('duration'))}"
        for i in items
    ]
    what = f"{body.get('type', '').lower()} commit" if kind == "commit" else "credit"
    return f"{what.strip().capitalize()} on {names.product(body.get('product_id'))}: " + "; ".join(
        parts
    )


def _describe_recurring(kind: str, body: Mapping[str, Any], names: _Names) -> str:
    """'$10.00 credit on X, each month for 3 months from contract start'"""
    amount = body.get("access_amount") or {}
    total = line_amount(amount.get("unit_price", 0), amount.get("quantity", 1))
    each, _plural = FREQUENCY_WORDS.get(
        body.get("recurrence_frequency") or "", ("each period", "periods")
    )
    text = (
        f"{names.money(total, amount.get('credit_type_id'))} "
        f"{'commit' if kind == 'recurring_commit' else 'credit'} on "
        f"{names.product(body.get('product_id'))}, {each}"
    )
    duration = body.get("duration")
    if duration:
        text += f" for {length_words(duration)}"
    else:
        text += " until the contract ends"
    return f"{text} from {offset_words(body.get('starting_at_offset'))}"


def _describe_subscription(kind: str, body: Mapping[str, Any], names: _Names) -> str:
    """'Subscription: 3 x X, billed each month in advance from contract start'"""
    rate = body.get("subscription_rate") or {}
    each, _ = FREQUENCY_WORDS.get(rate.get("billing_frequency") or "", ("each period", ""))
    quantity = body.get("initial_quantity")
    seats = f"{quantity} x " if quantity is not None else ""
    collected = "in advance" if body.get("collection_schedule") == "ADVANCE" else "in arrears"
    text = (
        f"Subscription: {seats}{names.product(rate.get('product_id'))}, billed {each} {collected}"
    )
    if body.get("duration"):
        text += f" for {length_words(body['duration'])}"
    return f"{text} from {offset_words(body.get('starting_at_offset'))}"


def _describe_scheduled_charge(kind: str, body: Mapping[str, Any], names: _Names) -> str:
    """'Charge for X: $10.00 at contract start; ...'"""
    schedule = body.get("schedule") or {}
    parts = [
        f"{names.money(line_amount(i.get('unit_price', 0), i.get('quantity', 1)), schedule.get('credit_type_id'))}"
        f" at {offset_words(i.get('date_offset'))}"
        for i in schedule.get("schedule_items") or []
    ]
    return f"Charge for {names.product(body.get('product_id'))}: " + "; ".join(parts)


def _describe_override(kind: str, body: Mapping[str, Any], names: _Names) -> str:
    """'Override on X, matching usage: multiplied by 0.9 from contract start'"""
    specifiers = body.get("override_specifiers") or []
    targets = ", ".join(
        names.product(s["product_id"]) if s.get("product_id") else "matching usage"
        for s in specifiers
    )
    if body.get("type") == "MULTIPLIER" or (
        body.get("multiplier") is not None and not body.get("type")
    ):
        change = f"multiplied by {body.get('multiplier')}"
    elif body.get("overwrite_rate"):
        rate = body["overwrite_rate"]
        change = (
            f"price set to {names.money(rate.get('price'), rate.get('credit_type_id'))}"
            if rate.get("price") is not None
            else f"{rate.get('rate_type', '').lower()} rate"
        )
    else:
        change = str(body.get("type", "")).lower()
    text = f"Override on {targets or 'every product'}: {change}"
    if body.get("duration"):
        text += f" for {length_words(body['duration'])}"
    return f"{text} from {offset_words(body.get('starting_at_offset'))}"


def _describe_spend_tracker(kind: str, body: Mapping[str, Any], names: _Names) -> str:
    return f"Spend tracker “{body.get('alias', '')}”"


_DESCRIBE_BY_KIND: dict[str, Callable[[str, Mapping[str, Any], _Names], str]] = {
    "commit": _describe_commit_or_credit,
    "credit": _describe_commit_or_credit,
    "recurring_commit": _describe_recurring,
    "recurring_credit": _describe_recurring,
    "subscription": _describe_subscription,
    "scheduled_charge": _describe_scheduled_charge,
    "override": _describe_override,
    "spend_tracker": _describe_spend_tracker,
}


def describe_term(
    kind: str,
    body: Mapping[str, Any],
    *,
    product_names: Mapping[str, str],
    credit_type_names: Mapping[str, str],
) -> str:
    """One sentence for a package term in its stored request form (relative offsets)."""
    describe = _DESCRIBE_BY_KIND.get(kind)
    if describe is None:
        return KIND_WORDS.get(kind, kind)
    return describe(kind, body, _Names(product_names, credit_type_names))
