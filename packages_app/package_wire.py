"""A package's response object (metronome-sdk 4.12.0 `Package`), built from its stored request form.

`Output.wire` turns a package (request form in `PackageTerm.body`) into the SDK's Package object
(§2.4 of reference/metronome-api.md): `product_id` → `product {id, name}`, `credit_type_id` →
`credit_type {id, name}`, override `tiers` → `override_tiers`, commit ids in override specifiers →
`*_template_ids`, `temporary_id` dropped. Packages are immutable, so this runs once, at create, and
the result is stored in `Package.wire` (services/packages.py); reads send that stored JSON as it is
(selectors/packages.py). Plain Python, no DRF: the service layer builds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from config.core.money import exact_context
from packages_app.models import USD_CENTS_ID, Package, PackageTerm

NIL_CREDIT_TYPE_ID = "00000000-0000-0000-0000-000000000000"


def plain_number(value: Decimal | None) -> Decimal | int | None:
    """A DecimalField's Decimal('30.0000') back to the 30 that was sent."""
    if value is None:
        return None
    with exact_context():  # normalize() would round to the default context's 28 digits
        return int(value) if value == value.to_integral_value() else value.normalize()


class Output:
    """Maps one package's stored request form onto the SDK's response shapes.

    Names come from mappings of id (str) → name so the same code renders a package being
    created (nothing saved yet) and stored ones; an unknown id renders with an empty name.
    """

    def __init__(self, credit_type_names: Mapping[str, str], product_names: Mapping[str, str]):
        self.credit_type_names = credit_type_names
        self.product_names = product_names

    def credit_type(self, credit_type_id: str | None) -> dict:
        key = credit_type_id or str(USD_CENTS_ID)
        return {"id": key, "name": self.credit_type_names.get(key, "")}

    def product(self, term: PackageTerm) -> dict:
        key = str(term.product_id)
        return {"id": key, "name": self.product_names.get(key, "")}

    @staticmethod
    def copy(body: Mapping[str, Any], *keys: str) -> dict:
        return {key: body[key] for key in keys if key in body}

    def access_schedule(self, schedule: Mapping[str, Any]) -> dict:
        out = {
            "credit_type": self.credit_type(schedule.get("credit_type_id")),
            "schedule_items": [
                self.copy(item, "id", "amount", "duration", "starting_at_offset")
                for item in schedule["schedule_items"]
            ],
        }
        out.update(self.copy(schedule, "access_type"))
        return out

    def dated_schedule(self, schedule: Mapping[str, Any]) -> dict:
        return {
            "credit_type": self.credit_type(schedule.get("credit_type_id")),
            "schedule_items": [
                self.copy(item, "id", "date_offset", "quantity", "unit_price")
                for item in schedule["schedule_items"]
            ],
        }

    _DRAWDOWN_KEYS = (
        "applicable_product_ids",
        "applicable_product_tags",
        "custom_fields",
        "description",
        "name",
        "priority",
        "rate_type",
        "specifiers",
    )

    def commit(self, term: PackageTerm) -> dict:
        body = term.body
        out = {"id": body["id"], "product": self.product(term), "type": body["type"]}
        out["access_schedule"] = self.access_schedule(body["access_schedule"])
        if "invoice_schedule" in body:
            invoice = body["invoice_schedule"]
            out["invoice_schedule"] = {
                **self.dated_schedule(invoice),
                "do_not_invoice": invoice.get("do_not_invoice", False),
            }
        out.update(self.copy(body, *self._DRAWDOWN_KEYS, "rollover_fraction"))
        return out

    def credit(self, term: PackageTerm) -> dict:
        body = term.body
        out = {"id": body["id"], "product": self.product(term)}
        out["access_schedule"] = self.access_schedule(body["access_schedule"])
        out.update(self.copy(body, *self._DRAWDOWN_KEYS))
        return out

    _SPECIFIER_RENAMES = {
        "commit_ids": "commit_template_ids",
        "recurring_commit_ids": "recurring_commit_template_ids",
        "any_commit_or_credit_ids": "any_commit_or_credit_template_ids",
    }

    def override(self, term: PackageTerm) -> dict:
        body = term.body
        out = {
            "id": body["id"],
            "override_specifiers": [
                {self._SPECIFIER_RENAMES.get(key, key): value for key, value in spec.items()}
                for spec in body["override_specifiers"]
            ],
            "starting_at_offset": body["starting_at_offset"],
        }
        out.update(
            self.copy(
                body,
                "duration",
                "entitled",
                "is_commit_specific",
                "multiplier",
                "priority",
                "target",
                "type",
            )
        )
        if "tiers" in body:
            out["override_tiers"] = body["tiers"]
        if "overwrite_rate" in body:
            rate = dict(body["overwrite_rate"])
            if "credit_type_id" in rate:
                rate["credit_type"] = self.credit_type(rate.pop("credit_type_id"))
            out["overwrite_rate"] = rate
        return out

    def scheduled_charge(self, term: PackageTerm) -> dict:
        body = term.body
        out = {
            "id": body["id"],
            "product": self.product(term),
            "schedule": self.dated_schedule(body["schedule"]),
        }
        out.update(self.copy(body, "custom_fields", "name", "description"))
        return out

    def recurring(self, term: PackageTerm) -> dict:
        body = term.body
        amount = dict(body["access_amount"])
        if "credit_type_id" not in amount:
            quantity_based = amount.get("access_type") == "QUANTITY"
            amount["credit_type_id"] = NIL_CREDIT_TYPE_ID if quantity_based else str(USD_CENTS_ID)
        out = {
            "id": body["id"],
            "access_amount": amount,
            "commit_duration": body["commit_duration"],
            "priority": body["priority"],
            "product": self.product(term),
            "rate_type": body.get("rate_type", "COMMIT_RATE"),
            "starting_at_offset": body["starting_at_offset"],
        }
        out.update(
            self.copy(
                body,
                "applicable_product_ids",
                "applicable_product_tags",
                "description",
                "duration",
                "invoice_amount",
                "name",
                "proration",
                "proration_rounding",
                "recurrence_frequency",
                "rollover_fraction",
                "specifiers",
            )
        )
        if "subscription_config" in body:
            config = body["subscription_config"]
            out["subscription_config"] = {
                "allocation": config.get("allocation", "POOLED"),
                "apply_seat_increase_config": config["apply_seat_increase_config"],
                "subscription_template_id": config["subscription_id"],
            }
        return out

    def subscription(self, term: PackageTerm) -> dict:
        body = term.body
        proration = body["proration"]
        out = {
            "id": body["id"],
            "collection_schedule": body["collection_schedule"],
            "proration": {
                "invoice_behavior": proration.get("invoice_behavior", "BILL_IMMEDIATELY"),
                "is_prorated": proration.get("is_prorated", True),
                **self.copy(proration, "rounding"),
            },
            "subscription_rate": {
                "billing_frequency": body["subscription_rate"]["billing_frequency"],
                "product": self.product(term),
            },
        }
        out.update(
            self.copy(
                body,
                "billing_cycle_config",
                "custom_fields",
                "description",
                "duration",
                "initial_quantity",
                "name",
                "quantity_management_mode",
                "seat_config",
                "starting_at_offset",
            )
        )
        return out

    @staticmethod
    def spend_tracker(term: PackageTerm) -> dict:
        return {key: value for key, value in term.body.items() if key != "id"}

    def wire(self, package: Package, terms: Iterable[PackageTerm]) -> dict:
        """The package's response object, less what changes after create: `created_at`,
        `archived_at` and `aliases` (added by the read query, selectors/packages.py)."""
        grouped: dict[str, list[PackageTerm]] = {kind: [] for kind in PackageTerm.Kind.values}
        for term in terms:
            grouped[term.kind].append(term)
        for group in grouped.values():
            group.sort(key=lambda term: term.ordinal)
        kind = PackageTerm.Kind
        settings = package.settings or {}
        data: dict[str, Any] = {
            "id": str(package.id),
            "name": package.name,
            "created_by": package.created_by,
            "usage_statement_schedule": settings.get(
                "usage_statement_schedule", {"frequency": "MONTHLY", "day": "FIRST_OF_MONTH"}
            ),
            "commits": [self.commit(t) for t in grouped[kind.COMMIT]],
            "credits": [self.credit(t) for t in grouped[kind.CREDIT]],
            "overrides": [self.override(t) for t in grouped[kind.OVERRIDE]],
            "scheduled_charges": [self.scheduled_charge(t) for t in grouped[kind.SCHEDULED_CHARGE]],
            "recurring_commits": [self.recurring(t) for t in grouped[kind.RECURRING_COMMIT]],
            "recurring_credits": [self.recurring(t) for t in grouped[kind.RECURRING_CREDIT]],
            "subscriptions": [self.subscription(t) for t in grouped[kind.SUBSCRIPTION]],
            "spend_trackers": [self.spend_tracker(t) for t in grouped[kind.SPEND_TRACKER]],
        }
        optional = {
            "contract_name": package.contract_name,
            "rate_card_id": str(package.rate_card_id) if package.rate_card_id else None,
            # Not in the SDK's Package model; an extra key strict mode accepts, and sent back
            # because every field sent is returned.
            "rate_card_alias": package.rate_card_alias,
            "billing_provider": package.billing_provider,
            "delivery_method": package.delivery_method,
            "multiplier_override_prioritization": package.multiplier_override_prioritization,
            "scheduled_charges_on_usage_invoices": package.scheduled_charges_on_usage_invoices,
            "uniqueness_key": package.uniqueness_key,
            "net_payment_terms_days": plain_number(package.net_payment_terms_days),
        }
        if package.duration_unit:
            optional["duration"] = {"unit": package.duration_unit, "value": package.duration_value}
        for key in ("spend_threshold_configuration", "prepaid_balance_threshold_configuration"):
            optional[key] = settings.get(key)
        data.update({key: value for key, value in optional.items() if value not in (None, "")})
        return data


def term_credit_type_ids(body: Mapping[str, Any]) -> Iterator[str]:
    """Credit types whose names a term's response shows (the others appear as ids only)."""
    for key in ("access_schedule", "invoice_schedule", "schedule", "overwrite_rate"):
        part = body.get(key)
        if part and part.get("credit_type_id"):
            yield part["credit_type_id"]
