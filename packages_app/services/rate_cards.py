"""Rate cards, their rates and their alias schedules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from config.audit.services import (
    audit_record,
    changed_fields,
    queryset_update_recorded,
    stamp_recorded,
)
from config.core.errors import ValidationFailed
from config.core.ids import parse_uuid
from config.core.instants import format_day_or_minute
from packages_app.amounts import amount_check
from packages_app.models import USD_CENTS_ID, AliasName, CreditType, Product, Rate, RateCard
from packages_app.selectors.catalog import rate_card_get
from packages_app.selectors.rate_schedule import rate_schedule_key
from packages_app.services.aliases import alias_assign_many
from packages_app.services.billable_metrics import checked_save_recorded

TIERED_TYPES = (Rate.RateType.TIERED, Rate.RateType.TIERED_PERCENTAGE)
PRICED_TYPES = (Rate.RateType.FLAT, Rate.RateType.PERCENTAGE, Rate.RateType.SUBSCRIPTION)
PERCENTAGE_TYPES = (Rate.RateType.PERCENTAGE, Rate.RateType.TIERED_PERCENTAGE)
# Rate fields without a column of their own, kept in Rate.details.
RATE_DETAIL_FIELDS = (
    "tiers",
    "quantity",
    "is_prorated",
    "commit_rate",
    "custom_rate",
    "billing_frequency",
)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _credit_types(ids: set) -> dict[str, CreditType]:
    pks = {pk for pk in map(parse_uuid, ids) if pk}
    found = {str(ct.pk): ct for ct in CreditType.objects.filter(pk__in=pks)}
    if USD_CENTS_ID in pks and str(USD_CENTS_ID) not in found:
        # The default every rate card falls back on; recreated if a database flush removed it
        # (it is seeded by a data migration, and the admin never deletes it).
        found[str(USD_CENTS_ID)], _ = CreditType.objects.get_or_create(
            pk=USD_CENTS_ID, defaults={"name": "USD (cents)", "is_currency": True}
        )
    return found


def _assign_aliases(rate_card: RateCard, aliases: list[dict[str, Any]]) -> None:
    alias_assign_many(kind=AliasName.Kind.RATE_CARD, entries=aliases, rate_card=rate_card)


def _conversions(
    conversions: list[dict[str, Any]],
    *,
    fiat_id: str,
    existing: set[str],
    credit_types: dict[str, CreditType],
    field: str,
) -> list[dict[str, Any]]:
    """Validated conversions as stored: custom credit type id (str) and its fiat price."""
    stored = []
    seen = set(existing)
    for index, conversion in enumerate(conversions):
        where = f"{field}[{index}]"
        custom_id = str(parse_uuid(conversion["custom_credit_type_id"]))
        credit_type = credit_types.get(custom_id)
        if credit_type is None:
            raise ValidationFailed(
                f"Credit type {conversion['custom_credit_type_id']} does not exist",
                field=f"{where}.custom_credit_type_id",
            )
        if credit_type.archived_at is not None:
            raise ValidationFailed(
                f"Credit type {custom_id} is archived", field=f"{where}.custom_credit_type_id"
            )
        if credit_type.is_currency or custom_id == fiat_id:
            raise ValidationFailed(
                "A conversion is from a custom (non-fiat) credit type",
                field=f"{where}.custom_credit_type_id",
            )
        if custom_id in seen:
            raise ValidationFailed(
                f"A conversion for credit type {custom_id} already exists and cannot be changed",
                field=f"{where}.custom_credit_type_id",
            )
        if conversion["fiat_per_custom_credit"] <= 0:
            raise ValidationFailed(
                "fiat_per_custom_credit must be greater than 0",
                field=f"{where}.fiat_per_custom_credit",
            )
        seen.add(custom_id)
        stored.append(
            {
                "custom_credit_type_id": custom_id,
                "fiat_per_custom_credit": conversion["fiat_per_custom_credit"],
            }
        )
    return stored


@transaction.atomic
def rate_card_create(
    *,
    name: str,
    created_by: str = "",
    description: str = "",
    fiat_credit_type_id: Any = None,
    credit_type_conversions: list[dict[str, Any]] | None = None,
    custom_fields: dict[str, str] | None = None,
    aliases: list[dict[str, Any]] | None = None,
) -> RateCard:
    conversions = credit_type_conversions or []
    fiat_key = str(parse_uuid(fiat_credit_type_id) or fiat_credit_type_id or USD_CENTS_ID)
    credit_types = _credit_types(
        {fiat_key, *(item["custom_credit_type_id"] for item in conversions)}
    )
    fiat = credit_types.get(fiat_key)
    reason = None
    if fiat is None:
        reason = "does not exist"
    elif not fiat.is_currency:
        reason = "is not a fiat currency"
    elif fiat.archived_at is not None:
        reason = "is archived"
    if reason:
        raise ValidationFailed(
            f"Credit type {fiat_credit_type_id} {reason}", field="fiat_credit_type_id"
        )
    details: dict[str, Any] = {
        "credit_type_conversions": _conversions(
            conversions,
            fiat_id=fiat_key,
            existing=set(),
            credit_types=credit_types,
            field="credit_type_conversions",
        )
    }
    if custom_fields is not None:
        details["custom_fields"] = custom_fields
    rate_card = RateCard(
        name=name,
        description=description,
        fiat_credit_type=fiat,
        details=details,
        created_by=created_by,
    )
    checked_save_recorded(
        rate_card,
        action="create",
        resource_type="rate_card",
        changes={"id": rate_card.pk, "name": name},
    )
    _assign_aliases(rate_card, aliases or [])
    return rate_card


def _rate_card_for_change(rate_card_id: Any) -> RateCard:
    rate_card = rate_card_get(rate_card_id=rate_card_id, field="rate_card_id", for_update=True)
    if rate_card.archived_at is not None:
        raise ValidationFailed("The rate card is archived", field="rate_card_id")
    return rate_card


@transaction.atomic
def rate_card_update(
    *,
    rate_card_id: Any,
    name: str | None = None,
    description: str | None = None,
    add_credit_type_conversions: list[dict[str, Any]] | None = None,
    aliases: list[dict[str, Any]] | None = None,
) -> RateCard:
    """Rename, re-describe, add conversions (existing ones never change), assign aliases."""
    rate_card = _rate_card_for_change(rate_card_id)
    before = {
        "name": rate_card.name,
        "description": rate_card.description,
        "credit_type_conversions": rate_card.details.get("credit_type_conversions", []),
    }
    if name is not None:
        rate_card.name = name
    if description is not None:
        rate_card.description = description
    if add_credit_type_conversions:
        existing = rate_card.details.get("credit_type_conversions", [])
        added = _conversions(
            add_credit_type_conversions,
            fiat_id=str(rate_card.fiat_credit_type_id),
            existing={item["custom_credit_type_id"] for item in existing},
            credit_types=_credit_types(
                {item["custom_credit_type_id"] for item in add_credit_type_conversions}
            ),
            field="add_credit_type_conversions",
        )
        rate_card.details = {**rate_card.details, "credit_type_conversions": [*existing, *added]}
    checked_save_recorded(
        rate_card,
        action="update",
        resource_type="rate_card",
        changes=changed_fields(
            before,
            {
                "name": rate_card.name,
                "description": rate_card.description,
                "credit_type_conversions": rate_card.details.get("credit_type_conversions", []),
            },
        ),
    )
    _assign_aliases(rate_card, aliases or [])
    return rate_card


@transaction.atomic
def rate_card_archive(*, rate_card_id: Any) -> RateCard:
    """One-way and idempotent; contracts already on the card are untouched."""
    rate_card = rate_card_get(rate_card_id=rate_card_id, field="id", for_update=True)
    if rate_card.archived_at is None:
        stamp_recorded(rate_card, "archived_at", action="archive", resource_type="rate_card")
    return rate_card


def rate_cards_archive(*, queryset) -> int:
    """Archive every not-yet-archived rate card of `queryset` in one UPDATE (admin bulk action)."""
    return queryset_update_recorded(
        queryset.filter(archived_at__isnull=True),
        action="archive",
        resource_type="rate_card",
        archived_at=timezone.now(),
    )


# Rates --------------------------------------------------------------------------------------


def _check_tiers(tiers: list[dict[str, Any]] | None, *, field: str, percentage: bool) -> None:
    if not tiers:
        raise ValidationFailed("Tiered rates need tiers", field=field)
    for index, tier in enumerate(tiers):
        last = index == len(tiers) - 1
        amount_check(tier["price"], field=f"{field}[{index}].price")
        if percentage and tier["price"] > 1:
            raise ValidationFailed(
                "A tier price must be between 0 and 1", field=f"{field}[{index}].price"
            )
        size = tier.get("size")
        if not last and size is None:
            raise ValidationFailed(
                "Every tier but the last needs a size", field=f"{field}[{index}].size"
            )
        if size is not None and size <= 0:
            raise ValidationFailed("A tier size must be > 0", field=f"{field}[{index}].size")


def _check_price(rate_type: str, price: Decimal | None, *, field: str) -> None:
    if rate_type in PRICED_TYPES and price is None:
        raise ValidationFailed(f"{rate_type} rates need a price", field=field)
    if price is None:
        return
    if rate_type in TIERED_TYPES or rate_type == Rate.RateType.CUSTOM:
        raise ValidationFailed(f"{rate_type} rates take no price", field=field)
    amount_check(price, field=field)
    if rate_type == Rate.RateType.PERCENTAGE and price > 1:
        raise ValidationFailed("A PERCENTAGE price is a fraction between 0 and 1", field=field)


def _check_rate(rate: dict[str, Any], *, prefix: str) -> None:
    """Metronome's per-rate-type rules: which of price / tiers / quantity / custom_rate apply."""
    rate_type = rate["rate_type"]
    if rate.get("ending_before") is not None and rate["ending_before"] <= rate["starting_at"]:
        raise ValidationFailed(
            "ending_before must be after starting_at", field=_join(prefix, "ending_before")
        )
    _check_price(rate_type, rate.get("price"), field=_join(prefix, "price"))
    if rate_type in TIERED_TYPES:
        _check_tiers(
            rate.get("tiers"),
            field=_join(prefix, "tiers"),
            percentage=rate_type == Rate.RateType.TIERED_PERCENTAGE,
        )
    elif rate.get("tiers") is not None:
        raise ValidationFailed("Only tiered rates take tiers", field=_join(prefix, "tiers"))
    if rate_type == Rate.RateType.CUSTOM and not rate.get("custom_rate"):
        raise ValidationFailed("CUSTOM rates need custom_rate", field=_join(prefix, "custom_rate"))
    if rate_type != Rate.RateType.CUSTOM and rate.get("custom_rate") is not None:
        raise ValidationFailed(
            "Only CUSTOM rates take custom_rate", field=_join(prefix, "custom_rate")
        )
    if rate_type != Rate.RateType.SUBSCRIPTION:
        for name in ("quantity", "is_prorated"):
            if rate.get(name) is not None:
                raise ValidationFailed(
                    f"{name} is only valid for SUBSCRIPTION rates", field=_join(prefix, name)
                )
    if rate.get("is_prorated") is False:
        raise ValidationFailed(
            "is_prorated must be true when given", field=_join(prefix, "is_prorated")
        )
    amount_check(rate.get("quantity"), field=_join(prefix, "quantity"))
    commit_rate = rate.get("commit_rate")
    if commit_rate is not None:
        where = _join(prefix, "commit_rate")
        _check_price(commit_rate["rate_type"], commit_rate.get("price"), field=f"{where}.price")
        if commit_rate["rate_type"] in TIERED_TYPES:
            _check_tiers(
                commit_rate.get("tiers"),
                field=f"{where}.tiers",
                percentage=commit_rate["rate_type"] == Rate.RateType.TIERED_PERCENTAGE,
            )


