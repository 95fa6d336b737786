"""Customers and their billing-provider configurations (DESIGN.md §3, metronome-api.md §4).

Ingest aliases and external ids share one namespace among active customers: a usage event names
its customer by either. external_id has a partial unique constraint; ingest aliases live in a JSON
array, so concurrent writers of the same alias are serialised with a transaction-scoped advisory
lock per alias before the check (no check-then-insert race).

Fields without a column (billing_config, customer_revenue_system_configurations, each
configuration's tax_provider) are kept in `Customer.details` so every field sent is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from config.audit.services import (
    audit_record,
    audit_record_many,
    changed_fields,
    queryset_update_recorded,
    stamp_recorded,
)
from config.core.errors import Conflict, NotFound, ValidationFailed
from contracts_app.models import BillingProviderConfiguration, Customer

CUSTOMER_NAME_MAX_LENGTH = 160  # Metronome truncates longer names

# Metronome's delivery methods are server-side objects with ids. We have exactly the four fixed
# methods, so each gets a stable id derived from its name; the id alone can select a method.
_DELIVERY_METHOD_NAMESPACE = uuid.UUID("5d1c1e2a-7b59-4c59-9a59-5f0e1b0c9a11")
DELIVERY_METHODS = ("direct_to_billing_provider", "aws_sqs", "tackle", "aws_sns")
DELIVERY_METHOD_IDS = {
    method: str(uuid.uuid5(_DELIVERY_METHOD_NAMESPACE, method)) for method in DELIVERY_METHODS
}
_DELIVERY_METHOD_BY_ID = {method_id: method for method, method_id in DELIVERY_METHOD_IDS.items()}

DETAILS_TAX_PROVIDERS = "configuration_tax_providers"  # {configuration id: tax_provider}


def delivery_method_resolve(
    *, delivery_method: str | None, delivery_method_id: str | None, field: str
) -> str:
    """The delivery method named by method, by id, or by both (which must then agree)."""
    if delivery_method_id is not None:
        by_id = _DELIVERY_METHOD_BY_ID.get(delivery_method_id)
        if by_id is None:
            raise ValidationFailed(
                f"Unknown delivery_method_id {delivery_method_id!r}",
                field=f"{field}.delivery_method_id",
            )
        if delivery_method is not None and delivery_method != by_id:
            raise ValidationFailed(
                "delivery_method and delivery_method_id name different methods",
                field=f"{field}.delivery_method_id",
            )
        return by_id
    if delivery_method is None:
        raise ValidationFailed(
            "Give delivery_method or delivery_method_id", field=f"{field}.delivery_method"
        )
    return delivery_method


def _lock_identifiers(identifiers: Iterable[str]) -> None:
    """Serialise writers of the same ingest identifiers until this transaction ends.

    Sorted, so two transactions that lock overlapping sets cannot deadlock.
    """
    keys = sorted({f"customer-ingest-id:{identifier}" for identifier in identifiers})
    if not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(key, 0))"
            " FROM unnest(%s::text[]) AS key ORDER BY key",
            [keys],
        )


def _identifier_in_use(identifiers: Sequence[str], *, exclude_id=None) -> str | None:
    """The first identifier an active customer already answers to, if any."""
    if not identifiers:
        return None
    holders = Customer.objects.not_archived().filter(
        Q(external_id__in=identifiers) | Q(ingest_aliases__has_any_keys=list(identifiers))
    )
    if exclude_id is not None:
        holders = holders.exclude(id=exclude_id)
    for holder in holders.only("external_id", "ingest_aliases")[:1]:
        taken = {holder.external_id, *holder.ingest_aliases}
        return next(identifier for identifier in identifiers if identifier in taken)
    return None


def _unique_in_order(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _customer_identifiers(spec: dict[str, Any]) -> list[str]:
    external_id = spec.get("external_id")
    return _unique_in_order([*([external_id] if external_id else []), *spec["ingest_aliases"]])


def _identifier_field(spec: dict[str, Any], identifier: str, prefix: str) -> str:
    if identifier == spec.get("external_id"):
        return f"{prefix}external_id"
    return f"{prefix}ingest_aliases[{spec['ingest_aliases'].index(identifier)}]"


def _customers_insert(specs: Sequence[dict[str, Any]], prefixes: Sequence[str]) -> list[Customer]:
    """Insert customers (and their configurations) in a fixed number of queries.

    `specs` hold customer_create's keyword arguments; `prefixes` name each in error fields.
    """
    specs = [
        {**spec, "ingest_aliases": _unique_in_order(spec.get("ingest_aliases") or ())}
        for spec in specs
    ]
    owner: dict[str, int] = {}
    for index, spec in enumerate(specs):
        for identifier in _customer_identifiers(spec):
            if identifier in owner:
                raise ValidationFailed(
                    f"{identifier!r} is given to two customers of this request",
                    field=_identifier_field(spec, identifier, prefixes[index]),
                )
            owner[identifier] = index
    identifiers = list(owner)
    _lock_identifiers(identifiers)
    taken = _identifier_in_use(identifiers)
    if taken is not None:
        spec_index = owner[taken]
        raise Conflict(
            f"{taken!r} is already used by an active customer",
            field=_identifier_field(specs[spec_index], taken, prefixes[spec_index]),
        )

    customers = []
    for spec in specs:
        details: dict[str, Any] = {}
        if spec.get("billing_config") is not None:
            details["billing_config"] = spec["billing_config"]
        if spec.get("revenue_system_configurations") is not None:
            details["customer_revenue_system_configurations"] = list(
                spec["revenue_system_configurations"]
            )
        customer = Customer(
            name=spec["name"][:CUSTOMER_NAME_MAX_LENGTH],
            external_id=spec.get("external_id") or None,
            ingest_aliases=spec["ingest_aliases"],
            custom_fields=spec.get("custom_fields") or {},
            details=details,
        )
        # Constraints are checked by the insert itself; the primary keys are fresh.
        customer.full_clean(validate_unique=False, validate_constraints=False)
        customers.append(customer)
    try:
        with transaction.atomic():
            Customer.objects.bulk_create(customers)
    except IntegrityError:
        # Only the external_id constraint can fail here (the advisory locks make it rare).
        field = f"{prefixes[0]}external_id" if len(specs) == 1 else "customers"
        raise Conflict("An active customer with this external_id exists", field=field) from None

    configurations = [
        (customer, item, f"{prefix}customer_billing_provider_configurations[{index}]")
        for customer, spec, prefix in zip(customers, specs, prefixes, strict=True)
        for index, item in enumerate(spec.get("billing_provider_configurations") or ())
    ]
    if configurations:
        _configurations_insert(configurations, customers_are_new=True)
    audit_record_many(
        action="create",
        resource_type="customer",
        resource_ids=[customer.pk for customer in customers],
        changes=[
            {"id": customer.pk, "name": customer.name, "external_id": customer.external_id}
            for customer in customers
        ],
    )
    return customers


@transaction.atomic
def customer_create(
    *,
    name: str,
    external_id: str | None = None,
    ingest_aliases: Sequence[str] = (),
    custom_fields: dict[str, str] | None = None,
    billing_provider_configurations: Sequence[dict[str, Any]] = (),
    billing_config: dict[str, Any] | None = None,
    revenue_system_configurations: Sequence[dict[str, Any]] | None = None,
) -> Customer:
    """Create a customer and its billing-provider configurations in one transaction.

    Each configuration is `{billing_provider, configuration?, delivery_method?,
    delivery_method_id?, tax_provider?}` as on the wire.
    """
    spec = {
        "name": name,
        "external_id": external_id,
        "ingest_aliases": ingest_aliases,
        "custom_fields": custom_fields,
        "billing_provider_configurations": billing_provider_configurations,
        "billing_config": billing_config,
        "revenue_system_configurations": revenue_system_configurations,
    }
    return _customers_insert([spec], [""])[0]


@transaction.atomic
def customers_create(*, customers: Sequence[dict[str, Any]]) -> list[Customer]:
    """Create many customers at once, all or nothing, in a fixed number of queries.

    Each item holds customer_create's keyword arguments; errors name `customers[i].<field>`.
    """
    return _customers_insert(customers, [f"customers[{index}]." for index in range(len(customers))])


@transaction.atomic
def customer_archive(*, customer: Customer) -> Customer:
    """Archive is one-way; archiving again changes nothing. Frees the customer's ingest ids."""
    if customer.archived_at is None:
        stamp_recorded(
            customer,
            "archived_at",
            action="archive",
            resource_type="customer",
            also_saved=["updated_at"],
        )
    return customer


