"""Reads of contracts: one contract, a customer's contracts, a package's cohort."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db.models import Prefetch, QuerySet

from config.api.errors import NotFound, ValidationFailed
from contracts_app.models import Contract, ContractTerm, Customer
from packages_app.models import CreditType, Package, PackageTerm


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def with_terms(queryset: QuerySet) -> QuerySet:
    """What rendering a full contract needs: terms (with product names) and the billing config."""
    return queryset.select_related("billing_provider_configuration").prefetch_related(
        Prefetch(
            "terms",
            queryset=ContractTerm.objects.select_related("product").order_by("kind", "ordinal"),
        )
    )


def credit_type_names() -> dict[str, str]:
    return {str(pk): name for pk, name in CreditType.objects.values_list("id", "name")}


def customer_get(*, customer_id) -> Customer:
    pk = _uuid(customer_id)
    customer = Customer.objects.filter(id=pk).first() if pk else None
    if customer is None:
        raise NotFound("Customer not found", field="customer_id")
    return customer


def contract_get(
    *, customer_id, contract_id, for_update: bool = False, full: bool = False
) -> Contract:
    """The contract of that customer (archived ones included), or 404. `full` fetches what
    rendering it needs; `for_update` locks it (inside a transaction)."""
    customer_pk, contract_pk = _uuid(customer_id), _uuid(contract_id)
    contract = None
    if customer_pk and contract_pk:
        queryset = Contract.objects.filter(id=contract_pk, customer_id=customer_pk)
        if full:
            queryset = with_terms(queryset)
        if for_update:
            queryset = queryset.select_for_update()
        contract = queryset.first()
    if contract is None:
        raise NotFound("Contract not found for this customer", field="contract_id")
    return contract


def _time_filters(
    queryset: QuerySet, *, covering_date: dt.datetime | None, starting_at: dt.datetime | None
) -> QuerySet:
    if covering_date is not None and starting_at is not None:
        raise ValidationFailed(
            "covering_date and starting_at cannot be given together", field="covering_date"
        )
    if covering_date is not None:
        queryset = queryset.covering(covering_date)
    if starting_at is not None:
        queryset = queryset.filter(starting_at__gte=starting_at)
    return queryset


def contract_list(
    *,
    customer: Customer,
    covering_date: dt.datetime | None = None,
    starting_at: dt.datetime | None = None,
    include_archived: bool = False,
) -> QuerySet:
    """A customer's contracts, for keyset pages on (starting_at, id)."""
    queryset = Contract.objects.filter(customer=customer)
    if not include_archived:
        queryset = queryset.not_archived()
    return _time_filters(queryset, covering_date=covering_date, starting_at=starting_at)


def package_get(*, package_id) -> Package:
    pk = _uuid(package_id)
    package = Package.objects.filter(id=pk).first() if pk else None
    if package is None:
        raise NotFound("Package not found", field="package_id")
    return package


# What provisioning reads of a package (not, say, its stored response form).
PROVISIONING_PACKAGE_FIELDS = (
    "id",
    "name",
    "contract_name",
    "rate_card_id",
    "rate_card_alias",
    "billing_provider",
    "delivery_method",
    "duration_unit",
    "duration_value",
    "net_payment_terms_days",
    "multiplier_override_prioritization",
    "scheduled_charges_on_usage_invoices",
    "settings",
    "archived_at",
)


def package_with_terms_get(*, package_id) -> tuple[Package, list[PackageTerm]]:
    """A package and its terms for provisioning, in one query (the terms joined to their
    package; a package without terms costs a second one), or 404."""
    pk = _uuid(package_id)
    terms = (
        list(
            PackageTerm.objects.filter(package_id=pk)
            .select_related("package")
            .only(
                "id",
                "kind",
                "ordinal",
                "product_id",
                "body",
                *(f"package__{name}" for name in PROVISIONING_PACKAGE_FIELDS),
            )
            .order_by()  # materialisation orders terms itself
        )
        if pk
        else []
    )
    if terms:
        return terms[0].package, terms
    package = (
        Package.objects.filter(id=pk).only(*PROVISIONING_PACKAGE_FIELDS).first() if pk else None
    )
    if package is None:
        raise NotFound("Package not found", field="package_id")
    return package, []


def contracts_on_package(
    *,
    package: Package,
    covering_date: dt.datetime | None = None,
    starting_at: dt.datetime | None = None,
    include_archived: bool = False,
) -> QuerySet:
    """The package's cohort, for keyset pages on (starting_at, id).

    Only the columns of the covering `contract_cohort` index are read, so a page is an
    index-only range scan whatever the cohort's size.
    """
    queryset = Contract.objects.on_package(package).only(
        "id", "customer_id", "starting_at", "ending_before", "archived_at"
    )
    if not include_archived:
        queryset = queryset.not_archived()
    return _time_filters(queryset, covering_date=covering_date, starting_at=starting_at)