def _build_rate(
    rate: dict[str, Any],
    *,
    rate_card: RateCard,
    products: dict[str, Product],
    credit_types: dict[str, CreditType],
    allowed_credit_types: set[str],
    prefix: str,
) -> Rate:
    _check_rate(rate, prefix=prefix)
    product = products.get(str(parse_uuid(rate["product_id"])))
    if product is None:
        raise ValidationFailed(
            f"Product {rate['product_id']} does not exist", field=_join(prefix, "product_id")
        )
    if product.archived_at is not None:
        raise ValidationFailed(
            f"Product {rate['product_id']} is archived", field=_join(prefix, "product_id")
        )
    credit_type_key = str(
        parse_uuid(rate.get("credit_type_id"))
        or rate.get("credit_type_id")
        or rate_card.fiat_credit_type_id
    )
    credit_type = credit_types.get(credit_type_key)
    if credit_type is None:
        raise ValidationFailed(
            f"Credit type {rate.get('credit_type_id')} does not exist",
            field=_join(prefix, "credit_type_id"),
        )
    if credit_type.archived_at is not None:
        raise ValidationFailed(
            f"Credit type {credit_type_key} is archived", field=_join(prefix, "credit_type_id")
        )
    if credit_type_key not in allowed_credit_types:
        raise ValidationFailed(
            "The rate card has no conversion for this credit type; add one first",
            field=_join(prefix, "credit_type_id"),
        )
    return Rate(
        rate_card=rate_card,
        product=product,
        starting_at=rate["starting_at"],
        ending_before=rate.get("ending_before"),
        entitled=rate["entitled"],
        rate_type=rate["rate_type"],
        price=rate.get("price"),
        credit_type=credit_type,
        pricing_group_values=rate.get("pricing_group_values") or {},
        details={key: rate[key] for key in RATE_DETAIL_FIELDS if rate.get(key) is not None},
    )