def customers_archive(*, customer_ids: Sequence) -> int:
    """Archive many customers at once (admin action); returns how many were active."""
    now = timezone.now()
    return queryset_update_recorded(
        Customer.objects.not_archived().filter(id__in=customer_ids),
        action="archive",
        resource_type="customer",
        archived_at=now,
        updated_at=now,
    )


def _configuration_key(billing_provider: str, delivery_method: str, configuration: dict) -> tuple:
    return billing_provider, delivery_method, repr(sorted(configuration.items()))


def _configuration_rows(
    items: Sequence[tuple[Customer, dict[str, Any], str]],
) -> tuple[list[BillingProviderConfiguration], dict[Any, dict[str, str]], dict[tuple, str]]:
    """Validated unsaved configurations of `items`; the tax providers they give, by customer
    id then configuration id; and the field path of each (customer, configuration key).

    Refuses an archived customer, a tax provider on a provider other than stripe, and two
    identical configurations for one customer in the request.
    """
    rows: list[BillingProviderConfiguration] = []
    tax_providers: dict[Any, dict[str, str]] = {}
    seen: dict[tuple, str] = {}
    for customer, item, field in items:
        if customer.archived_at is not None:
            raise ValidationFailed("The customer is archived", field=f"{field}.customer_id")
        delivery_method = delivery_method_resolve(
            delivery_method=item.get("delivery_method"),
            delivery_method_id=item.get("delivery_method_id"),
            field=field,
        )
        tax_provider = item.get("tax_provider")
        if tax_provider is not None and item["billing_provider"] != "stripe":
            raise ValidationFailed(
                "tax_provider is only supported for the stripe billing provider",
                field=f"{field}.tax_provider",
            )
        configuration = item.get("configuration") or {}
        key = (
            customer.id,
            _configuration_key(item["billing_provider"], delivery_method, configuration),
        )
        if key in seen:
            raise ValidationFailed(
                f"Same configuration as {seen[key]}", field=f"{field}.configuration"
            )
        seen[key] = field
        row = BillingProviderConfiguration(
            customer=customer,
            billing_provider=item["billing_provider"],
            delivery_method=delivery_method,
            configuration=configuration,
        )
        rows.append(row)
        if tax_provider is not None:
            tax_providers.setdefault(customer.id, {})[str(row.id)] = tax_provider
    return rows, tax_providers, seen


