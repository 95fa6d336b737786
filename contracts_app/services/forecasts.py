"""What a customer on a package would be billed, period by period: `POST /v1/packages/forecast`.

A pure computation, nothing written: the package's terms are materialised for the start by the
same functions provisioning uses (services/previews.py `materialised_package`), periods are the
usage statement schedule's (materialise.statement_boundaries, month ends clamping), prices are
the rate card's schedule in force (packages_app/selectors/rate_schedule.py) and every amount is
config/core/money.py's `line_amount`.

The rules, each stated once here:
- Subscriptions: billing periods of the subscription's billing frequency, anchored where usage
  statements are; a part period (before the anchor, after the subscription's or contract's end)
  is prorated by time when the term says `is_prorated` (the default). ADVANCE bills at the
  period's start, ARREARS at its end; both at the price in force at the period's start, times
  `initial_quantity` (1 when absent), times the override in force then.
- Overrides that target the product by `product_id`, in force at the instant priced: an
  OVERWRITE replaces the rate (the lowest `priority` first, else the first term); then one
  multiplier, the lowest (LOWEST_MULTIPLIER, the default) or the lowest `priority` (EXPLICIT).
- Scheduled charges and commit invoice schedules are charges on their dates; commits and credits
  (recurring ones per period) are grants on their access start, never charges.
- Usage: `quantity_per_month` x the months a statement period spans (a week is 12/52 of a month,
  a day 12/365), prorated by time in a part period, priced at the rate (and override) in force
  at the period's start: FLAT per unit, TIERED per tier (`size` units in each tier, the last
  unbounded), gross, before any drawdown of credits or commits. Other rate types are not priced
  (a note says which).
- `total`: the charges in the rate card's fiat credit type; every credit type's charges and
  grants are under `credit_types`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import Any

from config.core.billing_periods import period_of
from config.core.errors import ValidationFailed
from config.core.ids import parse_uuid
from config.core.instants import parse_instant
from config.core.money import exact_sum, line_amount, proration_fraction, totals_by_credit_type
from contracts_app.models import Customer
from contracts_app.services.materialise import TermRow, shift, statement_boundaries
from contracts_app.services.previews import ContractPreview, materialised_package
from contracts_app.services.provisioning import billing_provider_configuration_for
from packages_app.amounts import amount_check
from packages_app.models import USD_CENTS_ID, CreditType, Package, Product, Rate, RateCard
from packages_app.selectors.aliases import package_for_alias
from packages_app.selectors.rate_schedule import rate_schedule, schedule_key, segments_in_force

MIN_MONTHS, MAX_MONTHS, DEFAULT_MONTHS = 1, 36, 12
CHARGE_KINDS = ("subscription", "scheduled_charge", "commit_invoice", "usage")
GRANT_KINDS = ("credit_grant", "commit_grant")
GROSS_USAGE_NOTE = "Usage is priced gross: before any drawdown of credits or commits."
PRICED_RATE_TYPES = ("FLAT", "SUBSCRIPTION", "TIERED")


@dataclass
class ForecastLine:
    kind: str
    product_id: str | None
    name: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    credit_type_id: str
    term_id: str | None
    billed_at: dt.datetime
    multiplier: Decimal = Decimal(1)
    proration: Fraction = Fraction(1)
    # Billed at the end of what it charges for, on the invoice of the period that ends then.
    in_arrears: bool = False
    override_term_id: str | None = None


@dataclass
class ForecastPeriod:
    starting_at: dt.datetime
    ending_before: dt.datetime
    lines: list[ForecastLine] = field(default_factory=list)
    total: Decimal = Decimal(0)


@dataclass
class Forecast:
    package: Package
    starting_at: dt.datetime
    ending_before: dt.datetime
    fiat_credit_type_id: str
    periods: list[ForecastPeriod]
    total: Decimal
    credit_types: dict[str, dict[str, Any]]
    notes: list[str]
    rate_card: RateCard | None = None
    rate_segments: list[Rate] = field(default_factory=list)  # the rate card's schedule, read once


@dataclass
class _Span:
    """A part of a billing period [starting_at, ending_before) and the whole period it is part
    of (for proration)."""

    starting_at: dt.datetime
    ending_before: dt.datetime
    whole_starting_at: dt.datetime
    whole_ending_before: dt.datetime

    @property
    def share(self) -> Fraction:
        return proration_fraction(
            int((self.ending_before - self.starting_at).total_seconds()),
            int((self.whole_ending_before - self.whole_starting_at).total_seconds()),
        )


def _instant(value: Any) -> dt.datetime:
    return parse_instant(value)


def billing_spans(
    *,
    contract_start: dt.datetime,
    frequency: str,
    anchor: dt.datetime,
    starting_at: dt.datetime,
    ending_before: dt.datetime,
) -> list[_Span]:
    """The billing periods of `frequency` anchored at `anchor` (the usage statement schedule's
    boundaries), cut to [starting_at, ending_before), each with its whole period."""
    unit, value = period_of(frequency)
    usage = {"frequency": frequency, "billing_anchor_date": anchor}
    # One period past the end, so the last part period knows where its whole period ends.
    points = statement_boundaries(
        contract_start, None, usage, horizon=shift(ending_before, (unit, value))
    )
    spans = []
    for left, right in pairwise(points):
        if right <= starting_at or left >= ending_before:
            continue
        whole_start = shift(anchor, (unit, -value)) if left < anchor else left
        spans.append(_Span(max(left, starting_at), min(right, ending_before), whole_start, right))
    return spans


@dataclass(frozen=True)
class _Window:
    """What is forecast: [start, end), billed on periods anchored at `anchor`."""

    anchor: dt.datetime
    start: dt.datetime
    end: dt.datetime

    def spans(
        self,
        frequency: str,
        starting_at: dt.datetime | None = None,
        ending_before: dt.datetime | None = None,
    ) -> list[_Span]:
        """The billing spans of `frequency`, cut to [starting_at, ending_before) (by default,
        the window)."""
        return billing_spans(
            contract_start=self.start,
            frequency=frequency,
            anchor=self.anchor,
            starting_at=starting_at or self.start,
            ending_before=ending_before or self.end,
        )


def _months_per_period(frequency: str) -> Fraction:
    unit, value = period_of(frequency)
    if unit == "MONTHS":
        return Fraction(value)
    return Fraction(12 * value, 52) if unit == "WEEKS" else Fraction(12 * value, 365)


# --- input resolution -------------------------------------------------------------------------


def forecast_package(
    *, package_id: str | None, package_alias: str | None, at: dt.datetime
) -> Package:
    """The package by id, or the one the alias names at `at`; a 400 naming the field if none."""
    if (package_id is None) == (package_alias is None):
        raise ValidationFailed(
            "Give exactly one of package_id or package_alias", field="package_id"
        )
    if package_alias is not None:
        package = package_for_alias(name=package_alias, at=at)
        if package is None:
            raise ValidationFailed(
                f"The package alias {package_alias!r} points at no package then",
                field="package_alias",
            )
        return package
    pk = parse_uuid(package_id)
    package = Package.objects.filter(pk=pk).select_related("rate_card").first() if pk else None
    if package is None:
        raise ValidationFailed("No package has this id", field="package_id")
    return package


def _check_customer(package: Package, customer_id: str) -> None:
    """The customer must exist, be active, and pass the billing configuration check
    provisioning makes for this package."""
    pk = parse_uuid(customer_id)
    customer = Customer.objects.filter(pk=pk).first() if pk else None
    if customer is None:
        raise ValidationFailed("No customer has this id", field="customer_id")
    if customer.archived_at is not None:
        raise ValidationFailed("The customer is archived", field="customer_id")
    if package.billing_provider:
        billing_provider_configuration_for(
            customer=customer,
            billing_provider=package.billing_provider,
            delivery_method=package.delivery_method,
        )


def _usage_products(usage: Sequence[Mapping[str, Any]]) -> dict[str, Product]:
    ids = {index: parse_uuid(entry["product_id"]) for index, entry in enumerate(usage)}
    found = {
        str(product.id): product
        for product in Product.objects.filter(pk__in=[pk for pk in ids.values() if pk])
    }
    for index, pk in ids.items():
        if pk is None or str(pk) not in found:
            raise ValidationFailed("No product has this id", field=f"usage[{index}].product_id")
    return found


# --- pricing ----------------------------------------------------------------------------------


class _Pricing:
    """The rate card's schedule and the overrides, asked "what prices product P at t"."""

    def __init__(self, segments: list[Rate], overrides: list[TermRow], prioritization: str):
        self.segments = segments
        self.overrides = overrides
        self.prioritization = prioritization or "LOWEST_MULTIPLIER"
        self.unpriced: set[str] = set()  # products without a rate when asked

    def rate(self, product_id: str, at: dt.datetime, billing_frequency: str = "") -> Rate | None:
        key = schedule_key(
            product_id=product_id,
            pricing_group_values=None,
            details={"billing_frequency": billing_frequency},
        )
        for segment in segments_in_force(self.segments, at):
            if (
                schedule_key(
                    product_id=segment.product_id,
                    pricing_group_values=segment.pricing_group_values,
                    details=segment.details,
                )
                == key
            ):
                return segment
        return None

    def overrides_at(self, product_id: str, at: dt.datetime) -> list[TermRow]:
        return [
            row
            for row in self.overrides
            if row.starting_at is not None
            and row.starting_at <= at
            and (row.ending_before is None or at < row.ending_before)
            and any(
                str(s.get("product_id")) == product_id
                for s in row.body.get("override_specifiers") or []
            )
        ]

    def price(
        self, product_id: str, at: dt.datetime, billing_frequency: str = ""
    ) -> tuple[dict[str, Any] | None, Decimal, str | None]:
        """(rate as {rate_type, price, tiers, credit_type_id}, multiplier, override term id)."""
        rate = self.rate(product_id, at, billing_frequency)
        priced = (
            {
                "rate_type": rate.rate_type,
                "price": rate.price,
                "tiers": (rate.details or {}).get("tiers"),
                "credit_type_id": str(rate.credit_type_id),
            }
            if rate is not None
            else None
        )
        overrides = self.overrides_at(product_id, at)
        term_id = None
        overwrites = [row for row in overrides if _override_type(row) == "OVERWRITE"]
        if overwrites:
            chosen = min(overwrites, key=_priority)
            overwrite = chosen.body["overwrite_rate"]
            priced = {
                "rate_type": overwrite["rate_type"],
                "price": overwrite.get("price"),
                "tiers": overwrite.get("tiers"),
                "credit_type_id": str(
                    overwrite.get("credit_type_id")
                    or (priced or {}).get("credit_type_id")
                    or USD_CENTS_ID
                ),
            }
            term_id = _term_id(chosen)
        multipliers = [row for row in overrides if _override_type(row) == "MULTIPLIER"]
        multiplier = Decimal(1)
        if multipliers:
            if self.prioritization == "EXPLICIT":
                chosen = min(multipliers, key=_priority)
            else:
                chosen = min(multipliers, key=lambda row: Decimal(row.body["multiplier"]))
            multiplier = Decimal(chosen.body["multiplier"])
            term_id = _term_id(chosen)
        if priced is None:
            self.unpriced.add(product_id)
        return priced, multiplier, term_id