@transaction.atomic
def rates_add(
    *, rate_card_id: Any, rates: list[dict[str, Any]], field: str = "rates"
) -> list[Rate]:
    """Add every rate or none, in a fixed number of queries whatever the count.

    `field` prefixes error paths (`rates[3].price`); "" when there is a single rate (addRate).
    """
    rate_card = _rate_card_for_change(rate_card_id)
    products = {
        str(product.pk): product
        for product in Product.objects.filter(
            pk__in={pk for pk in (parse_uuid(rate["product_id"]) for rate in rates) if pk}
        )
    }
    allowed = {
        str(rate_card.fiat_credit_type_id),
        *(c["custom_credit_type_id"] for c in rate_card.details.get("credit_type_conversions", [])),
    }
    fiat = rate_card.fiat_credit_type  # joined to the locked card
    others = {rate["credit_type_id"] for rate in rates if rate.get("credit_type_id")}
    others.discard(str(fiat.pk))
    credit_types = {str(fiat.pk): fiat, **(_credit_types(others) if others else {})}
    built = [
        _build_rate(
            rate,
            rate_card=rate_card,
            products=products,
            credit_types=credit_types,
            allowed_credit_types=allowed,
            prefix=f"{field}[{index}]" if field else "",
        )
        for index, rate in enumerate(rates)
    ]
    held, created, replaced = _schedule(rate_card, built)
    audit_record(
        action="add_rates",
        resource_type="rate_card",
        resource_id=rate_card.pk,
        description=f"{len(created)} rate(s) added, {len(replaced)} replaced",
        changes={
            "rate_ids": [rate.pk for rate in created],
            "replaced": [_replaced_change(before, after) for before, after in replaced],
        },
    )
    return held


