"""Reads for the catalog: billable metrics, products, rate cards and their rates.

Each selector owns its joins and prefetches so a page of N rows costs a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from config.core.errors import NotFound
from config.core.ids import parse_uuid
from config.core.instants import parse_instant
from packages_app.models import (
    AliasAssignment,
    BillableMetric,
    CreditType,
    Package,
    PackageTerm,
    Product,
    Rate,
    RateCard,
)
from packages_app.selectors.aliases import rate_card_for_alias

# Product fields that make up a product's state (ProductListItemState minus the audit fields).
PRODUCT_STATE_FIELDS = (
    "name",
    "billable_metric_id",
    "composite_product_ids",
    "composite_tags",
    "exclude_free_usage",
    "include_composite_spend",
    "is_refundable",
    "netsuite_internal_item_id",
    "netsuite_overage_item_id",
    "presentation_group_key",
    "pricing_group_key",
    "quantity_conversion",
    "quantity_rounding",
    "tags",
)


def product_state_split(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A product's create body split in two: (its state fields, everything else)."""
    state = {key: value for key, value in data.items() if key in PRODUCT_STATE_FIELDS}
    rest = {key: value for key, value in data.items() if key not in PRODUCT_STATE_FIELDS}
    return state, rest


def get_or_not_found(queryset: QuerySet, object_id: Any, *, what: str, field: str):
    """The row of `queryset` with this id, or NotFound ("{what} {id} not found") naming `field`:
    a malformed id is simply not found."""
    pk = parse_uuid(object_id)
    found = queryset.filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise NotFound(f"{what} {object_id} not found", field=field)
    return found


# Billable metrics ---------------------------------------------------------------------------


def billable_metric_get(*, billable_metric_id: Any, field: str = "id") -> BillableMetric:
    return get_or_not_found(
        BillableMetric.objects.all(), billable_metric_id, what="Billable metric", field=field
    )


def billable_metric_list(*, include_archived: bool = False) -> QuerySet[BillableMetric]:
    metrics = BillableMetric.objects.all()
    return metrics if include_archived else metrics.not_archived()


# Products -----------------------------------------------------------------------------------


def product_get(*, product_id: Any, field: str = "id") -> Product:
    return get_or_not_found(Product.objects.all(), product_id, what="Product", field=field)


def product_list(*, archive_filter: str = "NOT_ARCHIVED") -> QuerySet[Product]:
    return Product.objects.by_archive_filter(archive_filter)


def _instant(value: str | dt.datetime) -> dt.datetime:
    return parse_instant(value)


def product_initial_state(product: Product) -> dict[str, Any]:
    """The product as created: name, type-specific fields, who and when."""
    initial = product.details.get("initial", {})
    state = {key: initial[key] for key in PRODUCT_STATE_FIELDS if key in initial}
    state["name"] = initial.get("name", product.name)
    state["created_at"] = product.created_at
    state["created_by"] = product.created_by
    return state


def _updates_in(details: dict[str, Any]) -> list[dict[str, Any]]:
    updates = []
    for update in details.get("updates", []):
        update = dict(update)
        update["created_at"] = _instant(update["created_at"])
        update["starting_at"] = _instant(update["starting_at"])
        updates.append(update)
    return sorted(updates, key=lambda u: (u["starting_at"], u["created_at"]))


def product_updates(product: Product) -> list[dict[str, Any]]:
    """Scheduled updates, oldest effective first; datetimes parsed."""
    return _updates_in(product.details)


def product_name_at(
    details: dict[str, Any], name: str, at: dt.datetime
) -> tuple[str, dt.datetime | None]:
    """(the product's name at `at`, the instant a scheduled update next renames it or None).

    From a product's `details` and `name` column (the fallback for rows made without history),
    so callers that read those two columns need no model instance.
    """
    current = details.get("initial", {}).get("name", name)
    for update in _updates_in(details):
        if "name" not in update or update["name"] == current:
            continue
        if update["starting_at"] > at:
            return current, update["starting_at"]
        current = update["name"]
    return current, None