def _override_type(row: TermRow) -> str:
    body = row.body
    if body.get("type"):
        return body["type"]
    if body.get("overwrite_rate"):
        return "OVERWRITE"
    return "MULTIPLIER" if body.get("multiplier") is not None else ""


def _priority(row: TermRow) -> Decimal:
    priority = row.body.get("priority")
    return Decimal(priority) if priority is not None else Decimal("Infinity")


def _term_id(row: TermRow) -> str | None:
    return str(row.package_term_id) if row.package_term_id else None


def _tier_quantities(tiers: Iterable[Mapping[str, Any]], quantity: Decimal):
    """(tier price, units in the tier) for `quantity` units: each tier holds `size` units, the
    last one (no size) the rest."""
    remaining = quantity
    for tier in tiers:
        if remaining <= 0:
            break
        size = tier.get("size")
        take = remaining if size is None else min(remaining, Decimal(size))
        yield Decimal(tier["price"]), take
        remaining -= take


# --- the forecast -----------------------------------------------------------------------------


def package_forecast(
    *,
    starting_at: dt.datetime,
    package_id: str | None = None,
    package_alias: str | None = None,
    months: int = DEFAULT_MONTHS,
    usage: Sequence[Mapping[str, Any]] = (),
    customer_id: str | None = None,
) -> Forecast:
    """What a customer provisioned on the package at `starting_at` would be billed over the
    next `months` months (validated input; Decimal quantities). Writes nothing."""
    if not MIN_MONTHS <= months <= MAX_MONTHS:
        raise ValidationFailed(f"months must be from {MIN_MONTHS} to {MAX_MONTHS}", field="months")
    for index, entry in enumerate(usage):
        amount_check(entry["quantity_per_month"], field=f"usage[{index}].quantity_per_month")
    package = forecast_package(package_id=package_id, package_alias=package_alias, at=starting_at)
    if customer_id is not None:
        _check_customer(package, customer_id)
    usage_products = _usage_products(usage) if usage else {}
    window_end = shift(starting_at, ("MONTHS", months))
    # An open-ended package is materialised a year (the longest billing period) past the
    # window, so no term is cut at the window's end: a period billed in advance inside the
    # window is billed whole.
    preview = materialised_package(
        package, starting_at, materialise_until=shift(window_end, ("YEARS", 1))
    )
    return _priced(preview, window_end=window_end, usage=usage, usage_products=usage_products)


