"""Forms of the customer pages. They collect input for the services the API calls (customer
create, billing-provider configurations, provisioning, pricing-plan schedules); the services'
errors, named by field path, are put back on the inputs with `add_service_error`."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import uuid
from dataclasses import dataclass, field

from django import forms

from config.core.ids import parse_uuid
from config.web.forms import BLANK, ServiceForm, as_wire, today_utc, utc_datetime_field
from contracts_app.selectors.cohorts import MAX_CHART_POINTS, CohortFilter, chart_points
from contracts_app.selectors.customers import (
    CustomerLookup,
    customers_resolve,
    package_alias_names,
)
from contracts_app.services.customers import DELIVERY_METHODS
from packages_app.describe import BILLING_PROVIDER_NAMES, DELIVERY_METHOD_NAMES
from packages_app.forms.catalog import package_choices
from packages_app.models import AliasName, Package

BILLING_PROVIDERS = list(BILLING_PROVIDER_NAMES.items())


class CustomerForm(ServiceForm):
    # No max_length: the service cuts a long name to Metronome's 160 characters, as the API does.
    name = forms.CharField(label="Name")
    external_id = forms.CharField(label="External id", max_length=400, required=False)
    ingest_aliases = forms.CharField(
        label="Ingest aliases",
        required=False,
        help_text="Comma-separated ids your usage events carry",
    )
    paths = {"name": "name", "external_id": "external_id", "ingest_aliases": "ingest_aliases"}

    def body(self) -> dict:
        data = self.cleaned_data
        body = {"name": data["name"]}
        if data.get("external_id"):
            body["external_id"] = data["external_id"]
        aliases = [a.strip() for a in (data.get("ingest_aliases") or "").split(",") if a.strip()]
        if aliases:
            body["ingest_aliases"] = aliases
        return body


class BillingConfigurationForm(ServiceForm):
    billing_provider = forms.ChoiceField(label="Billing provider", choices=BILLING_PROVIDERS)
    delivery_method = forms.ChoiceField(
        label="Delivery method", choices=[(m, DELIVERY_METHOD_NAMES[m]) for m in DELIVERY_METHODS]
    )
    account_key = forms.CharField(
        label="Account field", required=False, help_text="e.g. stripe_customer_id"
    )
    account_value = forms.CharField(label="Account value", required=False)
    paths = {
        "data[0].billing_provider": "billing_provider",
        "data[0].delivery_method": "delivery_method",
        "data[0].configuration": "account_value",
        "data[0]": "billing_provider",
    }

    def item(self, customer_id) -> dict:
        data = self.cleaned_data
        configuration = {}
        if data.get("account_key"):
            configuration[data["account_key"]] = data.get("account_value") or ""
        return {
            "customer_id": str(customer_id),
            "billing_provider": data["billing_provider"],
            "delivery_method": data["delivery_method"],
            "configuration": configuration,
        }


class PackageOrAliasForm(ServiceForm):
    """A form naming the package to move onto by its `package` or its `package_alias`: one of
    them."""

    def clean(self):
        data = super().clean()
        if bool(data.get("package")) == bool(data.get("package_alias")):
            self.add_error("package", "Choose a package or an alias (one of them).")
        return data


class ProvisionForm(PackageOrAliasForm):
    """Provision by package or by alias (resolved at the start), previewed before it is made."""

    package = forms.ChoiceField(label="Package", choices=BLANK, required=False)
    package_alias = forms.ChoiceField(label="or alias", choices=BLANK, required=False)
    starting_at = utc_datetime_field("Starting", required=True)
    uniqueness_key = forms.CharField(widget=forms.HiddenInput, required=False)
    paths = {
        "package_id": "package",
        "package_alias": "package_alias",
        "starting_at": "starting_at",
        "ending_before": "starting_at",
        "customer_id": None,
        "uniqueness_key": None,
    }

    def __init__(self, *args, package_choices=(), alias_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["package"].choices = list(package_choices)
        self.fields["package_alias"].choices = [*BLANK, *((a, a) for a in alias_choices)]
        if not self.is_bound and not self.initial.get("uniqueness_key"):
            self.initial["uniqueness_key"] = f"ui-{uuid.uuid4()}"

    def arguments(self, customer, created_by: str) -> dict:
        """contract_provision's arguments (the package as its row; none: the alias's)."""
        data = self.cleaned_data
        package_id = data["package"]
        return {
            "customer": customer,
            "starting_at": data["starting_at"],
            "package": Package.objects.filter(pk=package_id).first() if package_id else None,
            "package_alias": data["package_alias"] or None,
            "created_by": created_by,
        }


class ScheduleChangeForm(PackageOrAliasForm):
    """End a subscription's current contract at a date and start the next one there (the
    pricing-plan schedule service with set_previous_end_at)."""

    field_ids = "change_%s"  # beside the provision form on the customer page
    subscription = forms.ChoiceField(label="Subscription", choices=BLANK)
    package = forms.ChoiceField(label="Move to package", choices=BLANK, required=False)
    package_alias = forms.ChoiceField(label="or alias", choices=BLANK, required=False)
    starting_at = utc_datetime_field("From", required=True)
    wire_labels = {
        "start_at": "From",
        "end_at": "From",
        "pricing_plan_id": "Alias",
        "pricing_plan_version_id": "Move to package",
        "pricing_plan_subscription_id": "Subscription",
        "package_id": "Move to package",
    }
    paths = {
        "pricing_plan_version_id": "package",
        "pricing_plan_id": "package_alias",
        "pricing_plan_version_selector": "package_alias",
        "pricing_plan_subscription_id": "subscription",
        "start_at": "starting_at",
        "end_at": "starting_at",
        "starting_at": "starting_at",
        "package_id": "package",
        "customer_id": "subscription",
    }

    def __init__(
        self, *args, subscription_choices=(), package_choices=(), alias_choices=(), **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.fields["subscription"].choices = list(subscription_choices)
        self.fields["package"].choices = list(package_choices)
        self.fields["package_alias"].choices = [*BLANK, *((str(i), n) for i, n in alias_choices)]

    def arguments(self, created_by: str) -> dict:
        """pricing_plan_schedule_create's arguments: the subscription's current contract ends
        where the next one starts (set_previous_end_at)."""
        data = self.cleaned_data
        return {
            "subscription_id": data["subscription"],
            "start_at": data["starting_at"],
            "pricing_plan_version_id": data["package"] or None,
            "pricing_plan_id": data["package_alias"] or None,
            "set_previous_end_at": True,
            "created_by": created_by,
        }


TIMING_CHOICES = [
    ("AT", "At one instant: every contract moves then"),
    ("NEXT_BILLING_PERIOD", "At each contract's next billing period on or after a date"),
    ("END_OF_TERM", "At the end of each contract's term (renewal)"),
]
CANARY_CHOICES = [
    ("", "None: every contract moves as planned"),
    ("count", "A canary: the first N contracts move, then the job pauses until resumed"),
    ("customers", "A canary of these customers: they move, then the job pauses"),
]
EDITED_CHOICES = [
    ("SKIP", "Skip them: they stay on their edited contracts"),
    ("MIGRATE", "Move them too: their edits are not carried over"),
]
_ENTRY_SEPARATORS = re.compile(r"[\n,;]+")
_SPACES = re.compile(r"\s+")


RESOLVED_SHOWN = 20


def entries_from_text(text: str) -> list[str]:
    """Customers pasted one a line or separated by commas or semicolons (quotes dropped): ids,
    external ids or names (a name may hold spaces; a line of ids separated by spaces is split)."""
    entries = []
    for part in _ENTRY_SEPARATORS.split(text or ""):
        part = part.strip().strip("\"'").strip()
        words = _SPACES.split(part)
        if len(words) > 1 and all(parse_uuid(word) is not None for word in words):
            entries += words
        elif part:
            entries.append(part)
    return entries


def _lookup_error(lookup: CustomerLookup) -> str:
    """The entries that named nobody, or several customers, in words (a few of them by name)."""
    shown = 5
    problems = [f"“{entry[:60]}”" for entry in lookup.unknown[:shown]]
    words = []
    if lookup.unknown:
        more = len(lookup.unknown) - shown
        words.append(
            f"No customer has this id, external id or name: {', '.join(problems)}"
            + (f" and {more} more" if more > 0 else "")
            + "."
        )
    for entry, n in list(lookup.ambiguous.items())[:shown]:
        words.append(f"“{entry[:60]}” is the name of {n} customers: give its id or external id.")
    return " ".join(words)


# A first row whose first cell is one of these column titles is a header, not a customer.
CSV_HEADER_TITLES = frozenset(
    {"id", "ids", "customer", "customers", "customer_id", "customer_ids", "name", "names"}
    | {"customer_name", "external_id", "customer_external_id", "external_ids"}
)
CSV_FILE_HELP = (
    "First column: customer ids, external ids or names, one a row; a first row titled "
    "customer_id, id, external_id or name is a header and skipped"
)


def _is_header(cell: str) -> bool:
    return re.sub(r"[\s-]+", "_", cell.strip().lower()) in CSV_HEADER_TITLES


def ids_from_csv(upload) -> list[str]:
    """The first column of an uploaded CSV file: customer ids, external ids or names, each
    looked up like the pasted ones. The first row is a header only when its title says so
    (customer_id, id, external_id, name…): a first customer named without digits is kept."""
    text = upload.read().decode("utf-8-sig")
    rows = [row for row in csv.reader(io.StringIO(text)) if row and row[0].strip()]
    entries = [row[0].strip() for row in rows]
    if entries and _is_header(entries[0]):
        entries = entries[1:]
    return entries


@dataclass(frozen=True)
class CustomerChoices:
    """The select choices of the customer page's forms: the packages and package aliases as
    they are now, and the customer's subscriptions (presenters.subscription_choices)."""

    subscriptions: list[tuple[str, str]]
    packages: list[tuple[str, str]] = field(default_factory=package_choices)
    aliases: list[tuple[int, str]] = field(default_factory=package_alias_names)

    def provision_form(self, data=None, **kwargs) -> ProvisionForm:
        aliases = [name for _, name in self.aliases]
        return ProvisionForm(data, package_choices=self.packages, alias_choices=aliases, **kwargs)

    def change_form(self, data=None, **kwargs) -> ScheduleChangeForm:
        return ScheduleChangeForm(
            data,
            subscription_choices=self.subscriptions,
            package_choices=self.packages,
            alias_choices=self.aliases,
            **kwargs,
        )