def _check_not_already_active(
    items: Sequence[tuple[Customer, dict[str, Any], str]],
    seen: dict[tuple, str],
    *,
    customers_are_new: bool,
) -> None:
    """Conflict if a customer already has one of the new configurations active (no query for
    new customers, who have none)."""
    customer_ids = {customer.id for customer, _, _ in items}
    existing = BillingProviderConfiguration.objects.not_archived().filter(
        customer_id__in=customer_ids
    )
    for config in [] if customers_are_new else existing:
        key = (
            config.customer_id,
            _configuration_key(
                config.billing_provider, config.delivery_method, config.configuration
            ),
        )
        if key in seen:
            raise Conflict(
                f"The customer already has this active configuration ({config.id})",
                field=f"{seen[key]}.configuration",
            )


def _audit_configurations_added(rows: Sequence[BillingProviderConfiguration]) -> None:
    """One audit entry per added configuration, on its customer."""
    audit_record_many(
        action="add_billing_provider_configuration",
        resource_type="customer",
        resource_ids=[row.customer_id for row in rows],
        changes=[
            {
                "billing_provider_configuration_id": row.id,
                "billing_provider": row.billing_provider,
                "delivery_method": row.delivery_method,
            }
            for row in rows
        ],
    )


def _tax_providers_store(
    items: Sequence[tuple[Customer, dict[str, Any], str]],
    tax_providers: dict[Any, dict[str, str]],
) -> None:
    """Adds the tax providers (by customer id, then configuration id) to their customers'
    details, in one bulk update."""
    customers = {customer.id: customer for customer, _, _ in items}
    for customer_id, by_config in tax_providers.items():
        customer = customers[customer_id]
        customer.details = {
            **customer.details,
            DETAILS_TAX_PROVIDERS: {
                **customer.details.get(DETAILS_TAX_PROVIDERS, {}),
                **by_config,
            },
        }
    Customer.objects.bulk_update(
        [customers[customer_id] for customer_id in tax_providers], ["details"]
    )


def _configurations_insert(
    items: Sequence[tuple[Customer, dict[str, Any], str]],
    *,
    customers_are_new: bool = False,
) -> list[BillingProviderConfiguration]:
    """Validate and bulk-insert configurations: `(customer, wire item, field path)` each.

    An identical active configuration (same provider, delivery method and configuration) for
    the same customer is a conflict: provisioning must find exactly one match.
    """
    rows, tax_providers, seen = _configuration_rows(items)
    _check_not_already_active(items, seen, customers_are_new=customers_are_new)
    BillingProviderConfiguration.objects.bulk_create(rows)
    if not customers_are_new:  # new customers' entries name their configurations already
        _audit_configurations_added(rows)
    if tax_providers:
        _tax_providers_store(items, tax_providers)
    return rows