RATE_VALUE_FIELDS = ("ending_before", "entitled", "rate_type", "price", "credit_type_id", "details")


def _replaced_change(before: dict[str, Any], after: Rate) -> dict[str, Any]:
    return {"id": after.pk, **changed_fields(before, _values(after))}


def _values(rate: Rate) -> dict[str, Any]:
    return {name: getattr(rate, name) for name in RATE_VALUE_FIELDS}


def _schedule(rate_card: RateCard, built: list[Rate]) -> tuple[list[Rate], list[Rate], list[tuple]]:
    """Write `built` into the card's schedule (selectors/rate_schedule.py reads it).

    One rate per schedule key and start: a rate with the key and start of an existing one
    replaces its values (the newest word on that start wins), an identical one is a no-op, and
    later rates in one call win over earlier ones the same way. Rates with other starts are
    added; the schedule, not the rows, decides which is in force when.

    Answers the row holding each of `built` (in its order), the rows created, and the rows
    replaced as (values before, row).
    """
    existing = {
        (rate_schedule_key(rate), rate.starting_at): rate
        for rate in Rate.objects.filter(
            rate_card=rate_card, starting_at__in={rate.starting_at for rate in built}
        )
    }
    new: dict[tuple, Rate] = {}
    replaced: dict[tuple, tuple[dict[str, Any], Rate]] = {}
    for rate in built:
        slot = (rate_schedule_key(rate), rate.starting_at)
        current = existing.get(slot)
        if current is None:
            new[slot] = rate
        elif _values(current) != _values(rate):
            before = replaced.get(slot, (_values(current), None))[0]
            for name in RATE_VALUE_FIELDS:
                setattr(current, name, getattr(rate, name))
            current.credit_type = rate.credit_type
            replaced[slot] = (before, current)
    changed = [(before, after) for before, after in replaced.values() if _values(after) != before]
    if changed:
        Rate.objects.bulk_update([after for _, after in changed], RATE_VALUE_FIELDS)
    created = Rate.objects.bulk_create(new.values())
    holders = {**existing, **new}
    return [holders[(rate_schedule_key(r), r.starting_at)] for r in built], created, changed