def preview_forecast(
    preview: ContractPreview,
    *,
    months: int = DEFAULT_MONTHS,
    usage: Sequence[Mapping[str, Any]] = (),
) -> Forecast:
    """The forecast of a contract already materialised (the builder's rolled-back preview of a
    package not saved yet): the same pricing as `package_forecast`, over `months` from the
    preview's start. Writes nothing."""
    if not MIN_MONTHS <= months <= MAX_MONTHS:
        raise ValidationFailed(f"months must be from {MIN_MONTHS} to {MAX_MONTHS}", field="months")
    for index, entry in enumerate(usage):
        amount_check(entry["quantity_per_month"], field=f"usage[{index}].quantity_per_month")
    usage_products = _usage_products(usage) if usage else {}
    window_end = shift(preview.starting_at, ("MONTHS", months))
    return _priced(preview, window_end=window_end, usage=usage, usage_products=usage_products)


def forecast_usage_products(forecast: Forecast) -> list[Product]:
    """The usage products the forecast's rate card prices during the forecast (the "expected
    usage" a page asks for), by name: one query (none without rates)."""
    ids = {
        segment.product_id
        for segment in forecast.rate_segments
        if segment.rate_type in ("FLAT", "TIERED")
    }
    if not ids:
        return []
    return list(Product.objects.filter(id__in=ids, type="USAGE").order_by("name", "id"))


