"""The package builder's forms. They only collect input and turn it into the body of
`POST /v1/packages/create`; that body is checked by the API's own serializer and service, and
the errors those name by path (`recurring_credits[0].access_amount.quantity`) are put back on the
inputs here (`BuilderForms.add_error`). One validation path: no rule is repeated in a form.

One formset per term kind, each with its API key as prefix (`recurring_credits-0-...`); adding
a row raises that prefix's TOTAL_FORMS and removing one ticks its DELETE box (STYLE.md).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django import forms
from django.forms import formset_factory

from config.core.instants import format_instant_to_second
from packages_app.models import USD_CENTS_ID, AliasName, Package, Product, RateCard

UNIT_CHOICES = [("DAYS", "days"), ("WEEKS", "weeks"), ("MONTHS", "months"), ("YEARS", "years")]
FREQUENCY_CHOICES = [
    ("MONTHLY", "monthly"),
    ("QUARTERLY", "quarterly"),
    ("ANNUAL", "annual"),
    ("WEEKLY", "weekly"),
]
BLANK = [("", "—")]


class UTCDateTimeInput(forms.DateTimeInput):
    """ISO 8601 typed as text (`2027-01-31` or `2027-01-31T09:30`, UTC): a native picker
    would show the browser's locale format, and every date here reads one way."""

    input_type = "text"

    def __init__(self, **kwargs):
        attrs = {
            "placeholder": "YYYY-MM-DD",
            "pattern": r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?",
            "inputmode": "numeric",
            "autocomplete": "off",
            **kwargs.pop("attrs", {}),
        }
        super().__init__(format="%Y-%m-%dT%H:%M", attrs=attrs, **kwargs)

    def format_value(self, value):
        text = super().format_value(value)
        return text[:-6] if text and text.endswith("T00:00") else text


def utc_datetime_field(label: str, *, required: bool = False, help_text: str = "") -> forms.Field:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=UTCDateTimeInput(),
        input_formats=[
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%d",
        ],
        help_text=help_text or "UTC; a time is optional (THH:MM)",
    )


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


class ServiceCheckedChoiceField(forms.ChoiceField):
    """A select whose value the service checks (exists, not archived), like the API's: the
    form keeps no second copy of that rule."""

    def valid_value(self, value) -> bool:
        return True


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


class AliasForm(forms.Form):
    name = forms.CharField(label="Alias", max_length=400, required=False)
    starting_at = utc_datetime_field("From", help_text="UTC; empty: now")
    ending_before = utc_datetime_field("Until", help_text="UTC; empty: open-ended")
    paths = {"name": "name", "starting_at": "starting_at", "ending_before": "ending_before"}
    kind, title = "aliases", "Alias"

    def field_for(self, path: str) -> str | None:
        return self.paths.get(path.split(".")[0])


class VersionForm(forms.Form):
    """The new-version option: take over the old package's aliases from a date."""

    take_over_aliases_from = utc_datetime_field(
        "Take over its aliases from",
        help_text="UTC; empty: the new version gets no alias (schedule one later)",
    )


def rate_card_alias_choices() -> list[tuple[str, str]]:
    names = AliasName.objects.filter(kind=AliasName.Kind.RATE_CARD).order_by("name")
    return BLANK + [(name, name) for name in names.values_list("name", flat=True)]


