"""Provisioning contracts: from a package (by id or alias) or from negotiated, absolute terms.

A provision is a constant number of queries whatever the number of terms or recurrence periods:
the terms are materialised in Python (contracts_app.services.materialise) and written with one
insert (contract_terms_write). The uniqueness of `uniqueness_key` is decided by the database constraint, so two
concurrent requests with one key give one contract and one 409.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from config.audit.services import audit_record
from config.core.errors import Conflict, NotFound, ValidationFailed
from config.core.ids import parse_uuid
from config.core.instants import format_instant
from config.webhooks.services import events_record
from contracts_app.models import (
    TIMELINE_CONSTRAINT,
    BillingProviderConfiguration,
    Contract,
    Customer,
    Subscription,
)
from contracts_app.services.contract_ends import contract_end_move
from contracts_app.services.materialise import (
    KIND_FIELDS,
    TermRow,
    absolute_usage_statement_schedule,
    expand_recurring_schedule,
    json_dates,
    materialise_negotiated_terms,
    materialise_package_terms,
    new_id,
)
from contracts_app.services.term_rows import contract_terms_write
from contracts_app.services.timeline_locks import lock_timelines
from packages_app.amounts import amounts_check
from packages_app.models import Package, PackageTerm, Product, RateCard
from packages_app.selectors.aliases import package_for_alias, rate_card_for_alias
from packages_app.services.packages import package_hold_for_provisioning
from packages_app.time_offsets import add_offset

PACKAGE_SETTINGS_COPIED = (
    "spend_threshold_configuration",
    "prepaid_balance_threshold_configuration",
)


def as_utc(value: datetime | None) -> datetime | None:
    """Naive datetimes are UTC (the SDK sends naive datetimes without a zone)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


# --- shared resolution --------------------------------------------------------------------------


def billing_provider_configuration_for(
    *,
    customer: Customer,
    billing_provider: str,
    delivery_method: str = "",
    field: str = "customer_id",
) -> BillingProviderConfiguration:
    """The one active configuration of the customer matching provider (and delivery method)."""
    candidates = BillingProviderConfiguration.objects.not_archived().filter(
        customer=customer, billing_provider=billing_provider
    )
    if delivery_method:
        candidates = candidates.filter(delivery_method=delivery_method)
    return one_billing_configuration(
        list(candidates[:2]),
        billing_provider=billing_provider,
        delivery_method=delivery_method,
        field=field,
    )


class NoBillingConfiguration(ValidationFailed):
    pass


class AmbiguousBillingConfiguration(ValidationFailed):
    pass


def one_billing_configuration(
    matches: list[BillingProviderConfiguration],
    *,
    billing_provider: str,
    delivery_method: str = "",
    field: str = "customer_id",
) -> BillingProviderConfiguration:
    """The one match among a customer's active configurations matching the provider (and
    delivery method), else a 400 saying why (cohort migrations turn the two errors into their
    skip reasons)."""
    wanted = billing_provider + (f" / {delivery_method}" if delivery_method else "")
    if not matches:
        raise NoBillingConfiguration(
            f"The customer has no active billing provider configuration for {wanted}",
            field=field,
        )
    if len(matches) > 1:
        raise AmbiguousBillingConfiguration(
            f"The customer has several active billing provider configurations for {wanted}; "
            "exactly one is required",
            field=field,
        )
    return matches[0]


def package_rate_card_id(package: Package, starting_at: datetime):
    """The rate card the package names, by id or by alias as of the contract start."""
    if package.rate_card_alias:
        rate_card = rate_card_for_alias(name=package.rate_card_alias, at=starting_at)
        if rate_card is None:
            raise ValidationFailed(
                f"The package's rate_card_alias {package.rate_card_alias!r} points at no rate "
                f"card at {format_instant(starting_at)}",
                field="package_id",
            )
        return rate_card.id
    return package.rate_card_id


