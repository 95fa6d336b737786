"""Browser-test helpers for the catalog pages: screenshots at a width, packages and rates
built through the real services (a helper module, not a test module; signing in is in
tests/builders/browser.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from config.web.forms import checked_body
from packages_app.api.package_serializers import PackageCreateInput
from packages_app.models import AliasName, Package, Product, RateCard
from packages_app.services.aliases import alias_assign
from packages_app.services.packages import package_create
from packages_app.services.products import product_create
from packages_app.services.rate_cards import rate_add, rate_card_create
from tests.builders.catalog import ensure_usd_cents

SHOTS = Path(__file__).parents[2] / "shots"


def shot(page, name: str, *, width: int = 1400) -> Path:
    """A full-page screenshot at `width` px under shots/ (git-ignored)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": width, "height": 900})
    path = SHOTS / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def day(y: int, m: int, d: int = 1) -> dt.datetime:
    return dt.datetime(y, m, d, tzinfo=dt.UTC)


def rate_card(name: str = "Standard") -> RateCard:
    ensure_usd_cents()
    return rate_card_create(name=name, created_by="test")


def product(name: str, type: str = "FIXED") -> Product:
    return product_create(name=name, type=type, created_by="test", attributes={})


def flat_rate(card: RateCard, product: Product, price, starting_at, **extra):
    rate_type = extra.pop("rate_type", "SUBSCRIPTION" if product.type == "SUBSCRIPTION" else "FLAT")
    body = {
        "product_id": str(product.pk),
        "rate_type": rate_type,
        "entitled": True,
        "starting_at": starting_at,
        **extra,
    }
    if price is not None:
        body["price"] = Decimal(str(price))
    return rate_add(rate_card_id=card.pk, rate=body)


def package(name: str, card: RateCard, *, subscriptions=(), **body) -> Package:
    """A package through the API's serializer and `package_create`, as the builder saves it."""
    wire = {"name": name, "rate_card_id": str(card.pk), **body}
    if subscriptions:
        wire["subscriptions"] = [
            {
                "collection_schedule": "ADVANCE",
                "proration": {"invoice_behavior": "BILL_IMMEDIATELY", "is_prorated": True},
                "subscription_rate": {"billing_frequency": "MONTHLY", "product_id": str(p.pk)},
                "initial_quantity": 1,
            }
            for p in subscriptions
        ]
    return package_create(created_by="test", **checked_body(PackageCreateInput, wire))


def point_alias(name: str, package: Package, starting_at, ending_before=None):
    return alias_assign(
        kind=AliasName.Kind.PACKAGE,
        name=name,
        package=package,
        starting_at=starting_at,
        ending_before=ending_before,
    )