class PackageForm(forms.Form):
    name = forms.CharField(label="Package name", max_length=400, required=False)
    contract_name = forms.CharField(
        label="Contract name", max_length=400, required=False, help_text="Defaults to the name"
    )
    rate_card = ServiceCheckedChoiceField(label="Rate card", required=False, choices=BLANK)
    rate_card_alias = forms.ChoiceField(
        label="or rate-card alias",
        choices=BLANK,
        required=False,
        help_text="Resolved at each contract's start",
    )
    locals().update(_offset_fields("duration", "Contract length", required=False, minimum=1))
    billing_provider = forms.ChoiceField(
        label="Billing provider",
        required=False,
        choices=[
            *BLANK,
            ("stripe", "Stripe"),
            ("netsuite", "NetSuite"),
            ("aws_marketplace", "AWS Marketplace"),
            ("azure_marketplace", "Azure Marketplace"),
            ("gcp_marketplace", "GCP Marketplace"),
        ],
    )
    delivery_method = forms.ChoiceField(
        label="Delivery method",
        required=False,
        choices=[
            *BLANK,
            ("direct_to_billing_provider", "direct to billing provider"),
            ("aws_sqs", "AWS SQS"),
            ("aws_sns", "AWS SNS"),
            ("tackle", "Tackle"),
        ],
    )
    net_payment_terms_days = forms.DecimalField(label="Net payment terms (days)", required=False)
    usage_frequency = forms.ChoiceField(
        required=False, label="Usage statements", choices=FREQUENCY_CHOICES, initial="MONTHLY"
    )
    usage_day = forms.ChoiceField(
        required=False,
        label="Statement day",
        choices=[("FIRST_OF_MONTH", "first of month"), ("CONTRACT_START", "contract start day")],
        initial="FIRST_OF_MONTH",
    )
    multiplier_override_prioritization = forms.ChoiceField(
        label="Override prioritisation",
        required=False,
        choices=[*BLANK, ("LOWEST_MULTIPLIER", "lowest multiplier"), ("EXPLICIT", "explicit")],
    )
    uniqueness_key = forms.CharField(widget=forms.HiddenInput, required=False)
    paths = {
        "name": "name",
        "contract_name": "contract_name",
        "rate_card_id": "rate_card",
        "rate_card_alias": "rate_card_alias",
        "duration": "duration_value",
        "billing_provider": "billing_provider",
        "delivery_method": "delivery_method",
        "net_payment_terms_days": "net_payment_terms_days",
        "usage_statement_schedule.frequency": "usage_frequency",
        "usage_statement_schedule": "usage_day",
        "multiplier_override_prioritization": "multiplier_override_prioritization",
        "uniqueness_key": "name",
        "body": None,
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rate_card_alias"].choices = rate_card_alias_choices()
        cards = RateCard.objects.filter(archived_at__isnull=True).order_by("name", "id")
        self.fields["rate_card"].choices = [("", "— by alias instead —")] + [
            (str(pk), name) for pk, name in cards.values_list("id", "name")
        ]

    def field_for(self, path: str) -> str | None:
        for prefix in sorted(self.paths, key=len, reverse=True):
            if path == prefix or path.startswith(prefix + "."):
                return self.paths[prefix]
        return None

    def to_body(self, data):
        return _clean(
            {
                "name": data.get("name"),
                "contract_name": data.get("contract_name"),
                "rate_card_id": data.get("rate_card") or None,
                "rate_card_alias": data.get("rate_card_alias"),
                "duration": _offset(data, "duration"),
                "billing_provider": data.get("billing_provider"),
                "delivery_method": data.get("delivery_method"),
                "net_payment_terms_days": data.get("net_payment_terms_days"),
                "usage_statement_schedule": {
                    "frequency": data.get("usage_frequency") or "MONTHLY",
                    "day": data.get("usage_day") or "FIRST_OF_MONTH",
                },
                "multiplier_override_prioritization": data.get(
                    "multiplier_override_prioritization"
                ),
                "uniqueness_key": data.get("uniqueness_key"),
            }
        )


PATH_ITEM = re.compile(r"^(?P<key>[a-z_]+)\[(?P<index>\d+)\](?:\.(?P<rest>.*))?$")


class BuilderForms:
    """The whole builder: the package form, its aliases and one formset per term kind."""

    def __init__(self, data=None, *, initial: Mapping[str, Any] | None = None, extra_alias=1):
        initial = initial or {}
        self.package = PackageForm(
            data,
            initial=initial.get("package")
            or {"uniqueness_key": f"ui-{uuid.uuid4()}", "usage_frequency": "MONTHLY"},
        )
        alias_set = formset_factory(AliasForm, extra=0, can_delete=True)
        self.aliases = alias_set(data, prefix="aliases", initial=initial.get("aliases") or [{}])
        self.terms = []
        products = product_choices()
        for form_class in TERM_FORMS:
            term_set = formset_factory(form_class, extra=0, can_delete=True)
            formset = term_set(data, prefix=form_class.kind, initial=initial.get(form_class.kind))
            formset.title = form_class.title
            for form in [*formset.forms, formset.empty_form]:
                form.fields["product"].choices = products
            self.terms.append(formset)
        # body index → form index, per list (deleted and empty rows are not sent)
        self._sent: dict[str, list[int]] = {}

    @property
    def formsets(self):
        return [self.aliases, *self.terms]

    def is_valid(self) -> bool:
        valid = self.package.is_valid()
        for formset in self.formsets:
            valid = formset.is_valid() and valid
        return valid

    def _rows(self, formset):
        for index, form in enumerate(formset.forms):
            data = getattr(form, "cleaned_data", None)
            if data is None or data.get("DELETE"):
                continue
            yield index, form, data

    def body(self) -> dict:
        """The `packages/create` request body of the cleaned forms."""
        body = self.package.to_body(self.package.cleaned_data)
        aliases, sent = [], []
        for index, _form, data in self._rows(self.aliases):
            if not data.get("name"):
                continue
            aliases.append(
                _clean(
                    {
                        "name": data["name"],
                        "starting_at": data.get("starting_at"),
                        "ending_before": data.get("ending_before"),
                    }
                )
            )
            sent.append(index)
        self._sent["aliases"] = sent
        if aliases:
            body["aliases"] = aliases
        for formset in self.terms:
            key = formset.prefix
            bodies, sent = [], []
            for index, form, data in self._rows(formset):
                bodies.append(form.to_body(data))
                sent.append(index)
            self._sent[key] = sent
            if bodies:
                body[key] = bodies
        return body

    def add_error(self, path: str | None, message: str) -> None:
        """Show an error of the API's validation on the input its path names."""
        match = PATH_ITEM.match(path or "")
        if match:
            key, index, rest = match["key"], int(match["index"]), match["rest"] or ""
            formset = next((f for f in self.formsets if f.prefix == key), None)
            sent = self._sent.get(key, [])
            if formset is not None and index < len(sent):
                form = formset.forms[sent[index]]
                field = form.field_for(rest) if rest else None
                form.add_error(field if field in form.fields else None, message)
                return
        field = self.package.field_for(path or "")
        self.package.add_error(field if field in self.package.fields else None, message)


def not_carried_over(package, terms) -> list[str]:
    """What the builder cannot show of `package`, so a new version made with it would drop:
    said on the page rather than lost silently."""
    lost = []
    counts: dict[str, int] = {}
    for term in terms:
        counts[term.kind] = counts.get(term.kind, 0) + 1
        index = counts[term.kind]
        if term.kind == "spend_tracker":
            lost.append(f"spend tracker “{term.body.get('alias', '')}”")
            continue
        for key in ("access_schedule", "invoice_schedule", "schedule"):
            items = (term.body.get(key) or {}).get("schedule_items") or []
            if len(items) > 1:
                lost.append(
                    f"{term.get_kind_display().lower()} {index}: {len(items) - 1} "
                    f"{key.replace('_', ' ')} item(s) after the first"
                )
        for key in ("specifiers", "applicable_product_ids", "applicable_product_tags"):
            if term.body.get(key):
                lost.append(f"{term.get_kind_display().lower()} {index}: {key.replace('_', ' ')}")
    for key in ("spend_threshold_configuration", "prepaid_balance_threshold_configuration"):
        if (package.settings or {}).get(key):
            lost.append(key.replace("_", " "))
    return lost


def builder_initial_from_package(package, terms, *, alias_rows=()) -> dict:
    """Builder initial data that reproduces an existing package (for a new version)."""
    usage = (package.settings or {}).get("usage_statement_schedule") or {}
    initial: dict[str, Any] = {
        "package": {
            "name": package.name,
            "contract_name": package.contract_name,
            "rate_card": str(package.rate_card_id or ""),
            "rate_card_alias": package.rate_card_alias,
            "duration_value": package.duration_value,
            "duration_unit": package.duration_unit or "MONTHS",
            "billing_provider": package.billing_provider,
            "delivery_method": package.delivery_method,
            "net_payment_terms_days": package.net_payment_terms_days,
            "usage_frequency": usage.get("frequency", "MONTHLY"),
            "usage_day": usage.get("day", "FIRST_OF_MONTH"),
            "multiplier_override_prioritization": package.multiplier_override_prioritization,
            "uniqueness_key": f"ui-{uuid.uuid4()}",
        },
        "aliases": list(alias_rows) or [{}],
    }
    by_kind = {form.kind: form for form in TERM_FORMS}
    kind_keys = {
        "commit": "commits",
        "credit": "credits",
        "recurring_commit": "recurring_commits",
        "recurring_credit": "recurring_credits",
        "subscription": "subscriptions",
        "scheduled_charge": "scheduled_charges",
        "override": "overrides",
    }
    for term in terms:
        key = kind_keys.get(term.kind)
        if key:
            initial.setdefault(key, []).append(by_kind[key].initial_from(term.body))
    return initial


FORMS_BY_KEY = {form.kind: form for form in [*TERM_FORMS, AliasForm]}


def add_row_to(data, key: str):
    """A copy of POST data with one more row in formset `key` (a named "Add …" button),
    its inputs holding their defaults (a bound form shows its data, not its initials)."""
    data = data.copy()
    total = f"{key}-TOTAL_FORMS"
    try:
        index = int(data.get(total) or 0)
    except ValueError:
        index = 0
    form_class = FORMS_BY_KEY.get(key)
    if form_class is None:
        return data
    data[total] = str(index + 1)
    for name, field in form_class.base_fields.items():
        initial = field.initial
        if initial is None or initial is False:
            continue
        data[f"{key}-{index}-{name}"] = "on" if initial is True else str(initial)
    return data


def remove_row_from(data, row: str):
    """A copy of POST data with row `key-index` marked deleted (a named "Remove" button)."""
    data = data.copy()
    data[f"{row}-DELETE"] = "on"
    return data


def today_utc() -> dt.datetime:
    now = dt.datetime.now(dt.UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def package_choices() -> list[tuple[str, str]]:
    """Packages that can be provisioned (not archived), newest first: one query."""
    packages = Package.objects.filter(archived_at__isnull=True).order_by("-created_at", "-id")
    return [("", "— choose a package —")] + [
        (str(pk), f"{name} · {created:%Y-%m-%d}")
        for pk, name, created in packages.values_list("id", "name", "created_at")
    ]


class AliasScheduleForm(forms.Form):
    """Point a package alias at a package from a date (alias_assign checks the rest)."""

    name = forms.CharField(label="Alias", max_length=400)
    package = forms.ChoiceField(label="Points at package", choices=BLANK)
    starting_at = utc_datetime_field("From", help_text="UTC; empty: now")
    ending_before = utc_datetime_field("Until", help_text="UTC; empty: until changed again")
    paths = {
        "schedule.package": "package",
        "schedule.ending_before": "ending_before",
        "schedule": "starting_at",
    }

    def __init__(self, *args, package_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["package"].choices = list(package_choices)
        self.fields["name"].widget.attrs["list"] = "alias-names"

    def field_for(self, path: str | None) -> str | None:
        return self.paths.get(path or "", None)


class ServiceForm(forms.Form):
    """A form whose inputs are named by the service's field paths (`paths`: the longest
    matching prefix wins; an unknown path becomes a form-wide error)."""

    paths: dict[str, str | None] = {}

    def add_service_error(self, path: str | None, message: str) -> None:
        path = path or ""
        for prefix in sorted(self.paths, key=len, reverse=True):
            if path == prefix or path.startswith((prefix + ".", prefix + "[")):
                self.add_error(self.paths[prefix], message)
                return
        self.add_error(None, message)


def as_wire(value: Any) -> Any:
    """A form-built body as JSON would carry it: datetimes as RFC 3339 strings (the API's
    serializers take strings only), everything else as is."""
    if isinstance(value, dt.datetime):
        return format_instant_to_second(value)
    if isinstance(value, dict):
        return {key: as_wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_wire(item) for item in value]
    return value


def submit_through(form: ServiceForm, serializer, body: dict, call):
    """Validate `body` with the API's `serializer`, then `call(data)` (the API's service):
    one validation path. Errors land on `form`; None is returned then."""
    from rest_framework.exceptions import ValidationError

    from config.api.errors import flatten_errors
    from config.api.views_base import validated
    from config.core.errors import ApplicationError
    from packages_app.api.billable_metrics import plain

    try:
        return call(plain(validated(serializer, as_wire(body))))
    except ValidationError as exc:
        for path, messages in flatten_errors(exc.detail).items():
            form.add_service_error(path, " ".join(messages))
    except ApplicationError as exc:
        form.add_service_error(exc.field, exc.message)
    return None


RATE_TYPE_CHOICES = [
    ("FLAT", "flat"),
    ("PERCENTAGE", "percentage"),
    ("SUBSCRIPTION", "subscription"),
    ("TIERED", "tiered"),
    ("TIERED_PERCENTAGE", "tiered percentage"),
]


class RateCardForm(ServiceForm):
    name = forms.CharField(label="Name", max_length=400)
    description = forms.CharField(label="Description", required=False)
    alias = forms.CharField(
        label="Alias", required=False, help_text="Optional: a name packages can use"
    )
    paths = {"name": "name", "description": "description", "aliases": "alias"}

    def body(self) -> dict:
        data = self.cleaned_data
        body = {"name": data["name"], "description": data.get("description") or ""}
        if data.get("alias"):
            body["aliases"] = [{"name": data["alias"]}]
        return body


def parse_tiers(text: str) -> list[dict] | None:
    """`"1000:3, :2"` → [{size 1000, price 3}, {price 2}] (size empty on the last tier)."""
    tiers = []
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        size, _, price = part.rpartition(":")
        tier: dict[str, Any] = {"price": _decimal_or_text(price)}
        if size.strip():
            tier["size"] = _decimal_or_text(size)
        tiers.append(tier)
    return tiers or None


def _decimal_or_text(value: str):
    try:
        return Decimal(value.strip())
    except ArithmeticError:
        return value.strip()


class RateForm(ServiceForm):
    product = ServiceCheckedChoiceField(label="Product", choices=BLANK)
    rate_type = forms.ChoiceField(label="Rate type", choices=RATE_TYPE_CHOICES)
    price = forms.DecimalField(label="Price", required=False, help_text="In the card's credit type")
    tiers = forms.CharField(
        label="Tiers", required=False, help_text="size:price, …, :price (tiered types)"
    )
    quantity = forms.DecimalField(label="Quantity", required=False, help_text="Subscription rates")
    billing_frequency = forms.ChoiceField(
        label="Billing frequency", choices=[*BLANK, *FREQUENCY_CHOICES], required=False
    )
    entitled = forms.BooleanField(label="Entitled", required=False, initial=True)
    starting_at = utc_datetime_field("From", required=True)
    ending_before = utc_datetime_field("Until", help_text="UTC; empty: open-ended")
    paths = {
        "product_id": "product",
        "rate_type": "rate_type",
        "price": "price",
        "tiers": "tiers",
        "quantity": "quantity",
        "billing_frequency": "billing_frequency",
        "entitled": "entitled",
        "starting_at": "starting_at",
        "ending_before": "ending_before",
        "rate_card_id": None,
    }

    def body(self, rate_card_id) -> dict:
        data = self.cleaned_data
        body = {
            "rate_card_id": str(rate_card_id),
            "product_id": data.get("product") or "",
            "rate_type": data["rate_type"],
            "entitled": bool(data.get("entitled")),
            "starting_at": data["starting_at"],
        }
        for key in ("price", "quantity", "billing_frequency", "ending_before"):
            if data.get(key) not in (None, ""):
                body[key] = data[key]
        tiers = parse_tiers(data.get("tiers") or "")
        if tiers:
            body["tiers"] = tiers
        return body


class RateCardAliasForm(ServiceForm):
    name = forms.CharField(label="Alias", max_length=400)
    starting_at = utc_datetime_field("From", help_text="UTC; empty: now")
    ending_before = utc_datetime_field("Until", help_text="UTC; empty: open-ended")
    paths = {
        "aliases[0].name": "name",
        "aliases[0].ending_before": "ending_before",
        "aliases[0]": "starting_at",
        "aliases": "name",
    }

    def body(self, rate_card_id) -> dict:
        data = self.cleaned_data
        alias = {"name": data["name"]}
        for key in ("starting_at", "ending_before"):
            if data.get(key):
                alias[key] = data[key]
        return {"rate_card_id": str(rate_card_id), "aliases": [alias]}


PRODUCT_TYPES = [
    ("USAGE", "usage"),
    ("SUBSCRIPTION", "subscription"),
    ("FIXED", "fixed"),
    ("COMPOSITE", "composite"),
    ("PROFESSIONAL_SERVICE", "professional service"),
]


class ProductForm(ServiceForm):
    name = forms.CharField(label="Name", max_length=400)
    type = forms.ChoiceField(label="Type", choices=PRODUCT_TYPES)
    billable_metric = ServiceCheckedChoiceField(
        label="Billable metric", choices=BLANK, required=False, help_text="Usage products"
    )
    tags = forms.CharField(label="Tags", required=False, help_text="Comma-separated")
    paths = {
        "name": "name",
        "type": "type",
        "billable_metric_id": "billable_metric",
        "tags": "tags",
    }

    def body(self) -> dict:
        data = self.cleaned_data
        body = {"name": data["name"], "type": data["type"]}
        if data.get("billable_metric"):
            body["billable_metric_id"] = data["billable_metric"]
        tags = [t.strip() for t in (data.get("tags") or "").split(",") if t.strip()]
        if tags:
            body["tags"] = tags
        return body


class BillableMetricForm(ServiceForm):
    name = forms.CharField(label="Name", max_length=400)
    aggregation_type = forms.ChoiceField(
        label="Aggregation",
        choices=[
            ("COUNT", "count"),
            ("SUM", "sum"),
            ("MAX", "max"),
            ("LATEST", "latest"),
            ("UNIQUE", "unique"),
        ],
    )
    aggregation_key = forms.CharField(
        label="Aggregation key", required=False, help_text="Property summed, maxed, …"
    )
    event_type = forms.CharField(label="Event type", required=False, help_text="e.g. api_call")
    paths = {
        "name": "name",
        "aggregation_type": "aggregation_type",
        "aggregation_key": "aggregation_key",
        "event_type_filter": "event_type",
        "property_filters": "aggregation_key",
    }

    def body(self) -> dict:
        data = self.cleaned_data
        body = {"name": data["name"], "aggregation_type": data["aggregation_type"]}
        if data.get("aggregation_key"):
            # The key must be a property the events carry: filter on its presence.
            body["aggregation_key"] = data["aggregation_key"]
            body["property_filters"] = [{"name": data["aggregation_key"], "exists": True}]
        if data.get("event_type"):
            body["event_type_filter"] = {"in_values": [data["event_type"]]}
        return body
