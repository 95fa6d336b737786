"""Reads of customers and their billing-provider configurations."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Lower

from config.core.ids import parse_uuid
from contracts_app.models import BillingProviderConfiguration, Contract, Customer
from packages_app.models import AliasName
from packages_app.selectors.catalog import get_or_not_found


def customer_get(*, customer_id, field: str = "customer_id") -> Customer:
    """The customer with this id (archived included); a malformed id is simply not found."""
    return get_or_not_found(Customer.objects.all(), customer_id, what="Customer", field=field)


def customer_list(
    *,
    customer_ids: Sequence[uuid.UUID] | None = None,
    ingest_alias: str | None = None,
    only_archived: bool = False,
    salesforce_account_ids: Sequence[str] | None = None,
) -> QuerySet[Customer]:
    """Active customers by default, archived ones only with `only_archived`, then the filters."""
    customers = Customer.objects.archived() if only_archived else Customer.objects.not_archived()
    if customer_ids:
        customers = customers.filter(id__in=customer_ids)
    if ingest_alias:
        # external_id is an ingest identifier too (the deprecated first alias)
        customers = customers.filter(
            Q(ingest_aliases__contains=[ingest_alias]) | Q(external_id=ingest_alias)
        )
    if salesforce_account_ids:
        customers = customers.filter(
            details__customer_config__salesforce_account_id__in=list(salesforce_account_ids)
        )
    return customers


def billing_provider_configurations_of(
    *, customer: Customer, include_archived: bool = False
) -> QuerySet[BillingProviderConfiguration]:
    configurations = BillingProviderConfiguration.objects.filter(customer=customer)
    if not include_archived:
        configurations = configurations.not_archived()
    return configurations.order_by("created_at", "id")


def customers_with_current_package(
    *, now: dt.datetime, query: str = "", package_id: uuid.UUID | None = None
) -> QuerySet[Customer]:
    """The customer list: newest first, each with its current package (the live contract
    covering `now`, else its next one), the alias that contract was provisioned through and
    when it starts; `query` matches a name (contains), an external id or an ingest alias;
    `package_id` keeps the customers whose current package it is. One query per page."""
    current = (
        Contract.objects.filter(customer=OuterRef("pk"), archived_at__isnull=True)
        .filter(Q(ending_before__isnull=True) | Q(ending_before__gt=now))
        .order_by("starting_at", "id")
    )
    customers = Customer.objects.annotate(
        current_package_id=Subquery(current.values("package_id")[:1]),
        current_package_name=Subquery(current.values("package__name")[:1]),
        current_from=Subquery(current.values("starting_at")[:1]),
        current_alias=Subquery(
            current.annotate(alias=KT("settings__package_alias")).values("alias")[:1]
        ),
    ).annotate(
        current_alias_id=Subquery(
            AliasName.objects.filter(
                kind=AliasName.Kind.PACKAGE, name=OuterRef("current_alias")
            ).values("id")[:1]
        )
    )
    if query:
        customers = customers.filter(
            Q(name__icontains=query) | Q(external_id=query) | Q(ingest_aliases__contains=[query])
        )
    if package_id is not None:
        customers = customers.filter(current_package_id=package_id)
    return customers.order_by("-created_at", "-id")


def customer_contracts(*, customer: Customer) -> list[Contract]:
    """The customer's live contracts in start order, packages read (the customer page)."""
    return list(
        Contract.objects.filter(customer=customer)
        .not_archived()
        .select_related("package")
        .order_by("starting_at", "id")
    )


def customer_configurations(*, customer: Customer) -> list[BillingProviderConfiguration]:
    """Every billing-provider configuration of the customer, live ones first."""
    return list(
        BillingProviderConfiguration.objects.filter(customer=customer).order_by(
            "archived_at", "created_at", "id"
        )
    )


def package_alias_names() -> list[tuple[int, str]]:
    """(id, name) of every package alias, by name (the provision and change forms' choices)."""
    return list(
        AliasName.objects.filter(kind=AliasName.Kind.PACKAGE)
        .order_by("name")
        .values_list("id", "name")
    )


@dataclass(frozen=True)
class CustomerLookup:
    """What `customers_resolve` made of each entry: the customer it names (`found`, in the
    order given; `ids` once each), the entries naming nobody (`unknown`) and the names shared
    by several customers (`ambiguous`: name → how many)."""

    found: dict[str, Customer] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    ambiguous: dict[str, int] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return list(dict.fromkeys(str(customer.id) for customer in self.found.values()))


def customers_resolve(*, entries: Sequence[str]) -> CustomerLookup:
    """Customers named by people: each entry is a customer id, else an external id or ingest
    alias, else a customer's name (any case). Names and external ids find live customers only;
    a name shared by several customers is ambiguous (its id or external id is needed). Two
    queries whatever the number of entries (the wizard takes 100,000)."""
    entries = list(dict.fromkeys(entry.strip() for entry in entries if entry.strip()))
    by_id: dict[uuid.UUID, Customer] = {}
    ids = {entry: parse_uuid(entry) for entry in entries}
    wanted = [parsed for parsed in ids.values() if parsed is not None]
    if wanted:
        by_id = Customer.objects.only("id", "name").in_bulk(wanted)
    found = {entry: by_id[ids[entry]] for entry in entries if ids[entry] in by_id}
    rest = [entry for entry in entries if entry not in found]
    lookup = CustomerLookup(found=found)
    if not rest:
        return lookup
    lowered = [entry.lower() for entry in rest]
    candidates = (
        Customer.objects.not_archived()
        .annotate(name_lower=Lower("name"))
        .filter(
            Q(external_id__in=rest)
            | Q(ingest_aliases__has_any_keys=rest)
            | Q(name_lower__in=lowered)
        )
        .only("id", "name", "external_id", "ingest_aliases")
    )
    by_key: dict[str, Customer] = {}
    by_name: dict[str, list[Customer]] = defaultdict(list)
    for customer in candidates:
        for key in [customer.external_id, *(customer.ingest_aliases or [])]:
            if key:
                by_key.setdefault(key, customer)
        by_name[customer.name_lower].append(customer)
    for entry in rest:
        named = by_name.get(entry.lower(), [])
        if entry in by_key:
            found[entry] = by_key[entry]
        elif len(named) == 1:
            found[entry] = named[0]
        elif named:
            lookup.ambiguous[entry] = len(named)
        else:
            lookup.unknown.append(entry)
    ordered = {entry: found[entry] for entry in entries if entry in found}
    return CustomerLookup(found=ordered, unknown=lookup.unknown, ambiguous=lookup.ambiguous)


def customer_contract_by_key(*, customer: Customer, uniqueness_key: str) -> Contract | None:
    """The customer's contract an earlier provision with this uniqueness key made, if any."""
    return Contract.objects.filter(customer=customer, uniqueness_key=uniqueness_key).first()


def subscription_contract_starting(*, subscription_id, starting_at) -> Contract | None:
    """The subscription's live contract starting at `starting_at` (a schedule change already
    made: a double submit makes one)."""
    return Contract.objects.filter(
        subscription_id=subscription_id, starting_at=starting_at, archived_at__isnull=True
    ).first()