@transaction.atomic
def billing_provider_configurations_set(
    *, items: Sequence[dict[str, Any]]
) -> list[BillingProviderConfiguration]:
    """Add configurations for one or many customers; all or nothing.

    Each item is the wire object `{customer_id, billing_provider, configuration?,
    delivery_method?, delivery_method_id?, tax_provider?}`.
    """
    if not items:
        raise ValidationFailed("Give at least one configuration", field="data")
    wanted = {str(item["customer_id"]) for item in items}
    # Locked so a concurrent archive or identical set waits for this one (duplicates check).
    customers = {
        str(customer.id): customer
        for customer in Customer.objects.select_for_update().filter(id__in=wanted).order_by("id")
    }
    for index, item in enumerate(items):
        if str(item["customer_id"]) not in customers:
            raise NotFound(
                f"Customer {item['customer_id']} not found", field=f"data[{index}].customer_id"
            )
    return _configurations_insert(
        [
            (customers[str(item["customer_id"])], item, f"data[{index}]")
            for index, item in enumerate(items)
        ]
    )


@transaction.atomic
def billing_provider_configurations_archive(
    *, customer: Customer, configuration_ids: Sequence
) -> list[BillingProviderConfiguration]:
    """Archive some of one customer's configurations; every id must be the customer's."""
    wanted = [str(config_id) for config_id in configuration_ids]
    if not wanted:
        raise ValidationFailed(
            "Give at least one configuration id",
            field="customer_billing_provider_configuration_ids",
        )
    configurations = list(
        BillingProviderConfiguration.objects.select_for_update().filter(
            customer=customer, id__in=wanted
        )
    )
    found = {str(config.id) for config in configurations}
    for index, config_id in enumerate(wanted):
        if config_id not in found:
            raise NotFound(
                f"Billing provider configuration {config_id} not found for this customer",
                field=f"customer_billing_provider_configuration_ids[{index}]",
            )
    now = timezone.now()
    archived = [config.id for config in configurations if config.archived_at is None]
    BillingProviderConfiguration.objects.filter(id__in=archived).update(archived_at=now)
    if archived:
        audit_record(
            action="archive_billing_provider_configurations",
            resource_type="customer",
            resource_id=customer.pk,
            changes={"billing_provider_configuration_ids": archived, "archived_at": now},
        )
    return configurations


# --- changes to an existing customer (setName, setIngestAliases, updateConfig) ---------------


def _active(customer: Customer) -> None:
    if customer.archived_at is not None:
        raise ValidationFailed("The customer is archived", field="customer_id")


def _change_save(
    customer: Customer, field: str, *, action: str, before: Any, after: Any, shown_as: str = ""
) -> None:
    """Save one changed field of the customer and record it (as `shown_as` when the change is
    a part of the field, e.g. `customer_config` in `details`)."""
    customer.save(update_fields=[field, "updated_at"])
    name = shown_as or field
    audit_record(
        action=action,
        resource_type="customer",
        resource_id=customer.pk,
        changes=changed_fields({name: before}, {name: after}),
    )


@transaction.atomic
def customer_set_name(*, customer: Customer, name: str) -> Customer:
    """Rename; longer names are cut to 160 characters, as Metronome does."""
    _active(customer)
    if not name.strip():
        raise ValidationFailed("The name cannot be blank", field="name")
    before = customer.name
    customer.name = name[:CUSTOMER_NAME_MAX_LENGTH]
    _change_save(customer, "name", action="set_name", before=before, after=customer.name)
    return customer


@transaction.atomic
def customer_set_ingest_aliases(*, customer: Customer, ingest_aliases: Sequence[str]) -> Customer:
    """Replace the customer's ingest aliases (idempotent). Aliases share one namespace with
    external ids among active customers: one another active customer answers to is a 409
    naming it. Writers of the same alias are serialised (customers._lock_identifiers)."""
    _active(customer)
    aliases = _unique_in_order(ingest_aliases)
    _lock_identifiers(aliases)
    taken = _identifier_in_use(aliases, exclude_id=customer.id)
    if taken is not None:
        raise Conflict(
            f"Another active customer already answers to {taken!r}",
            field=f"ingest_aliases[{aliases.index(taken)}]",
        )
    before = list(customer.ingest_aliases)
    customer.ingest_aliases = aliases
    _change_save(
        customer, "ingest_aliases", action="set_ingest_aliases", before=before, after=aliases
    )
    return customer


@transaction.atomic
def customer_update_config(
    *, customer: Customer, changes: dict[str, str | bool | None]
) -> Customer:
    """Set configuration fields (salesforce_account_id, leave_stripe_invoices_in_draft); a field
    sent as null is cleared, one not sent is kept. Stored in `details.customer_config`, which
    the customer's `customer_config` shows."""
    _active(customer)
    details = dict(customer.details or {})
    config = dict(details.get("customer_config") or {})
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    before = dict((customer.details or {}).get("customer_config") or {})
    details["customer_config"] = config
    customer.details = details
    _change_save(
        customer,
        "details",
        action="update_config",
        before=before,
        after=config,
        shown_as="customer_config",
    )
    return customer
