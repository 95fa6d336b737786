"""Reads of customers and their billing-provider configurations."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KT

from config.core.errors import NotFound
from config.core.ids import parse_uuid
from contracts_app.models import BillingProviderConfiguration, Contract, Customer
from packages_app.models import AliasName


def customer_get(*, customer_id, field: str = "customer_id") -> Customer:
    """The customer with this id (archived included); a malformed id is simply not found."""
    customer = None
    parsed = parse_uuid(customer_id)
    if parsed is not None:
        customer = Customer.objects.filter(id=parsed).first()
    if customer is None:
        raise NotFound(f"Customer {customer_id} not found", field=field)
    return customer


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
