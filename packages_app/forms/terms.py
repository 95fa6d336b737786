"""The builder's term rows, one form per term kind. Each only collects input and builds its
term's part of the `POST /v1/packages/create` body; the API's serializer and service check it,
and the errors they name by path (`recurring_credits[0].access_amount.quantity`) come back on
the inputs through `paths`."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django import forms

from config.web.forms import (
    BLANK,
    ServiceCheckedChoiceField,
)
from packages_app.models import USD_CENTS_ID, Product

UNIT_CHOICES = [("DAYS", "days"), ("WEEKS", "weeks"), ("MONTHS", "months"), ("YEARS", "years")]
FREQUENCY_CHOICES = [
    ("MONTHLY", "monthly"),
    ("QUARTERLY", "quarterly"),
    ("ANNUAL", "annual"),
    ("WEEKLY", "weekly"),
]


def _offset_fields(
    prefix: str, label: str, *, required: bool, minimum: int, initial: int | None = None
) -> dict:
    return {
        f"{prefix}_value": forms.IntegerField(
            label=f"{label}",
            required=required,
            min_value=minimum,
            initial=initial,
            widget=forms.NumberInput(attrs={"class": "num"}),
        ),
        f"{prefix}_unit": forms.ChoiceField(
            label=f"{label} unit", choices=UNIT_CHOICES, initial="MONTHS", required=False
        ),
    }


def _offset(data: Mapping[str, Any], prefix: str, *, zero_default: bool = False) -> dict | None:
    value = data.get(f"{prefix}_value")
    if value is None:
        return {"unit": "DAYS", "value": 0} if zero_default else None
    return {"unit": data.get(f"{prefix}_unit") or "MONTHS", "value": value}


def _offset_initial(offset: Mapping[str, Any] | None, prefix: str) -> dict:
    if not offset:
        return {}
    return {f"{prefix}_value": offset.get("value"), f"{prefix}_unit": offset.get("unit")}


def product_field(label: str = "Product") -> forms.ChoiceField:
    """Choices are set once per page by `BuilderForms` (one query for every row)."""
    return ServiceCheckedChoiceField(label=label, required=False, choices=BLANK)


def product_choices() -> list[tuple[str, str]]:
    products = Product.objects.filter(archived_at__isnull=True).order_by("name", "id")
    return [("", "— choose a product —")] + [
        (str(pk), f"{name} ({kind.lower()})")
        for pk, name, kind in products.values_list("id", "name", "type")
    ]


class TermForm(forms.Form):
    """A row of the builder. `paths` maps the API's field path inside one term onto an input
    (the longest matching prefix wins); `to_body` builds that term's request body."""

    kind = ""
    title = ""
    paths: dict[str, str] = {}
    layout: list[str] = []

    def to_body(self, data: Mapping[str, Any]) -> dict:
        raise NotImplementedError

    @classmethod
    def initial_from(cls, body: Mapping[str, Any]) -> dict:
        raise NotImplementedError

    def field_for(self, path: str) -> str | None:
        best = None
        for prefix, name in self.paths.items():
            if (
                path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")
            ) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, name)
        return best[1] if best else None


def _product_id(data: Mapping[str, Any], name: str = "product") -> str | None:
    return data.get(name) or None


def _clean(body: dict) -> dict:
    """Drops keys left empty, so the API sees an absent field ("This field is required.")
    rather than a null."""
    return {key: value for key, value in body.items() if value not in (None, "", [], {})}