# --- the money of a move (the cohort-migration preview) ---------------------------------------

MOVE_MONEY_MONTHS = 12


def charges_in_window(
    *,
    package: Package,
    contract_start: dt.datetime,
    contract_end: dt.datetime | None,
    from_at: dt.datetime,
    months: int = MOVE_MONEY_MONTHS,
    terms: Sequence[Any] | None = None,
) -> dict[str, Decimal]:
    """Charges per credit type that a contract on `package` from `contract_start` (to
    `contract_end`, when it has one) is billed in the `months` from `from_at`: the package's
    terms and rate card, no usage, the forecast's rules (subscriptions, scheduled charges,
    commit invoices; grants are not charges). A line billed in advance at `from_at` counts,
    one billed in arrears then does not (it charges for the time before). `terms`: the
    package's terms when the caller already has them (one query less)."""
    until = shift(from_at, ("MONTHS", months))
    end = min(until, contract_end) if contract_end is not None else until
    if end <= from_at:
        return {}
    preview = materialised_package(
        package, contract_start, terms=terms, materialise_until=shift(end, ("YEARS", 1))
    )
    if contract_end is not None and (
        preview.ending_before is None or contract_end < preview.ending_before
    ):
        preview.ending_before = contract_end
    forecast = _priced(preview, window_end=end, usage=(), usage_products={}, names=False)
    return money_plain(
        totals_by_credit_type(
            (line.credit_type_id, line.amount)
            for period in forecast.periods
            for line in period.lines
            if line.kind in CHARGE_KINDS
            and (line.billed_at > from_at if line.in_arrears else line.billed_at >= from_at)
        )
    )