def _resolve_package(
    *, package: Package | None, package_alias: str | None, starting_at: datetime
) -> Package:
    if (package is None) == (package_alias is None):
        raise ValidationFailed(
            "Give exactly one of package_id or package_alias", field="package_id"
        )
    field = "package_id"
    if package_alias is not None:
        field = "package_alias"
        package = package_for_alias(name=package_alias, at=starting_at)
        if package is None:
            raise ValidationFailed(
                f"The package alias {package_alias!r} points at no package at "
                f"{format_instant(starting_at)}",
                field=field,
            )
    assert package is not None
    if package_hold_for_provisioning(package=package) is not None:
        raise ValidationFailed("Archived packages cannot be used for new contracts", field=field)
    return package


def _chain(
    *,
    customer: Customer,
    starting_at: datetime,
    subscription: Subscription | None,
    transition: dict | None,
) -> tuple[Subscription, Contract | None]:
    """The subscription the new contract joins, and the contract it renews (if any).

    A given `subscription` is locked by the caller (the schedule services). For a renewal the
    renewed contract's subscription row is locked first, then the contract: the order the
    schedule services lock in, so concurrent writers of one timeline queue up, never deadlock.
    """
    previous = None
    if transition:
        from_id = parse_uuid(transition.get("from_contract_id"))
        if from_id:
            locked = lock_timelines([from_id], select_related=("subscription",)).get(from_id)
            if locked is not None and locked.customer_id == customer.id:
                previous = locked
        if previous is None:
            raise NotFound(
                "transition.from_contract_id names no contract of this customer",
                field="transition.from_contract_id",
            )
        if previous.archived_at is not None:
            raise ValidationFailed(
                "An archived contract cannot be renewed", field="transition.from_contract_id"
            )
        if starting_at <= previous.starting_at:
            raise ValidationFailed(
                "The new contract must start after the contract it renews starts",
                field="starting_at",
            )
    if subscription is not None:
        if subscription.customer_id != customer.id:
            raise ValidationFailed(
                "The subscription belongs to another customer", field="customer_id"
            )
    elif previous is not None and previous.subscription_id is not None:
        subscription = previous.subscription
    else:
        subscription = Subscription.objects.create(customer=customer)
    return subscription, previous


def transition_link(previous: Contract, contract: Contract, transition: dict) -> dict:
    """Record on the successor the transition it was created with and its link to `previous`;
    the link, which the caller appends to `previous`'s transitions when it ends it."""
    link = {
        "from_contract_id": str(previous.id),
        "to_contract_id": str(contract.id),
        "type": transition.get("type") or "RENEWAL",
    }
    contract.settings["transition"] = transition
    contract.settings["transitions"] = [link]
    return link


def _renew(previous: Contract, contract: Contract, link: dict) -> None:
    """Link the renewed contract to its successor and end it where the successor starts (its
    terms clipped with it), before the successor is written: the subscription's timeline
    constraint is checked on every statement."""
    previous.settings["transitions"] = [*previous.settings.get("transitions", []), link]
    if previous.ending_before is None or previous.ending_before > contract.starting_at:
        contract_end_move(contract=previous, ending_before=contract.starting_at)
    else:
        previous.save(update_fields=["settings"])
    if previous.subscription_id != contract.subscription_id:  # renewing a contract of no chain
        previous.subscription = contract.subscription
        previous.save(update_fields=["subscription"])
    audit_record(
        action="transition",
        resource_type="contract",
        resource_id=previous.pk,
        description=f"{link['type'].capitalize()}: followed by contract {contract.id}",
        changes={"to_contract_id": contract.id, "type": link["type"]},
    )