class DrawdownForm(TermForm):
    """Commits and credits: one access period (amount, from, for)."""

    product = product_field()
    name = forms.CharField(label="Name", required=False)
    amount = forms.DecimalField(label="Amount (USD cents)", required=False)
    locals().update(_offset_fields("start", "Starts after", required=False, minimum=0, initial=0))
    locals().update(_offset_fields("length", "Lasts", required=False, minimum=1))
    priority = forms.DecimalField(label="Priority", required=False, initial=1)
    paths = {
        "product_id": "product",
        "name": "name",
        "priority": "priority",
        "access_schedule": "amount",
        "access_schedule.schedule_items[0].amount": "amount",
        "access_schedule.schedule_items[0].starting_at_offset": "start_value",
        "access_schedule.schedule_items[0].duration": "length_value",
    }
    layout = ["product", "name", "amount", "start", "length", "priority"]

    def _access(self, data):
        return {
            "credit_type_id": str(USD_CENTS_ID),
            "schedule_items": [
                _clean(
                    {
                        "amount": data.get("amount"),
                        "starting_at_offset": _offset(data, "start", zero_default=True),
                        "duration": _offset(data, "length"),
                    }
                )
            ],
        }

    def to_body(self, data):
        return _clean(
            {
                "product_id": _product_id(data),
                "name": data.get("name"),
                "priority": data.get("priority"),
                "access_schedule": self._access(data),
            }
        )

    @classmethod
    def initial_from(cls, body):
        items = (body.get("access_schedule") or {}).get("schedule_items") or [{}]
        first = items[0]
        return {
            "product": body.get("product_id"),
            "name": body.get("name", ""),
            "priority": body.get("priority"),
            "amount": first.get("amount"),
            **_offset_initial(first.get("starting_at_offset"), "start"),
            **_offset_initial(first.get("duration"), "length"),
        }


class CommitForm(DrawdownForm):
    kind, title = "commits", "Commit"
    type = forms.ChoiceField(
        required=False, label="Type", choices=[("PREPAID", "prepaid"), ("POSTPAID", "postpaid")]
    )
    invoice_amount = forms.DecimalField(
        label="Invoiced at start (USD cents)", required=False, help_text="Prepaid: what is billed"
    )
    paths = {
        **DrawdownForm.paths,
        "type": "type",
        "invoice_schedule": "invoice_amount",
    }
    layout = ["product", "type", "name", "amount", "invoice_amount", "start", "length", "priority"]

    def to_body(self, data):
        body = super().to_body(data)
        body["type"] = data.get("type") or "PREPAID"
        if data.get("invoice_amount") is not None:
            body["invoice_schedule"] = {
                "credit_type_id": str(USD_CENTS_ID),
                "schedule_items": [
                    {
                        "date_offset": _offset(data, "start", zero_default=True),
                        "quantity": Decimal(1),
                        "unit_price": data["invoice_amount"],
                    }
                ],
            }
        return body

    @classmethod
    def initial_from(cls, body):
        initial = super().initial_from(body)
        items = (body.get("invoice_schedule") or {}).get("schedule_items") or []
        if items:
            item = items[0]
            initial["invoice_amount"] = Decimal(str(item.get("unit_price", 0))) * Decimal(
                str(item.get("quantity", 1))
            )
        initial["type"] = body.get("type", "PREPAID")
        return initial


class CreditForm(DrawdownForm):
    kind, title = "credits", "Credit"