def money_plain(amounts: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """The same amounts without trailing zeros (a rate stored with 20 places prices 10000 as
    10000.000…): equal values, written as a person would."""
    return {
        credit_type_id: amount.quantize(Decimal(1))
        if amount == amount.to_integral_value()
        else amount.normalize()
        for credit_type_id, amount in amounts.items()
    }


def money_difference(
    before: Mapping[str, Decimal], after: Mapping[str, Decimal]
) -> dict[str, Decimal]:
    """after - before per credit type (a credit type on one side only counts 0 on the other)."""
    return money_plain(
        {
            credit_type_id: exact_sum(
                [after.get(credit_type_id, Decimal(0)), -before.get(credit_type_id, Decimal(0))]
            )
            for credit_type_id in dict.fromkeys([*before, *after])
        }
    )


def money_scaled(
    sums: Mapping[str, Decimal], *, population: int, sample_size: int
) -> dict[str, Decimal]:
    """A sample's sums per credit type scaled to the population it was drawn from: sum x
    population / sample_size, through line_amount (exact when the sample is everyone, else
    rounded once to PRORATED_PLACES)."""
    if not sample_size:
        return {credit_type_id: Decimal(0) for credit_type_id in sums}
    share = Fraction(1) if population == sample_size else Fraction(1, sample_size)
    quantity = 1 if population == sample_size else population
    return money_plain(
        {
            credit_type_id: line_amount(amount, quantity, proration=share)
            for credit_type_id, amount in sums.items()
        }
    )


def _priced(
    preview: ContractPreview,
    *,
    window_end: dt.datetime,
    usage: Sequence[Mapping[str, Any]],
    usage_products: Mapping[str, Product],
    names: bool = True,
) -> Forecast:
    start = preview.starting_at
    end = min(window_end, preview.ending_before) if preview.ending_before else window_end
    rate_card = preview.rate_card
    fiat = str(rate_card.fiat_credit_type_id) if rate_card else str(USD_CENTS_ID)
    segments = (
        rate_schedule(rate_card=rate_card, starting_at=start, ending_before=end)
        if rate_card
        else []
    )
    pricing = _Pricing(
        segments,
        [row for row in preview.rows if row.kind == "override"],
        preview.package.multiplier_override_prioritization,
    )
    product_names = {
        str(term.product_id): term.product.name for term in preview.terms if term.product_id
    }
    product_names.update({pk: product.name for pk, product in usage_products.items()})
    schedule = preview.usage_statement_schedule
    frequency = schedule.get("frequency") or "MONTHLY"
    window = _Window(_instant(schedule.get("billing_anchor_date") or start), start, end)
    periods = [
        ForecastPeriod(span.starting_at, span.ending_before) for span in window.spans(frequency)
    ]
    notes = [GROSS_USAGE_NOTE]
    lines: list[ForecastLine] = []
    for row in preview.rows:
        lines += _term_lines(row, pricing, product_names, fiat, window)
    lines += _usage_lines(usage, pricing, product_names, window, frequency=frequency, notes=notes)
    notes += [
        f"{product_names.get(product_id, product_id)}: no rate in force on the rate card for "
        "some periods; nothing is charged for it then"
        for product_id in sorted(pricing.unpriced)
    ]
    for line in lines:
        period = _period_of(periods, line)
        if period is not None:
            period.lines.append(line)
    for period in periods:
        period.lines.sort(key=lambda line: (line.billed_at, LINE_KIND_ORDER[line.kind]))
        period.total = exact_sum(
            line.amount
            for line in period.lines
            if line.kind in CHARGE_KINDS and line.credit_type_id == fiat
        )
    return Forecast(
        package=preview.package,
        starting_at=start,
        ending_before=end,
        fiat_credit_type_id=fiat,
        periods=periods,
        total=exact_sum(period.total for period in periods),
        credit_types=_credit_type_totals(
            [line for period in periods for line in period.lines], fiat, names=names
        ),
        notes=notes,
        rate_card=rate_card,
        rate_segments=segments,
    )


def _credit_type_totals(
    lines: list[ForecastLine], fiat: str, *, names: bool = True
) -> dict[str, dict[str, Any]]:
    """Charges and grants per credit type (the fiat one first), with the credit type's name
    (`names`: one query)."""
    charges = totals_by_credit_type(
        (line.credit_type_id, line.amount) for line in lines if line.kind in CHARGE_KINDS
    )
    grants = totals_by_credit_type(
        (line.credit_type_id, line.amount) for line in lines if line.kind in GRANT_KINDS
    )
    ids = list(dict.fromkeys([fiat, *charges, *grants]))
    found = (
        {
            str(pk): name
            for pk, name in CreditType.objects.filter(
                pk__in=[pk for pk in map(parse_uuid, ids) if pk]
            ).values_list("id", "name")
        }
        if names
        else {}
    )
    return {
        credit_type_id: {
            "name": found.get(credit_type_id, ""),
            "charges": charges.get(credit_type_id, Decimal(0)),
            "grants": grants.get(credit_type_id, Decimal(0)),
        }
        for credit_type_id in ids
    }


LINE_KIND_ORDER = {
    kind: index
    for index, kind in enumerate(
        (
            "subscription",
            "scheduled_charge",
            "commit_invoice",
            "usage",
            "commit_grant",
            "credit_grant",
        )
    )
}


def _period_of(periods: list[ForecastPeriod], line: ForecastLine) -> ForecastPeriod | None:
    """The statement period whose invoice carries the line: the one holding its billing date,
    or, billed at the end of what it charges for (ARREARS), the period that ends then."""
    for period in periods:
        if line.in_arrears:
            if period.starting_at < line.billed_at <= period.ending_before:
                return period
        elif period.starting_at <= line.billed_at < period.ending_before:
            return period
    return None


def _term_lines(
    row: TermRow,
    pricing: _Pricing,
    product_names: Mapping[str, str],
    fiat: str,
    window: _Window,
) -> list[ForecastLine]:
    body = row.body
    product_id = str(row.product_id) if row.product_id else None
    name = body.get("name") or product_names.get(product_id or "", "")
    term_id = _term_id(row)
    if row.kind == "subscription":
        return _subscription_lines(row, pricing, name, fiat, window)
    lines = []

    def charge(kind: str, item: Mapping[str, Any], credit_type_id: Any, at: Any) -> ForecastLine:
        if item.get("amount") is not None:
            quantity, unit_price = Decimal(1), Decimal(item["amount"])
        else:
            quantity = Decimal(item.get("quantity", 1))
            unit_price = Decimal(item.get("unit_price", 0))
        return ForecastLine(
            kind=kind,
            product_id=product_id,
            name=name,
            quantity=quantity,
            unit_price=unit_price,
            amount=line_amount(unit_price, quantity),
            credit_type_id=str(credit_type_id or fiat),
            term_id=term_id,
            billed_at=_instant(at),
        )

    if row.kind == "scheduled_charge":
        schedule = body.get("schedule") or {}
        for item in schedule.get("schedule_items") or []:
            lines.append(
                charge("scheduled_charge", item, schedule.get("credit_type_id"), item["timestamp"])
            )
    elif row.kind in ("commit", "credit"):
        access = body.get("access_schedule") or {}
        for item in access.get("schedule_items") or []:
            lines.append(
                charge(
                    f"{row.kind}_grant",
                    item,
                    access.get("credit_type_id") or USD_CENTS_ID,
                    item["starting_at"],
                )
            )
        invoices = body.get("invoice_schedule") or {}
        if not invoices.get("do_not_invoice"):
            for item in invoices.get("schedule_items") or []:
                lines.append(
                    charge(
                        "commit_invoice", item, invoices.get("credit_type_id"), item["timestamp"]
                    )
                )
    return lines


def _subscription_lines(
    row: TermRow,
    pricing: _Pricing,
    name: str,
    fiat: str,
    window: _Window,
) -> list[ForecastLine]:
    start, end = window.start, window.end
    body = row.body
    rate = body.get("subscription_rate") or {}
    frequency = rate.get("billing_frequency") or "MONTHLY"
    product_id = str(rate.get("product_id"))
    in_arrears = body.get("collection_schedule") == "ARREARS"
    prorated = (body.get("proration") or {}).get("is_prorated", True)
    quantity = Decimal(body.get("initial_quantity", 1))
    sub_start = row.starting_at or start
    # Periods are cut at the subscription's end only: one that runs past the forecast's end is
    # still billed in full when it is billed in advance inside the forecast.
    unit, value = period_of(frequency)
    sub_end = min(row.ending_before or end, shift(end, (unit, value)))
    lines = []
    for span in window.spans(frequency, sub_start, sub_end):
        billed_at = span.ending_before if in_arrears else span.starting_at
        if not (start < billed_at <= end if in_arrears else start <= billed_at < end):
            continue
        priced, multiplier, override_id = pricing.price(product_id, span.starting_at, frequency)
        if priced is None or priced["price"] is None:
            continue
        proration = span.share if prorated else Fraction(1)
        lines.append(
            ForecastLine(
                kind="subscription",
                product_id=product_id,
                name=name,
                quantity=quantity,
                unit_price=Decimal(priced["price"]),
                amount=line_amount(
                    priced["price"], quantity, multiplier=multiplier, proration=proration
                ),
                credit_type_id=priced["credit_type_id"] or fiat,
                term_id=_term_id(row),
                billed_at=billed_at,
                multiplier=multiplier,
                proration=proration,
                in_arrears=in_arrears,
                override_term_id=override_id,
            )
        )
    return lines


def _usage_lines(
    usage: Sequence[Mapping[str, Any]],
    pricing: _Pricing,
    product_names: Mapping[str, str],
    window: _Window,
    *,
    frequency: str,
    notes: list[str],
) -> list[ForecastLine]:
    months = _months_per_period(frequency)
    lines = []
    for entry in usage:
        product_id = str(parse_uuid(entry["product_id"]))
        monthly = Decimal(entry["quantity_per_month"])
        for span in window.spans(frequency):
            priced, multiplier, override_id = pricing.price(product_id, span.starting_at)
            if priced is None:
                continue
            if priced["rate_type"] not in PRICED_RATE_TYPES:
                note = f"{product_names.get(product_id, product_id)}: {priced['rate_type']} rates are not forecast"
                if note not in notes:
                    notes.append(note)
                continue
            # Whole months of quantity when the period is whole months; else the share goes
            # into the proration, so no quantity is ever rounded.
            quantity = monthly * (months.numerator if months.denominator == 1 else 1)
            proration = span.share * (1 if months.denominator == 1 else months)
            if priced["rate_type"] == "TIERED" and priced["tiers"]:
                tiers = list(_tier_quantities(priced["tiers"], quantity))
            else:
                tiers = [(Decimal(priced["price"] or 0), quantity)]
            for unit_price, units in tiers:
                lines.append(
                    ForecastLine(
                        kind="usage",
                        product_id=product_id,
                        name=product_names.get(product_id, ""),
                        quantity=units,
                        unit_price=unit_price,
                        amount=line_amount(
                            unit_price, units, multiplier=multiplier, proration=proration
                        ),
                        credit_type_id=priced["credit_type_id"],
                        term_id=None,
                        billed_at=span.ending_before,
                        in_arrears=True,
                        multiplier=multiplier,
                        proration=proration,
                        override_term_id=override_id,
                    )
                )
    return lines