def product_state_at(product: Product, at: dt.datetime) -> dict[str, Any]:
    """The initial state with every update effective at `at` applied, in effect order."""
    state = product_initial_state(product)
    for update in product_updates(product):
        if update["starting_at"] > at:
            break
        state.update({key: update[key] for key in PRODUCT_STATE_FIELDS if key in update})
        state["created_at"] = update["created_at"]
        state["created_by"] = update["created_by"]
        state["starting_at"] = update["starting_at"]
    return state


# Rate cards ---------------------------------------------------------------------------------


def _aliases_in_force() -> Prefetch:
    return Prefetch(
        "alias_assignments",
        queryset=AliasAssignment.objects.filter(superseded_at__isnull=True)
        .select_related("alias_name")
        .order_by("starting_at", "id"),
        to_attr="aliases_in_force",
    )


def rate_card_queryset() -> QuerySet[RateCard]:
    """Rate cards with what their wire form shows: fiat credit type and alias schedule."""
    return RateCard.objects.select_related("fiat_credit_type").prefetch_related(_aliases_in_force())


def rate_card_get(*, rate_card_id: Any, field: str = "id", for_update: bool = False) -> RateCard:
    """The card with its wire-form relations, or (`for_update`) the row, locked, with its fiat
    credit type."""
    queryset = (
        RateCard.objects.select_related("fiat_credit_type").select_for_update(of=("self",))
        if for_update
        else rate_card_queryset()
    )
    return get_or_not_found(queryset, rate_card_id, what="Rate card", field=field)


def rate_card_list(*, archive_filter: str = "NOT_ARCHIVED") -> QuerySet[RateCard]:
    return rate_card_queryset().by_archive_filter(archive_filter)


def credit_type_names(rate_cards: Iterable[RateCard]) -> dict[str, str]:
    """Names of the custom credit types the cards' conversions mention, in one query."""
    ids = {
        conversion["custom_credit_type_id"]
        for card in rate_cards
        for conversion in card.details.get("credit_type_conversions", [])
    }
    if not ids:
        return {}
    return {
        str(pk): name
        for pk, name in CreditType.objects.filter(pk__in=ids).values_list("pk", "name")
    }


def _selector_condition(selector: dict[str, Any], tagged_product_ids: set) -> Q:
    condition = Q()
    if "product_id" in selector:
        condition &= Q(product_id=selector["product_id"])
    if "pricing_group_values" in selector:
        condition &= Q(pricing_group_values=selector["pricing_group_values"])
    if "partial_pricing_group_values" in selector:
        condition &= Q(pricing_group_values__contains=selector["partial_pricing_group_values"])
    if "billing_frequency" in selector:
        condition &= Q(details__billing_frequency=selector["billing_frequency"])
    if "product_tags" in selector:
        condition &= Q(product_id__in=tagged_product_ids)
    return condition


def _products_tagged(rate_card: RateCard, tags: set[str], at: dt.datetime) -> set:
    """Products on the card whose tags, as of `at`, include any of `tags`.

    Tags may change through scheduled product updates, so they are read from the product state
    rather than filtered in SQL.
    """
    products = Product.objects.filter(rates__rate_card=rate_card).distinct()
    return {
        product.id
        for product in products
        if tags & set(product_state_at(product, at).get("tags") or [])
    }


def rates_matching(
    *,
    rate_card: RateCard,
    selectors: list[dict[str, Any]] | None = None,
    tags_at: dt.datetime | None = None,
) -> QuerySet[Rate]:
    """Rates of the card (as added, whatever their window) matching ANY of `selectors`.

    Within one selector every given key must match; no selectors means every rate. Product tags
    are read as of `tags_at` (now if None). Which of them is in force when is the schedule's
    business (selectors/rate_schedule.py).
    """
    rates = Rate.objects.filter(rate_card=rate_card).select_related("product", "credit_type")
    # An empty selector matches every rate, and so does the OR of it with anything else.
    if selectors and all(selectors):
        tags = {tag for selector in selectors for tag in selector.get("product_tags", [])}
        tagged = _products_tagged(rate_card, tags, tags_at or timezone.now()) if tags else set()
        any_selector = Q()
        for selector in selectors:
            any_selector |= _selector_condition(selector, tagged)
        rates = rates.filter(any_selector)
    return rates


