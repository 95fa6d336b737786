"""What provisioning would create, without creating it (the builder's live preview and
`POST /v1/packages/preview`).

Inside a transaction that is always rolled back, a package body is created by `package_create`
itself (one validation path) and provisioned by `contract_provision` for a stand-in customer:
the contract, its terms and every period are exactly what `contracts/create` would write, and
nothing is kept. The package page's example (`package_preview_saved`) runs the materialising
functions directly, which is what `contract_provision` calls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from config.api.errors import ValidationFailed
from contracts_app.models import BillingProviderConfiguration, Contract, ContractTerm, Customer
from contracts_app.selectors.contracts import with_terms
from contracts_app.services.materialise import (
    TermRow,
    absolute_usage_statement_schedule,
    materialise_package_terms,
)
from contracts_app.services.provisioning import as_utc, contract_provision, package_rate_card_id
from packages_app.models import Package, PackageTerm, RateCard
from packages_app.services.packages import package_create
from packages_app.time_offsets import add_offset

# Fields of a create body that would write outside the package (aliases) or could collide with
# a real create (uniqueness_key); a preview never needs them.
_NOT_PREVIEWED = ("aliases", "uniqueness_key")


@dataclass
class ContractPreview:
    package: Package
    terms: list[PackageTerm]
    starting_at: dt.datetime
    ending_before: dt.datetime | None
    usage_statement_schedule: dict[str, Any]
    rate_card: RateCard | None
    rows: list[TermRow] = field(default_factory=list)


class _Discard(Exception):
    """Raised to roll the preview's transaction back."""


def materialised_package(
    package: Package,
    starting_at: dt.datetime,
    *,
    terms: Iterable[PackageTerm] | None = None,
    materialise_until: dt.datetime | None = None,
) -> ContractPreview:
    """The part of `contract_provision` that computes, without its writes. An open-ended
    package's recurring terms are expanded up to `materialise_until` when given (the
    forecast's end) instead of the provisioning horizon."""
    starting_at = as_utc(starting_at)
    if terms is None:
        terms = package.terms.select_related("product").order_by("kind", "ordinal")
    end = (
        add_offset(starting_at, package.duration_unit, package.duration_value)
        if package.duration_unit
        else None
    )
    usage = absolute_usage_statement_schedule(
        starting_at, (package.settings or {}).get("usage_statement_schedule")
    )
    terms = list(terms)
    rate_card_id = package_rate_card_id(package, starting_at)
    if rate_card_id and not package.rate_card_alias and "rate_card" in package._state.fields_cache:
        rate_card = package.rate_card  # fetched with the package
    else:
        rate_card = RateCard.objects.filter(pk=rate_card_id).first() if rate_card_id else None
    rows = materialise_package_terms(
        terms,
        contract_start=starting_at,
        contract_end=end if end is not None else materialise_until,
        usage_frequency=usage["frequency"],
    )
    return ContractPreview(
        package=package,
        terms=terms,
        starting_at=starting_at,
        ending_before=end,
        usage_statement_schedule=usage,
        rate_card=rate_card,
        rows=rows,
    )


def package_contract_dry_run(
    *,
    starting_at: dt.datetime,
    package: Package | None = None,
    body: Mapping[str, Any] | None = None,
    created_by: str = "",
    package_terms: bool = False,
) -> Contract:
    """The contract provisioning would create from `package`, or from a package built from
    `body` (validated `packages/create` input), starting at `starting_at`: returned with its
    terms (and their products) and billing configuration loaded, none of it kept. Raises the
    create's and the provisioning's own errors. `package_terms`: also load the package's
    terms (`package_terms_loaded`), before they are rolled back with it."""
    if (package is None) == (body is None):
        raise ValidationFailed("Give package_id or a package body", field="package_id")
    result: Contract | None = None
    try:
        with transaction.atomic():
            if body is not None:
                kwargs = {key: value for key, value in body.items() if key not in _NOT_PREVIEWED}
                package = package_create(created_by=created_by, **kwargs)
            assert package is not None
            # A stand-in customer, with the billing configuration the package asks for.
            customer = Customer.objects.create(name="Preview")
            if package.billing_provider:
                BillingProviderConfiguration.objects.create(
                    customer=customer,
                    billing_provider=package.billing_provider,
                    delivery_method=package.delivery_method or "direct_to_billing_provider",
                )
            contract = contract_provision(
                customer=customer, starting_at=starting_at, package=package, created_by=created_by
            )
            result = with_terms(
                Contract.objects.filter(pk=contract.pk).select_related("package", "rate_card")
            ).get()
            result.terms_loaded = list(result.terms.all())
            if package_terms:
                result.package_terms_loaded = list(package.terms.all())
            raise _Discard
    except _Discard:
        pass
    assert result is not None
    return result


def package_preview(
    *,
    body: Mapping[str, Any],
    starting_at: dt.datetime,
    created_by: str = "",
    package_terms: bool = False,
) -> ContractPreview:
    """The contract a package built from `body` (validated create input) would give a customer
    starting at `starting_at` (`package_terms`: with the package's terms, as package_create
    built them, in `terms`). Raises the create's own errors; writes nothing."""
    contract = package_contract_dry_run(
        starting_at=starting_at, body=body, created_by=created_by, package_terms=package_terms
    )
    preview = contract_preview_of(contract, contract.terms_loaded)
    preview.terms = getattr(contract, "package_terms_loaded", [])
    return preview


def package_preview_saved(
    *, package: Package, starting_at: dt.datetime, terms: Iterable[PackageTerm] | None = None
) -> ContractPreview:
    """The contract an existing package would give a customer starting at `starting_at`
    (`terms`: the package's terms when the caller already has them)."""
    return materialised_package(package, starting_at, terms=terms)


def contract_preview_of(contract: Contract, terms: Iterable[ContractTerm]) -> ContractPreview:
    """A stored contract in the preview's shape, so one timeline draws both."""
    return ContractPreview(
        package=contract.package
        or Package(name=contract.name or "Negotiated contract", contract_name=contract.name),
        terms=[],
        starting_at=contract.starting_at,
        ending_before=contract.ending_before,
        usage_statement_schedule=(contract.settings or {}).get("usage_statement_schedule") or {},
        rate_card=contract.rate_card,
        rows=list(terms),
    )


def dry_run(write: Callable[..., Contract], /, **kwargs: Any) -> ContractPreview:
    """What a contract-writing service (`contract_provision`, `pricing_plan_schedule_create`)
    would create: it runs with every check and is rolled back, nothing kept."""
    result: ContractPreview | None = None
    try:
        with transaction.atomic():
            contract = write(**kwargs)
            terms = ContractTerm.objects.filter(contract=contract).order_by("kind", "ordinal")
            contract = Contract.objects.select_related("package", "rate_card").get(pk=contract.pk)
            result = contract_preview_of(contract, terms)
            raise _Discard
    except _Discard:
        pass
    assert result is not None
    return result