def rate_add(*, rate_card_id: Any, rate: dict[str, Any]) -> Rate:
    return rates_add(rate_card_id=rate_card_id, rates=[rate], field="")[0]


# Ending and replacing a rate (the rate-card page) --------------------------------------------


def _end_schedule(rate_card: RateCard, rate_id: Any, ending_before) -> tuple[Rate, list[Rate]]:
    """End, at `ending_before`, every rate of `rate_id`'s schedule key that runs past it (the
    schedule rule: a later rate would otherwise hand back to an earlier open-ended one). Rates
    scheduled to start on or after that instant are kept. Answers the rate and the rows ended."""
    rate = Rate.objects.filter(rate_card=rate_card, pk=parse_uuid(rate_id)).first()
    if rate is None:
        raise ValidationFailed(f"Rate {rate_id} is not on this rate card", field="rate_id")
    if rate.starting_at >= ending_before:
        raise ValidationFailed(
            f"This rate starts on {format_day_or_minute(rate.starting_at)}: choose a later date",
            field="ending_before",
        )
    key = rate_schedule_key(rate)
    ended = [
        row
        for row in Rate.objects.filter(
            rate_card=rate_card, product_id=rate.product_id, starting_at__lt=ending_before
        ).order_by("starting_at", "id")
        if rate_schedule_key(row) == key
        and (row.ending_before is None or row.ending_before > ending_before)
    ]
    if not ended:
        raise ValidationFailed(
            "Nothing of this rate runs past that date: it already ends by then",
            field="ending_before",
        )
    for row in ended:
        row.ending_before = ending_before
    Rate.objects.bulk_update(ended, ["ending_before"])
    return rate, ended


def _not_in_past(instant, *, field: str) -> None:
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    if instant < today:
        raise ValidationFailed(
            "Choose today or a later date: invoices already used it", field=field
        )


def _ended_record(
    rate_card: RateCard, ended: list[Rate], ending_before, *, replaced_by: Rate | None = None
) -> None:
    """Record on the card the rates a schedule end stopped (and the rate replacing them)."""
    replaced = f", replaced by {replaced_by.pk}" if replaced_by is not None else ""
    audit_record(
        action="end_rates",
        resource_type="rate_card",
        resource_id=rate_card.pk,
        description=f"{len(ended)} rate(s) ended{replaced}",
        changes={"rate_ids": [row.pk for row in ended], "ending_before": ending_before},
    )


@transaction.atomic
def rate_end(*, rate_card_id: Any, rate_id: Any, ending_before) -> list[Rate]:
    """The product's price (this rate's schedule) stops at `ending_before`; rates scheduled
    from that instant on still start. One transaction, audited on the card."""
    _not_in_past(ending_before, field="ending_before")
    rate_card = _rate_card_for_change(rate_card_id)
    _, ended = _end_schedule(rate_card, rate_id, ending_before)
    _ended_record(rate_card, ended, ending_before)
    return ended


@transaction.atomic
def rate_replace(
    *,
    rate_card_id: Any,
    rate_id: Any,
    starting_at,
    price: Decimal | None = None,
    tiers: list[dict[str, Any]] | None = None,
) -> Rate:
    """End the rate's schedule at `starting_at` and add, from there (open-ended), the same rate
    (product, pricing group, frequency, type, credit type, entitlement) with a new price or
    new tiers: the same checks as adding a rate. All or nothing."""
    _not_in_past(starting_at, field="starting_at")
    rate_card = _rate_card_for_change(rate_card_id)
    rate, ended = _end_schedule(rate_card, rate_id, starting_at)
    details = {k: v for k, v in (rate.details or {}).items() if k != "tiers"}
    new = {
        "product_id": str(rate.product_id),
        "starting_at": starting_at,
        "entitled": rate.entitled,
        "rate_type": rate.rate_type,
        "credit_type_id": str(rate.credit_type_id),
        "pricing_group_values": rate.pricing_group_values or None,
        **details,
    }
    if rate.rate_type in TIERED_TYPES:
        new["tiers"] = tiers
    else:
        new["price"] = price
    added = rate_add(rate_card_id=rate_card.pk, rate=new)
    _ended_record(rate_card, ended, starting_at, replaced_by=added)
    return added