def unpriced_subscriptions(
    *,
    rate_card: RateCard | None,
    subscriptions: Iterable[tuple[Any, str]],
    product_names: dict[str, str] | None = None,
) -> list[str]:
    """Names of the products of `subscriptions` ((product id, billing frequency) pairs) that
    `rate_card` has no rate for: a contract would bill them at no price. A rate prices a
    subscription when it is for its product and for its billing frequency (or for none). With
    no rate card every subscription is unpriced. Two queries at most (one with `product_names`,
    {product id: name}, when the caller already has them)."""
    wanted = [(str(product_id), frequency or "") for product_id, frequency in subscriptions]
    if not wanted:
        return []
    priced: set[tuple[str, str]] = set()
    if rate_card is not None:
        rows = Rate.objects.filter(
            rate_card=rate_card, product_id__in={product_id for product_id, _ in wanted}
        ).values_list("product_id", "details")
        priced = {
            (str(product_id), (details or {}).get("billing_frequency") or "")
            for product_id, details in rows
        }
    missing = [
        product_id
        for product_id, frequency in wanted
        if (product_id, frequency) not in priced and (product_id, "") not in priced
    ]
    if not missing:
        return []
    if product_names is None or any(pk not in product_names for pk in missing):
        rows = Product.objects.filter(pk__in=missing).values_list("id", "name")
        product_names = {str(pk): name for pk, name in rows}
    return sorted({product_names.get(pk, pk) for pk in missing})


def body_subscriptions(body: dict) -> list[tuple[Any, str]]:
    """(product id, billing frequency) of each subscription of a package-create body."""
    return [
        (rate.get("product_id"), rate.get("billing_frequency") or "")
        for rate in ((s.get("subscription_rate") or {}) for s in body.get("subscriptions") or [])
        if rate.get("product_id")
    ]


def package_unpriced_subscriptions(
    *, package: Package, terms: Iterable[PackageTerm], at
) -> list[str]:
    """The package's subscriptions its rate card (the alias resolved as of `at`) has no price
    for; asked by the builder on save and by the package page."""
    subscriptions = [
        (term.product_id, (term.body.get("subscription_rate") or {}).get("billing_frequency"))
        for term in terms
        if term.kind == PackageTerm.Kind.SUBSCRIPTION and term.product_id
    ]
    if not subscriptions:
        return []
    rate_card = package.rate_card
    if rate_card is None and package.rate_card_alias:
        rate_card = rate_card_for_alias(name=package.rate_card_alias, at=at)
    return unpriced_subscriptions(rate_card=rate_card, subscriptions=subscriptions)


def product_usage(*, product: Product) -> dict[str, list]:
    """What still names the product, for the archive warning: rate cards with a rate for it
    and packages with a term on it (not archived ones), by name. Two queries."""
    rate_cards = (
        RateCard.objects.filter(rates__product=product, archived_at__isnull=True)
        .distinct()
        .order_by("name")
        .values_list("id", "name")
    )
    packages = (
        Package.objects.filter(terms__product=product, archived_at__isnull=True)
        .distinct()
        .order_by("name")
        .values_list("id", "name")
    )
    return {"rate_cards": list(rate_cards), "packages": list(packages)}


def billable_metric_usage(*, billable_metric: BillableMetric) -> list[tuple]:
    """(id, name) of the products (not archived) that count usage with the metric. One query."""
    return list(
        Product.objects.filter(billable_metric=billable_metric, archived_at__isnull=True)
        .order_by("name")
        .values_list("id", "name")
    )
