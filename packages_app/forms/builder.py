"""The package builder's forms. They only collect input and turn it into the body of
`POST /v1/packages/create`; that body is checked by the API's own serializer and service, and
the errors those name by path (`recurring_credits[0].access_amount.quantity`) are put back on the
inputs here (`BuilderForms.add_error`). One validation path: no rule is repeated in a form.

One formset per term kind, each with its API key as prefix (`recurring_credits-0-...`); adding
a row raises that prefix's TOTAL_FORMS and removing one ticks its DELETE box (STYLE.md).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from django import forms
from django.forms import formset_factory

from config.web.forms import (
    BLANK,
    ServiceCheckedChoiceField,
    utc_datetime_field,
)
from packages_app.describe import BILLING_PROVIDER_NAMES, DELIVERY_METHOD_NAMES
from packages_app.forms.terms import (
    FREQUENCY_CHOICES,
    TERM_FORMS,
    _clean,
    _offset,
    _offset_fields,
    product_choices,
)
from packages_app.models import AliasName, RateCard


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
        choices=[*BLANK, *BILLING_PROVIDER_NAMES.items()],
    )
    delivery_method = forms.ChoiceField(
        label="Delivery method",
        required=False,
        choices=[*BLANK, *DELIVERY_METHOD_NAMES.items()],
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

    def error_summary(self) -> list[str]:
        """Every error as "Recurring credit 1 · Priority: …", for the summaries."""
        package = self.package
        messages = [
            f"{package.fields[field].label if field in package.fields else 'Package'}: {e}"
            for field, errors in package.errors.items()
            for e in errors
        ]
        for formset in self.formsets:
            for index, form in enumerate(formset.forms):
                where = f"{form.title} {index + 1}"
                for field, errors in form.errors.items():
                    label = form.fields[field].label if field in form.fields else ""
                    messages += [f"{where} · {label + ': ' if label else ''}{e}" for e in errors]
        return messages

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


def after_row_button(data, action: str):
    """The builder's POST data after the named row button `action` ("add:<key>" adds a row to
    formset `key`, "remove:<key>-<index>" deletes that row)."""
    if action.startswith("add:"):
        return add_row_to(data, action.removeprefix("add:"))
    if action.startswith("remove:"):
        return remove_row_from(data, action.removeprefix("remove:"))
    return data