def _contract_insert(
    contract: Contract,
    rows: list[TermRow],
    *,
    subscription: Subscription | None,
    transition: dict | None,
) -> Contract:
    if contract.ending_before is not None and contract.ending_before <= contract.starting_at:
        raise ValidationFailed("ending_before must be after starting_at", field="ending_before")
    subscription, previous = _chain(
        customer=contract.customer,
        starting_at=contract.starting_at,
        subscription=subscription,
        transition=transition,
    )
    contract.subscription = subscription
    contract.settings.setdefault("initial_ending_before", format_instant(contract.ending_before))
    if previous is not None:
        assert transition is not None
        _renew(previous, contract, transition_link(previous, contract, transition))
    # No savepoint: a conflict raises Conflict out of the caller's atomic block, which rolls
    # the whole provision back (subscription and renewed contract included).
    try:
        contract.save(force_insert=True)
    except IntegrityError as exc:
        if "contract_uniqueness_key" in str(exc):
            raise Conflict(
                "A contract with this uniqueness_key already exists for this customer",
                field="uniqueness_key",
            ) from None
        if TIMELINE_CONSTRAINT in str(exc):
            raise Conflict(
                "The contract overlaps another contract of its subscription",
                field="starting_at",
            ) from None
        raise
    contract_terms_write(contract=contract, rows=rows)
    audit_record(
        action="create",
        resource_type="contract",
        resource_id=contract.pk,
        changes={
            "id": contract.pk,
            "customer_id": contract.customer_id,
            "package_id": contract.package_id,
            "subscription_id": contract.subscription_id,
            "starting_at": contract.starting_at,
            "ending_before": contract.ending_before,
        },
    )
    events_record("contract.created", {"id": contract.pk, "customer_id": contract.customer_id})
    return contract


# --- from a package -----------------------------------------------------------------------------


def package_contract_build(
    *,
    customer_id,
    package: Package,
    package_terms: Iterable[PackageTerm],
    starting_at: datetime,
    rate_card_id,
    configuration: BillingProviderConfiguration | None,
    ending_before: datetime | None = None,
    override_ending_before: bool = False,
    uniqueness_key: str | None = None,
    custom_fields: dict | None = None,
    created_by: str = "",
    settings_extra: dict | None = None,
    materialise=materialise_package_terms,
) -> tuple[Contract, list[TermRow]]:
    """The unsaved contract a package gives at `starting_at`, and its materialised term rows:
    what contract_provision inserts for one contract and a cohort-migration batch for many
    (one path). The package, its rate card and the billing configuration are resolved.
    `materialise` is materialise_package_terms, or a batch's memo of it (one computation per
    package and window, copied with fresh ids: cohort_migration_batches.MaterialiseOnce)."""
    if override_ending_before or ending_before is not None:
        end = ending_before
    elif package.duration_unit:
        end = add_offset(starting_at, package.duration_unit, package.duration_value)
    else:
        end = None
    usage = absolute_usage_statement_schedule(
        starting_at, (package.settings or {}).get("usage_statement_schedule")
    )
    rows = materialise(
        package_terms,
        contract_start=starting_at,
        contract_end=end,
        usage_frequency=usage["frequency"],
    )
    settings: dict[str, Any] = {
        "usage_statement_schedule": usage,
        "initial_ending_before": format_instant(end),
    }
    for key in PACKAGE_SETTINGS_COPIED:
        if (package.settings or {}).get(key) is not None:
            settings[key] = package.settings[key]
    if custom_fields:
        settings["custom_fields"] = custom_fields
    settings.update(settings_extra or {})
    contract = Contract(
        customer_id=customer_id,
        package=package,
        rate_card_id=rate_card_id,
        billing_provider_configuration=configuration,
        name=package.contract_name or package.name,
        starting_at=starting_at,
        ending_before=end,
        net_payment_terms_days=package.net_payment_terms_days,
        multiplier_override_prioritization=package.multiplier_override_prioritization,
        scheduled_charges_on_usage_invoices=package.scheduled_charges_on_usage_invoices,
        settings=settings,
        uniqueness_key=uniqueness_key,
        created_by=created_by,
    )
    return contract, rows


