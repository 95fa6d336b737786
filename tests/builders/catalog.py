"""A catalog to build packages on, and package payloads over it: shared by the package test
modules (a helper module, not a test module)."""

from __future__ import annotations

from dataclasses import dataclass

from bench.bench_packages import eight_terms, offset
from packages_app.models import USD_CENTS_ID, CreditType, Product, RateCard
from tests.builders.package_payloads import every_term_body

__all__ = [
    "Catalog",
    "eight_terms",
    "eight_terms_on",
    "ensure_usd_cents",
    "every_field",
    "make_catalog",
    "offset",
]


@dataclass
class Catalog:
    rate_card: RateCard
    commit_product: Product
    usage_product: Product
    subscription_product: Product
    tokens: CreditType


def ensure_usd_cents() -> CreditType:
    """Transactional tests flush the table the data migration filled; put the row back."""
    credit_type, _ = CreditType.objects.get_or_create(
        id=USD_CENTS_ID, defaults={"name": "USD (cents)", "is_currency": True}
    )
    return credit_type


def make_catalog(suffix: str = "") -> Catalog:
    ensure_usd_cents()
    return Catalog(
        rate_card=RateCard.objects.create(name=f"Standard rates{suffix}"),
        commit_product=Product.objects.create(type="FIXED", name=f"Prepaid commit{suffix}"),
        usage_product=Product.objects.create(type="FIXED", name=f"API calls{suffix}"),
        subscription_product=Product.objects.create(type="SUBSCRIPTION", name=f"Seats{suffix}"),
        tokens=CreditType.objects.create(name=f"Tokens{suffix}"),
    )


def eight_terms_on(catalog: Catalog) -> dict:
    """The bench's eight-term package payload over `catalog` (rate card and three products)."""
    return eight_terms(
        str(catalog.rate_card.id),
        str(catalog.commit_product.id),
        str(catalog.usage_product.id),
        str(catalog.subscription_product.id),
    )


def every_field(catalog: Catalog) -> dict:
    """A create payload using every field of PackageCreateParams (but rate_card_alias)."""
    return every_term_body(
        rate_card_id=str(catalog.rate_card.id),
        fixed=str(catalog.commit_product.id),
        usage=str(catalog.usage_product.id),
        seats=str(catalog.subscription_product.id),
        tokens=str(catalog.tokens.id),
        usd=str(USD_CENTS_ID),
        name="Enterprise 2025",
        contract_name="Enterprise contract",
        alias="enterprise",
        alias_starting_at="2025-01-01T00:00:00.000Z",
        uniqueness_key="enterprise-2025",
    )