class RecurringForm(TermForm):
    product = product_field()
    name = forms.CharField(label="Name", required=False)
    unit_price = forms.DecimalField(label="Amount each period (USD cents)", required=False)
    quantity = forms.DecimalField(label="Quantity", required=False, initial=1)
    frequency = forms.ChoiceField(
        label="Every", choices=FREQUENCY_CHOICES, initial="MONTHLY", required=False
    )
    locals().update(_offset_fields("start", "Starts after", required=False, minimum=0, initial=0))
    locals().update(_offset_fields("length", "For", required=False, minimum=1))
    priority = forms.DecimalField(label="Priority", required=False, initial=1)
    periods_valid = forms.DecimalField(
        label="Each lasts (periods)", required=False, initial=1, min_value=Decimal("0.01")
    )
    paths = {
        "product_id": "product",
        "name": "name",
        "priority": "priority",
        "access_amount": "unit_price",
        "access_amount.unit_price": "unit_price",
        "access_amount.quantity": "quantity",
        "recurrence_frequency": "frequency",
        "starting_at_offset": "start_value",
        "duration": "length_value",
        "commit_duration": "periods_valid",
    }
    layout = [
        "product",
        "name",
        "unit_price",
        "quantity",
        "frequency",
        "start",
        "length",
        "periods_valid",
        "priority",
    ]

    def to_body(self, data):
        return _clean(
            {
                "product_id": _product_id(data),
                "name": data.get("name"),
                "priority": data.get("priority"),
                "access_amount": _clean(
                    {
                        "credit_type_id": str(USD_CENTS_ID),
                        "unit_price": data.get("unit_price"),
                        "quantity": data.get("quantity"),
                    }
                ),
                "commit_duration": {"value": data.get("periods_valid") or Decimal(1)},
                "recurrence_frequency": data.get("frequency") or "MONTHLY",
                "starting_at_offset": _offset(data, "start", zero_default=True),
                "duration": _offset(data, "length"),
            }
        )

    @classmethod
    def initial_from(cls, body):
        amount = body.get("access_amount") or {}
        return {
            "product": body.get("product_id"),
            "name": body.get("name", ""),
            "priority": body.get("priority"),
            "unit_price": amount.get("unit_price"),
            "quantity": amount.get("quantity"),
            "frequency": body.get("recurrence_frequency") or "MONTHLY",
            "periods_valid": (body.get("commit_duration") or {}).get("value", 1),
            **_offset_initial(body.get("starting_at_offset"), "start"),
            **_offset_initial(body.get("duration"), "length"),
        }


class RecurringCommitForm(RecurringForm):
    kind, title = "recurring_commits", "Recurring commit"


class RecurringCreditForm(RecurringForm):
    kind, title = "recurring_credits", "Recurring credit"


class OverrideForm(TermForm):
    kind, title = "overrides", "Override"
    product = product_field("Applies to product")
    type = forms.ChoiceField(
        required=False,
        label="Change",
        choices=[("MULTIPLIER", "multiply the rate"), ("OVERWRITE", "set the price")],
    )
    multiplier = forms.DecimalField(label="Multiplier", required=False)
    price = forms.DecimalField(label="New price (USD cents)", required=False)
    locals().update(_offset_fields("start", "Starts after", required=False, minimum=0, initial=0))
    locals().update(_offset_fields("length", "Lasts", required=False, minimum=1))
    paths = {
        "override_specifiers": "product",
        "type": "type",
        "multiplier": "multiplier",
        "overwrite_rate": "price",
        "starting_at_offset": "start_value",
        "duration": "length_value",
    }
    layout = ["product", "type", "multiplier", "price", "start", "length"]

    def to_body(self, data):
        kind = data.get("type") or "MULTIPLIER"
        body = {
            "override_specifiers": [_clean({"product_id": _product_id(data)})],
            "type": kind,
            "starting_at_offset": _offset(data, "start", zero_default=True),
            "duration": _offset(data, "length"),
        }
        if kind == "MULTIPLIER":
            body["multiplier"] = data.get("multiplier")
        elif data.get("price") is not None:
            body["overwrite_rate"] = {"rate_type": "FLAT", "price": data["price"]}
        return _clean(body)

    @classmethod
    def initial_from(cls, body):
        specifiers = body.get("override_specifiers") or [{}]
        return {
            "product": specifiers[0].get("product_id"),
            "type": body.get("type") or "MULTIPLIER",
            "multiplier": body.get("multiplier"),
            "price": (body.get("overwrite_rate") or {}).get("price"),
            **_offset_initial(body.get("starting_at_offset"), "start"),
            **_offset_initial(body.get("duration"), "length"),
        }