@transaction.atomic
def contract_provision(
    *,
    customer: Customer,
    starting_at: datetime,
    package: Package | None = None,
    package_terms: Iterable[PackageTerm] | None = None,
    package_alias: str | None = None,
    ending_before: datetime | None = None,
    override_ending_before: bool = False,
    subscription: Subscription | None = None,
    transition: dict | None = None,
    uniqueness_key: str | None = None,
    custom_fields: dict | None = None,
    created_by: str = "",
    settings_extra: dict | None = None,
) -> Contract:
    """A contract for `customer` from a package, every term materialised with absolute dates.

    `package_terms` are the terms of `package` when the caller fetched them with it
    (selectors.contracts.package_with_terms_get); else they are read here. `package_alias`
    resolves as of `starting_at`. The contract ends after the package duration
    (open-ended without one) unless `ending_before` is given, or `override_ending_before` says
    to use `ending_before` as given, None meaning open-ended.
    """
    starting_at = as_utc(starting_at)
    ending_before = as_utc(ending_before)
    if customer.archived_at is not None:
        raise ValidationFailed("The customer is archived", field="customer_id")
    package = _resolve_package(
        package=package, package_alias=package_alias, starting_at=starting_at
    )
    rate_card_id = package_rate_card_id(package, starting_at)
    configuration = None
    if package.billing_provider:
        configuration = billing_provider_configuration_for(
            customer=customer,
            billing_provider=package.billing_provider,
            delivery_method=package.delivery_method,
        )
    if package_terms is None or package_alias is not None:
        package_terms = package.terms.all()
    contract, rows = package_contract_build(
        customer_id=customer.id,
        package=package,
        package_terms=package_terms,
        starting_at=starting_at,
        ending_before=ending_before,
        override_ending_before=override_ending_before,
        rate_card_id=rate_card_id,
        configuration=configuration,
        uniqueness_key=uniqueness_key,
        custom_fields=custom_fields,
        created_by=created_by,
        settings_extra={
            **({"package_alias": package_alias} if package_alias is not None else {}),
            **(settings_extra or {}),
        },
    )
    contract.customer = customer
    return _contract_insert(contract, rows, subscription=subscription, transition=transition)


# --- negotiated (no package) ---------------------------------------------------------------------

# Top-level contract-create fields stored as given (with ids added where the response has them).
NEGOTIATED_SETTINGS = (
    "spend_threshold_configuration",
    "prepaid_balance_threshold_configuration",
    "hierarchy_configuration",
    "netsuite_sales_order_id",
    "salesforce_opportunity_id",
    "total_contract_value",
    "revenue_system_configuration",
    "reseller_royalties",
)


def _check_products(data: dict) -> dict[str, Product]:
    """Every product a negotiated term names must exist: one query for all of them."""
    wanted: dict[str, str] = {}
    for kind, field in KIND_FIELDS.items():
        for index, term in enumerate(data.get(field) or []):
            product_id = (
                (term.get("subscription_rate") or {}).get("product_id")
                if kind == "subscription"
                else term.get("product_id")
            )
            if product_id is not None:
                name = "subscription_rate.product_id" if kind == "subscription" else "product_id"
                wanted.setdefault(str(product_id), f"{field}[{index}].{name}")
    for field in ("discounts", "professional_services"):
        for index, term in enumerate(data.get(field) or []):
            wanted.setdefault(str(term["product_id"]), f"{field}[{index}].product_id")
    valid = {key: parse_uuid(key) for key in wanted}
    found = (
        {str(p.id): p for p in Product.objects.filter(id__in=[v for v in valid.values() if v])}
        if wanted
        else {}
    )
    for product_id, field in wanted.items():
        if product_id not in found:
            raise ValidationFailed(f"Unknown product {product_id}", field=field)
    return found


def _negotiated_rate_card(data: dict, starting_at: datetime) -> RateCard | None:
    if data.get("rate_card_id") and data.get("rate_card_alias"):
        raise ValidationFailed(
            "Give rate_card_id or rate_card_alias, not both", field="rate_card_id"
        )
    if data.get("rate_card_alias"):
        rate_card = rate_card_for_alias(name=data["rate_card_alias"], at=starting_at)
        if rate_card is None:
            raise ValidationFailed(
                f"The rate card alias {data['rate_card_alias']!r} points at no rate card at "
                f"{format_instant(starting_at)}",
                field="rate_card_alias",
            )
        return rate_card
    if data.get("rate_card_id"):
        rate_card_id = parse_uuid(data["rate_card_id"])
        rate_card = RateCard.objects.filter(id=rate_card_id).first() if rate_card_id else None
        if rate_card is None:
            raise NotFound("Unknown rate card", field="rate_card_id")
        return rate_card
    return None


