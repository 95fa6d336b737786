"""The catalog's forms: alias schedules, rate cards and their rates, products, billable metrics.
Each builds the body of its API call; the API's serializer and service check it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from config.web.forms import (
    BLANK,
    ServiceCheckedChoiceField,
    ServiceForm,
    utc_datetime_field,
)
from packages_app.forms.terms import FREQUENCY_CHOICES, product_choices
from packages_app.models import AliasName, BillableMetric, Package
from packages_app.selectors.aliases import package_to_schedule


def package_choices() -> list[tuple[str, str]]:
    """Packages that can be provisioned (not archived), newest first: one query."""
    packages = Package.objects.filter(archived_at__isnull=True).order_by("-created_at", "-id")
    return [("", "— choose a package —")] + [
        (str(pk), f"{name} · {created:%Y-%m-%d}")
        for pk, name, created in packages.values_list("id", "name", "created_at")
    ]


def billable_metric_choices() -> list[tuple[str, str]]:
    """Billable metrics a new product may count with (not archived), by name: one query."""
    metrics = BillableMetric.objects.filter(archived_at__isnull=True).order_by("name")
    return [("", "— none —"), *((str(pk), name) for pk, name in metrics.values_list("id", "name"))]


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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["package"].choices = package_choices()
        self.fields["name"].widget.attrs["list"] = "alias-names"

    def body(self) -> dict:
        """`alias_assign`'s arguments: the package checked (it exists, not archived), an empty
        start meaning now (to the minute)."""
        data = self.cleaned_data
        return {
            "kind": AliasName.Kind.PACKAGE,
            "name": data["name"],
            "package": package_to_schedule(package_id=data["package"], field="schedule.package"),
            "starting_at": data.get("starting_at")
            or timezone.now().replace(second=0, microsecond=0),
            "ending_before": data.get("ending_before"),
        }

    def field_for(self, path: str | None) -> str | None:
        return self.paths.get(path or "", None)

    def add_service_error(self, path: str | None, message: str) -> None:
        self.add_error(self.field_for(path), message)


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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = product_choices()

    def body(self) -> dict:
        data = self.cleaned_data
        body = {
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


class RateChangeForm(ServiceForm):
    """End a rate in force at a date, or replace it from that date with a new price (or new
    tiers). The inputs' ids carry the rate's id: one form per row, no repeated ids."""

    ACTIONS = [("end", "End it"), ("replace", "Replace it")]

    action = forms.ChoiceField(choices=ACTIONS, widget=forms.HiddenInput)
    on = utc_datetime_field(
        "On", required=True, help_text="UTC; the last day billed is the day before"
    )
    price = forms.DecimalField(label="New price", required=False)
    tiers = forms.CharField(label="New tiers", required=False, help_text="size:price, …, :price")
    paths = {
        "ending_before": "on",
        "starting_at": "on",
        "price": "price",
        "tiers": "tiers",
        "rate_id": None,
    }

    def __init__(self, *args, rate_id=None, **kwargs):
        super().__init__(*args, auto_id=f"id_rate-{rate_id}-%s" if rate_id else "id_%s", **kwargs)

    def clean(self):
        data = super().clean()
        if data.get("action") == "replace" and data.get("price") is None and not data.get("tiers"):
            self.add_error("price", "Give the new price (or the new tiers of a tiered rate)")
        tiers = parse_tiers(data.get("tiers") or "") or []
        if any(not isinstance(v, Decimal) for tier in tiers for v in tier.values()):
            self.add_error("tiers", "Write each tier as size:price, the last as :price")
        return data

    def error_summary(self) -> list[str]:
        return [
            f"{self.fields[name].label if name in self.fields else 'Rate'}: {error}"
            for name, errors in self.errors.items()
            for error in errors
        ]

    def body(self) -> dict:
        data = self.cleaned_data
        body = {"action": data["action"], "on": data["on"]}
        if data.get("price") is not None:
            body["price"] = data["price"]
        tiers = parse_tiers(data.get("tiers") or "")
        if tiers:
            body["tiers"] = tiers
        return body


class RateCardAliasForm(ServiceForm):
    """Its inputs' ids are `id_alias_*`: the add-rate form on the same page has `id_starting_at`."""

    field_ids = "id_alias_%s"
    name = forms.CharField(label="Alias", max_length=400)
    starting_at = utc_datetime_field("From", help_text="UTC; empty: now")
    ending_before = utc_datetime_field("Until", help_text="UTC; empty: open-ended")
    paths = {
        "aliases[0].name": "name",
        "aliases[0].ending_before": "ending_before",
        "aliases[0]": "starting_at",
        "aliases": "name",
    }

    def body(self) -> dict:
        data = self.cleaned_data
        alias = {"name": data["name"]}
        for key in ("starting_at", "ending_before"):
            if data.get(key):
                alias[key] = data[key]
        return {"aliases": [alias]}


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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["billable_metric"].choices = billable_metric_choices()

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


class ProductEditForm(ServiceForm):
    """A product's new name and tags from an instant (`product_update`: the product keeps its
    history; Metronome schedules changes on an hour boundary)."""

    name = forms.CharField(label="Name", max_length=400)
    tags = forms.CharField(label="Tags", required=False, help_text="Comma-separated")
    starting_at = utc_datetime_field("From", help_text="UTC, on the hour; empty: this hour")
    paths = {"name": "name", "tags": "tags", "starting_at": "starting_at", "product_id": None}

    def body(self) -> dict:
        data = self.cleaned_data
        tags = [t.strip() for t in (data.get("tags") or "").split(",") if t.strip()]
        this_hour = timezone.now().replace(minute=0, second=0, microsecond=0)
        return {
            "changes": {"name": data["name"], "tags": tags},
            "starting_at": data.get("starting_at") or this_hour,
        }


class RenameForm(ServiceForm):
    name = forms.CharField(label="Name", max_length=400)
    paths = {"name": "name"}

    def body(self) -> dict:
        return {"name": self.cleaned_data["name"]}