class ScheduledChargeForm(TermForm):
    kind, title = "scheduled_charges", "Scheduled charge"
    product = product_field()
    name = forms.CharField(label="Name", required=False)
    unit_price = forms.DecimalField(label="Unit price (USD cents)", required=False)
    quantity = forms.DecimalField(label="Quantity", required=False, initial=1)
    locals().update(_offset_fields("at", "Charged after", required=False, minimum=0, initial=0))
    paths = {
        "product_id": "product",
        "name": "name",
        "schedule": "unit_price",
        "schedule.schedule_items[0].unit_price": "unit_price",
        "schedule.schedule_items[0].quantity": "quantity",
        "schedule.schedule_items[0].date_offset": "at_value",
    }
    layout = ["product", "name", "unit_price", "quantity", "at"]

    def to_body(self, data):
        return _clean(
            {
                "product_id": _product_id(data),
                "name": data.get("name"),
                "schedule": {
                    "credit_type_id": str(USD_CENTS_ID),
                    "schedule_items": [
                        _clean(
                            {
                                "date_offset": _offset(data, "at", zero_default=True),
                                "quantity": data.get("quantity"),
                                "unit_price": data.get("unit_price"),
                            }
                        )
                    ],
                },
            }
        )

    @classmethod
    def initial_from(cls, body):
        items = (body.get("schedule") or {}).get("schedule_items") or [{}]
        return {
            "product": body.get("product_id"),
            "name": body.get("name", ""),
            "unit_price": items[0].get("unit_price"),
            "quantity": items[0].get("quantity"),
            **_offset_initial(items[0].get("date_offset"), "at"),
        }


class SubscriptionForm(TermForm):
    kind, title = "subscriptions", "Subscription"
    product = product_field("Subscription product")
    name = forms.CharField(label="Name", required=False)
    billing_frequency = forms.ChoiceField(label="Billed", choices=FREQUENCY_CHOICES, required=False)
    collection_schedule = forms.ChoiceField(
        required=False,
        label="Collected",
        choices=[("ADVANCE", "in advance"), ("ARREARS", "in arrears")],
    )
    initial_quantity = forms.DecimalField(label="Initial quantity", required=False, initial=1)
    is_prorated = forms.BooleanField(label="Prorated", required=False, initial=True)
    locals().update(_offset_fields("start", "Starts after", required=False, minimum=0, initial=0))
    locals().update(_offset_fields("length", "Lasts", required=False, minimum=1))
    paths = {
        "subscription_rate": "product",
        "subscription_rate.billing_frequency": "billing_frequency",
        "name": "name",
        "collection_schedule": "collection_schedule",
        "initial_quantity": "initial_quantity",
        "proration": "is_prorated",
        "starting_at_offset": "start_value",
        "duration": "length_value",
    }
    layout = [
        "product",
        "name",
        "billing_frequency",
        "collection_schedule",
        "initial_quantity",
        "is_prorated",
        "start",
        "length",
    ]

    def to_body(self, data):
        return _clean(
            {
                "subscription_rate": _clean(
                    {
                        "product_id": _product_id(data),
                        "billing_frequency": data.get("billing_frequency") or "MONTHLY",
                    }
                ),
                "name": data.get("name"),
                "collection_schedule": data.get("collection_schedule") or "ADVANCE",
                "initial_quantity": data.get("initial_quantity"),
                "proration": {"is_prorated": bool(data.get("is_prorated"))},
                "starting_at_offset": _offset(data, "start"),
                "duration": _offset(data, "length"),
            }
        )

    @classmethod
    def initial_from(cls, body):
        rate = body.get("subscription_rate") or {}
        return {
            "product": rate.get("product_id"),
            "billing_frequency": rate.get("billing_frequency"),
            "name": body.get("name", ""),
            "collection_schedule": body.get("collection_schedule"),
            "initial_quantity": body.get("initial_quantity"),
            "is_prorated": (body.get("proration") or {}).get("is_prorated", False),
            **_offset_initial(body.get("starting_at_offset"), "start"),
            **_offset_initial(body.get("duration"), "length"),
        }


TERM_FORMS: list[type[TermForm]] = [
    RecurringCreditForm,
    RecurringCommitForm,
    CreditForm,
    CommitForm,
    SubscriptionForm,
    ScheduledChargeForm,
    OverrideForm,
]