def customer_forms(choices: CustomerChoices, *, package_id: str, bound: dict) -> dict:
    """The customer page's forms: `bound` ones (by context name) as they came back, the others
    fresh (provision on `package_id` when the package page sent the user here); no change
    form without a subscription."""
    start = today_utc()
    forms_ = {
        "provision_form": choices.provision_form(
            initial={"package": package_id, "starting_at": start}
        ),
        "billing_form": BillingConfigurationForm(),
        "change_form": choices.change_form(initial={"starting_at": start})
        if choices.subscriptions
        else None,
    }
    forms_.update({name: form for name, form in bound.items() if form is not None})
    return forms_


class CohortMigrationForm(ServiceForm):
    """The migration wizard's input: what the API's create body carries, checked by the API's
    serializer (api.cohort_migration_serializers), whose field paths name these inputs."""

    source_package = forms.ChoiceField(label="Package", choices=BLANK, required=False)
    source_alias = forms.ChoiceField(label="or the package an alias", choices=BLANK, required=False)
    source_as_of = utc_datetime_field("pointed at on", help_text="UTC; with an alias only")
    target_package = forms.ChoiceField(label="Package", choices=BLANK, required=False)
    target_alias = forms.ChoiceField(
        label="or an alias",
        choices=BLANK,
        required=False,
        help_text="Resolved at each contract's move, so a scheduled re-point is honoured",
    )
    timing = forms.ChoiceField(
        label="When each contract moves",
        choices=TIMING_CHOICES,
        initial="AT",
        widget=forms.RadioSelect,
    )
    effective_at = utc_datetime_field(
        "From",
        help_text="UTC; the instant every contract moves, or the earliest date (at the next "
        "billing period)",
    )
    allow_past = forms.BooleanField(label="Yes, change them from that date", required=False)
    edited_contracts = forms.ChoiceField(
        label="Contracts edited since they were provisioned",
        choices=EDITED_CHOICES,
        initial="SKIP",
        widget=forms.RadioSelect,
    )
    customer_ids = forms.CharField(
        label="Only these customers",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "ids, external ids or names"}),
        help_text="Optional: customer ids, external ids or names, one a line (or comma "
        "separated), or a CSV file of them below; each is looked up before the preview",
    )
    customer_file = forms.FileField(
        label="or a CSV file of these customers", required=False, help_text=CSV_FILE_HELP
    )
    exclude_customer_ids = forms.CharField(
        label="Leave out these customers",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "ids, external ids or names"}),
    )
    exclude_file = forms.FileField(
        label="or a CSV file of the customers to leave out",
        required=False,
        help_text=CSV_FILE_HELP,
    )
    canary = forms.ChoiceField(
        label="Staged rollout",
        choices=CANARY_CHOICES,
        initial="",
        required=False,
        widget=forms.RadioSelect,
    )
    canary_count = forms.IntegerField(label="How many contracts first", min_value=1, required=False)
    canary_customers = forms.CharField(
        label="These customers first",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "ids, external ids or names"}),
    )
    name = forms.CharField(label="Name", max_length=400, required=False)
    run_at = utc_datetime_field("Run at", help_text="UTC; empty: as soon as you confirm")
    uniqueness_key = forms.CharField(widget=forms.HiddenInput, required=False)
    previewed = forms.CharField(widget=forms.HiddenInput, required=False)
    paths = {
        "source.package_id": "source_package",
        "source.package_alias": "source_alias",
        "source.as_of": "source_as_of",
        "source": "source_package",
        "target.package_id": "target_package",
        "target.package_alias": "target_alias",
        "target": "target_package",
        "effective.type": "timing",
        "effective.at": "effective_at",
        "effective.not_before": "effective_at",
        "effective": "timing",
        "customer_ids": "customer_ids",
        "exclude_customer_ids": "exclude_customer_ids",
        "edited_contracts": "edited_contracts",
        "allow_past": "allow_past",
        "canary.count": "canary_count",
        "canary.customer_ids": "canary_customers",
        "canary": "canary",
        "name": "name",
        "run_at": "run_at",
        "uniqueness_key": None,
    }

    def __init__(self, *args, choices_of: CohortMigrationForm | None = None, **kwargs):
        """Sources: every package (archived ones too: their cohorts still run); targets: the
        packages that can be provisioned; the package aliases for both (three queries, none
        when `choices_of` is a form to copy them from)."""
        super().__init__(*args, **kwargs)
        if choices_of is not None:
            for name in ("source_package", "target_package", "source_alias", "target_alias"):
                self.fields[name].choices = choices_of.fields[name].choices
            return
        packages = Package.objects.order_by("name", "-created_at").values_list(
            "id", "name", "created_at", "archived_at"
        )
        self.fields["source_package"].choices = [("", "— choose a package —")] + [
            (str(pk), f"{name} · {created:%Y-%m-%d}" + (" (archived)" if archived else ""))
            for pk, name, created, archived in packages
        ]
        self.fields["target_package"].choices = package_choices()
        names = AliasName.objects.filter(kind=AliasName.Kind.PACKAGE).order_by("name")
        aliases = [*BLANK, *((a, a) for a in names.values_list("name", flat=True))]
        self.fields["source_alias"].choices = aliases
        self.fields["target_alias"].choices = aliases

    def clean(self):
        """Each list of customers resolved (ids, external ids, names): `<field>_list` holds
        their ids for the API's body, `resolved[<field>]` what each entry found; an entry
        naming nobody (or several) is an error beside its box, so nothing is previewed; the
        first few found are shown ("resolved: name (id)")."""
        data = super().clean()
        self.resolved: dict[str, dict] = {}
        for text, upload in (
            ("customer_ids", "customer_file"),
            ("exclude_customer_ids", "exclude_file"),
            ("canary_customers", None),
        ):
            entries = entries_from_text(data.get(text) or "")
            if upload and data.get(upload):
                try:
                    entries += ids_from_csv(data[upload])
                except (UnicodeDecodeError, csv.Error):
                    self.add_error(
                        upload,
                        "Not a CSV file of customers (UTF-8 text, one id, external id or "
                        "name a row).",
                    )
            entries = list(dict.fromkeys(entries))
            lookup = customers_resolve(entries=entries) if entries else CustomerLookup()
            if lookup.unknown or lookup.ambiguous:
                self.add_error(text, _lookup_error(lookup))
            self.resolved[text] = {
                "shown": list(lookup.found.items())[:RESOLVED_SHOWN],
                "count": len(lookup.ids),
                "more": max(0, len(lookup.found) - RESOLVED_SHOWN),
            }
            data[f"{text}_entries"] = entries
            data[f"{text}_list"] = lookup.ids
        if data.get("canary") == "count" and not data.get("canary_count"):
            self.add_error("canary_count", "Say how many contracts move first.")
        if data.get("canary") == "customers" and not data.get("canary_customers_entries"):
            self.add_error("canary_customers", "List the customers who move first.")
        return data

    @classmethod
    def opened_from(cls, params, *, now: dt.datetime) -> CohortMigrationForm:
        """The empty wizard, its source filled from the link that opened it (`?source_package=`
        from a package page; `?source_alias=` from an alias page: its packages as of now)."""
        initial = {"source_package": params.get("source_package", "")}
        if params.get("source_alias"):
            initial.update(source_alias=params["source_alias"], source_as_of=now)
        return cls(initial=initial)

    def digest(self) -> str:
        """What was previewed (the body but its name and key): a confirm of other input
        previews again instead of creating something nobody saw."""
        seen = {k: v for k, v in self.body().items() if k not in ("name", "uniqueness_key")}
        return hashlib.sha256(json.dumps(seen, sort_keys=True).encode()).hexdigest()[:32]

    def body(self) -> dict:
        """The create body as the API receives it (RFC 3339 strings, ids as text)."""
        data = self.cleaned_data
        source: dict = {}
        if data.get("source_package"):
            source["package_id"] = data["source_package"]
        if data.get("source_alias"):
            source["package_alias"] = data["source_alias"]
        if data.get("source_as_of"):
            source["as_of"] = data["source_as_of"]
        target: dict = {}
        if data.get("target_package"):
            target["package_id"] = data["target_package"]
        if data.get("target_alias"):
            target["package_alias"] = data["target_alias"]
        effective: dict = {"type": data["timing"]}
        if data.get("effective_at"):
            key = "not_before" if data["timing"] == "NEXT_BILLING_PERIOD" else "at"
            effective[key] = data["effective_at"]
        body = {
            "source": source,
            "target": target,
            "effective": effective,
            "edited_contracts": data["edited_contracts"],
            "name": data.get("name") or "",
        }
        for key in ("customer_ids", "exclude_customer_ids"):
            if data.get(f"{key}_list"):
                body[key] = data[f"{key}_list"]
        if data.get("canary") == "count" and data.get("canary_count"):
            body["canary"] = {"count": data["canary_count"]}
        if data.get("canary") == "customers" and data.get("canary_customers_list"):
            body["canary"] = {"customer_ids": data["canary_customers_list"]}
        if data.get("run_at"):
            body["run_at"] = data["run_at"]
        if data.get("allow_past"):
            body["allow_past"] = True
        return as_wire(body)

    def create_arguments(self, data: dict, created_by: str) -> dict:
        """cohort_migration_create's arguments besides the resolved input, from the checked
        body `data` and this form's uniqueness key (a double confirm makes one job)."""
        return {
            "name": data.get("name", ""),
            "run_at": data.get("run_at"),
            "uniqueness_key": self.cleaned_data.get("uniqueness_key") or None,
            "created_by": created_by,
            "canary": data.get("canary"),
        }

    def rebound(self, **values: str) -> CohortMigrationForm:
        """The same input with uploaded files' ids moved into the text boxes (the confirm step
        carries no file, so it sends what was previewed) and `values` set (hidden fields)."""
        data = self.data.copy()
        for key in ("customer_ids", "exclude_customer_ids", "canary_customers"):
            data[key] = "\n".join(self.cleaned_data.get(f"{key}_entries") or [])
        for key, value in values.items():
            data[key] = value  # QueryDict.update would append
        form = type(self)(data, initial=self.initial, choices_of=self)
        form.resolved = self.resolved
        return form


