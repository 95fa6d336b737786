"""Reads of customers and their billing-provider configurations."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.db.models import Q, QuerySet

from config.core.errors import NotFound
from config.core.ids import parse_uuid
from contracts_app.models import BillingProviderConfiguration, Customer


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