def _negotiated_billing_configuration(
    customer: Customer, wanted: dict | None
) -> BillingProviderConfiguration | None:
    if not wanted:
        return None
    field = "billing_provider_configuration"
    if wanted.get("billing_provider_configuration_id"):
        config_id = parse_uuid(wanted["billing_provider_configuration_id"])
        config = (
            BillingProviderConfiguration.objects.not_archived()
            .filter(id=config_id, customer=customer)
            .first()
            if config_id
            else None
        )
        if config is None:
            raise ValidationFailed(
                "No active billing provider configuration of this customer has that id",
                field=f"{field}.billing_provider_configuration_id",
            )
        return config
    if not wanted.get("billing_provider"):
        raise ValidationFailed(
            "Give billing_provider_configuration_id or billing_provider (and delivery_method)",
            field=field,
        )
    return billing_provider_configuration_for(
        customer=customer,
        billing_provider=wanted["billing_provider"],
        delivery_method=wanted.get("delivery_method") or "",
        field=field,
    )


def stored_with_ids(
    items: list[dict] | None, products: dict[str, Product], field: str
) -> list[dict]:
    """Discounts / professional services as stored: a server id on each (and on each schedule
    item), and the product's name, which the discount response shows. Shared with contract
    edits (`add_discounts`, ...)."""
    out = []
    for index, item in enumerate(items or []):
        item = dict(item)
        if item.get("schedule"):
            item["schedule"] = expand_recurring_schedule(
                item["schedule"], field_name=f"{field}[{index}].schedule"
            )
        entry = json_dates(item)
        entry["id"] = new_id()
        if "product_id" in item:
            entry["product_name"] = products[str(item["product_id"])].name
        schedule = entry.get("schedule")
        if schedule and schedule.get("schedule_items"):
            schedule["schedule_items"] = [
                {**si, "id": new_id()} for si in schedule["schedule_items"]
            ]
        out.append(entry)
    return out


@transaction.atomic
def contract_create_negotiated(*, customer: Customer, data: dict, created_by: str = "") -> Contract:
    """A contract without a package: terms with absolute dates, as sent to contracts/create."""
    starting_at = as_utc(data["starting_at"])
    ending_before = as_utc(data.get("ending_before"))
    if customer.archived_at is not None:
        raise ValidationFailed("The customer is archived", field="customer_id")
    amounts_check(data)
    products = _check_products(data)
    rate_card = _negotiated_rate_card(data, starting_at)
    configuration = _negotiated_billing_configuration(
        customer, data.get("billing_provider_configuration")
    )
    usage = absolute_usage_statement_schedule(starting_at, data.get("usage_statement_schedule"))
    rows = materialise_negotiated_terms(
        {kind: data.get(field) or [] for kind, field in KIND_FIELDS.items()},
        contract_start=starting_at,
        contract_end=ending_before,
        usage_frequency=usage["frequency"],
    )
    settings: dict[str, Any] = {"usage_statement_schedule": usage}
    for key in NEGOTIATED_SETTINGS:
        if data.get(key) is not None:
            settings[key] = json_dates(data[key])
    if data.get("usage_filter"):
        settings["usage_filter"] = json_dates(data["usage_filter"])
    for key in ("discounts", "professional_services"):
        if data.get(key):
            settings[key] = stored_with_ids(data[key], products, key)
    if data.get("custom_fields"):
        settings["custom_fields"] = data["custom_fields"]
    contract = Contract(
        customer=customer,
        rate_card=rate_card,
        billing_provider_configuration=configuration,
        name=data.get("name") or "",
        starting_at=starting_at,
        ending_before=ending_before,
        net_payment_terms_days=data.get("net_payment_terms_days"),
        multiplier_override_prioritization=data.get("multiplier_override_prioritization") or "",
        scheduled_charges_on_usage_invoices=data.get("scheduled_charges_on_usage_invoices") or "",
        settings=settings,
        uniqueness_key=data.get("uniqueness_key"),
        created_by=created_by,
    )
    return _contract_insert(contract, rows, subscription=None, transition=data.get("transition"))