class CohortFilterForm(forms.Form):
    """The cohort pages' filters, bound to the query string (GET): bookmarkable, and an
    invalid date is an error beside its input, never a 500."""

    at = utc_datetime_field("On", help_text="Contracts running at this instant; empty: now")
    starting_at = utc_datetime_field(
        "Or starting on/after", help_text="Instead of a date they cover"
    )
    archived = forms.BooleanField(label="Include archived", required=False)
    q = forms.CharField(
        label="Customer",
        required=False,
        max_length=400,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or external id"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("at") and data.get("starting_at"):
            self.add_error("starting_at", "Choose either a date they cover or a start date.")
        return data

    def filters(self):
        """The valid filters (the default ones when the form is invalid, beside its errors)."""
        if not self.is_valid():
            return CohortFilter()
        data = self.cleaned_data
        return CohortFilter(
            at=data.get("at"),
            starting_at=data.get("starting_at"),
            include_archived=bool(data.get("archived")),
            query=(data.get("q") or "").strip(),
        )


CHART_SPAN = dt.timedelta(days=366)


class CohortChartForm(forms.Form):
    """The chart's range and bucket (`?chart_from=&chart_to=&bucket=`); by month over a year
    around today when absent."""

    chart_from = utc_datetime_field("From", help_text="")
    chart_to = utc_datetime_field("To", help_text="")
    bucket = forms.ChoiceField(
        label="Every",
        required=False,
        choices=[("month", "month"), ("week", "week"), ("day", "day")],  # the default first
    )

    def __init__(self, data=None, *, now, **kwargs):
        self.now = now
        super().__init__(data, **kwargs)

    def clean(self):
        data = super().clean()
        start, end = self.default_range()
        if data.get("chart_from") and not data.get("chart_to"):
            end = data["chart_from"] + CHART_SPAN
        end = data.get("chart_to") or end
        start = data.get("chart_from") or (end - CHART_SPAN if data.get("chart_to") else start)
        bucket = data.get("bucket") or "month"
        if "chart_from" in self.errors or "chart_to" in self.errors:
            return data
        if start >= end:
            self.add_error("chart_to", "Must be after the start of the range.")
        elif chart_points(start=start, end=end, bucket=bucket) > MAX_CHART_POINTS:
            self.add_error(
                "bucket", f"Too many points (more than {MAX_CHART_POINTS}): choose a longer bucket."
            )
        data.update(start=start, end=end, bucket=bucket)
        return data

    def range(self) -> tuple[dt.datetime, dt.datetime, str]:
        """(start, end, bucket): the valid choice, else the default."""
        if self.is_valid():
            data = self.cleaned_data
            return data["start"], data["end"], data["bucket"]
        start, end = self.default_range()
        return start, end, "month"

    def default_range(self) -> tuple[dt.datetime, dt.datetime]:
        """A year around today (half before, half after): a new package's contracts, which
        mostly start later, are on the chart, and so is "now"."""
        return self.now - CHART_SPAN / 2, self.now + CHART_SPAN / 2
