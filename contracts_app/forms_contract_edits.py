"""Forms of the contract page's common edits. Each builds one v2 contracts/edit body (the API's
serializer checks it, the API's service applies it); the serializer's and service's field paths
(`add_credits[0].access_schedule.schedule_items[0].amount`) are put back on the inputs.

Each render carries a fresh `uniqueness_key`, so a double submit is one edit (the service
answers the second with a 409, shown as "already applied")."""

from __future__ import annotations

import uuid

from django import forms

from config.core.instants import format_day_or_minute
from config.web.forms import BLANK, ServiceForm, utc_datetime_field
from contracts_app.selectors.contracts import archivable_terms
from packages_app.describe import money
from packages_app.forms.terms import product_choices
from packages_app.models import USD_CENTS_ID

AMOUNT_HELP = "In the credit type's units (USD: cents)"


def _amount(label: str) -> forms.DecimalField:
    """Shape only: the rule for amounts is the service's (packages_app.amounts), whose error
    comes back on this input by its field path."""
    return forms.DecimalField(label=label, max_digits=20, decimal_places=10, help_text=AMOUNT_HELP)


class ContractEditForm(ServiceForm):
    """One edit of the contract page: `body()` is the part of the v2 edit body it makes."""

    kind = ""  # the URL's name for this form (credit, commit, override, end-date)
    title = ""
    submit_label = ""
    uniqueness_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=128)

    def __init__(self, *args, product_choices=(), credit_type_choices=(), **kwargs):
        kwargs.setdefault("prefix", self.kind)
        super().__init__(*args, **kwargs)
        if "product" in self.fields:
            self.fields["product"].choices = list(product_choices)
        if "credit_type" in self.fields:
            self.fields["credit_type"].choices = list(credit_type_choices)
        if not self.is_bound:
            self.initial.setdefault("uniqueness_key", f"ui-{uuid.uuid4()}")

    def edit_body(self, contract) -> dict:
        body = {"customer_id": str(contract.customer_id), "contract_id": str(contract.id)}
        body.update(self.body())
        if self.cleaned_data.get("uniqueness_key"):
            body["uniqueness_key"] = self.cleaned_data["uniqueness_key"]
        return body

    def body(self) -> dict:
        raise NotImplementedError

    def done_words(self) -> str:
        """The confirmation shown once the edit is applied, in the page's words."""
        return "The edit was applied."

    def _choice_label(self, name: str) -> str:
        value = self.cleaned_data.get(name) or ""
        return dict(self.fields[name].choices).get(value, "") if value else ""

    def visible(self):
        return [field for field in self if not field.is_hidden]

    # The htmx answer when this form comes back invalid: its own fragment, with its errors.
    fragment = "contracts_app/contract_edits/forms.html#edit-form"

    def fragment_context(self, contract) -> dict:
        return {"contract": contract, "form": self}

    def _check_window(self, data: dict, start: str, end: str) -> None:
        if data.get(start) and data.get(end) and data[end] <= data[start]:
            self.add_error(end, "Must be after the start.")


def _day(value) -> str:
    return format_day_or_minute(value) if value is not None else ""


def _credit_type_id(value: str) -> str | None:
    return value if value and value != str(USD_CENTS_ID) else None


def _access_paths(field: str) -> dict[str, str | None]:
    """Field paths of one added commit or credit (`add_credits[0]...`) onto the inputs."""
    item = f"{field}[0].access_schedule.schedule_items[0]"
    return {
        f"{field}[0].product_id": "product",
        f"{field}[0].access_schedule.credit_type_id": "credit_type",
        f"{item}.amount": "amount",
        f"{item}.starting_at": "starting_at",
        f"{item}.ending_before": "ending_before",
        f"{field}[0].access_schedule": "amount",
        f"{field}[0].priority": "priority",
        f"{field}[0].name": "name",
        "uniqueness_key": None,
    }


class AddCreditForm(ContractEditForm):
    """A credit usable over a period (add_credits); the commit form adds its invoice."""

    kind = "credit"
    title = "Add a credit"
    submit_label = "Add credit"
    edit_field = "add_credits"
    product = forms.ChoiceField(label="Product", choices=BLANK)
    amount = _amount("Amount")
    credit_type = forms.ChoiceField(label="Credit type", choices=BLANK, required=False)
    starting_at = utc_datetime_field("Usable from", required=True)
    ending_before = utc_datetime_field("Usable until", required=True, help_text="UTC, exclusive")
    priority = forms.DecimalField(
        label="Priority", required=False, help_text="Lower is drawn down first"
    )
    name = forms.CharField(label="Name", required=False, max_length=400)
    paths = _access_paths("add_credits")

    def clean(self):
        data = super().clean()
        self._check_window(data, "starting_at", "ending_before")
        return data

    def term(self, credit_type: str | None) -> dict:
        data = self.cleaned_data
        access: dict = {
            "schedule_items": [
                {
                    "amount": data["amount"],
                    "starting_at": data["starting_at"],
                    "ending_before": data["ending_before"],
                }
            ]
        }
        if credit_type:
            access["credit_type_id"] = credit_type
        term: dict = {"product_id": data["product"], "access_schedule": access}
        if data.get("priority") is not None:
            term["priority"] = data["priority"]
        if data.get("name"):
            term["name"] = data["name"]
        return term

    def body(self) -> dict:
        credit_type = _credit_type_id(self.cleaned_data.get("credit_type") or "")
        return {self.edit_field: [self.term(credit_type)]}

    def done_words(self) -> str:
        data = self.cleaned_data
        credit_type = data.get("credit_type") or ""
        amount = money(
            data["amount"], credit_type, {credit_type: self._choice_label("credit_type")}
        )
        what = "Prepaid commit" if self.kind == "commit" else "Credit"
        return (
            f"{what} added: {amount} on {self._choice_label('product')}, "
            f"usable from {_day(data['starting_at'])} until {_day(data['ending_before'])}."
        )


class AddCommitForm(AddCreditForm):
    """A prepaid commit: invoiced once on a date, usable over an access period."""

    kind = "commit"
    title = "Add a prepaid commit"
    submit_label = "Add commit"
    edit_field = "add_commits"
    invoice_date = utc_datetime_field("Invoiced on", required=True)
    field_order = ["product", "amount", "credit_type", "invoice_date"]
    paths = {
        **_access_paths("add_commits"),
        "add_commits[0].invoice_schedule.credit_type_id": "credit_type",
        "add_commits[0].invoice_schedule.schedule_items[0].timestamp": "invoice_date",
        "add_commits[0].invoice_schedule": "amount",
    }

    def term(self, credit_type: str | None) -> dict:
        invoice: dict = {
            "schedule_items": [
                {
                    "timestamp": self.cleaned_data["invoice_date"],
                    "quantity": 1,
                    "unit_price": self.cleaned_data["amount"],
                }
            ]
        }
        if credit_type:
            invoice["credit_type_id"] = credit_type
        return {**super().term(credit_type), "type": "PREPAID", "invoice_schedule": invoice}


class AddOverrideForm(ContractEditForm):
    """A multiplier on a product's (or tagged products') rates for a period: 0.8 is 20 % off."""

    kind = "override"
    title = "Add a discount (rate multiplier)"
    submit_label = "Add override"
    product = forms.ChoiceField(label="Product", choices=BLANK, required=False)
    product_tags = forms.CharField(
        label="or product tags", required=False, help_text="Comma-separated"
    )
    multiplier = forms.DecimalField(
        label="Multiplier",
        min_value=0,
        max_digits=20,
        decimal_places=10,
        help_text="0.8 is 20 % off; 1.1 is 10 % more",
    )
    starting_at = utc_datetime_field("From", required=True)
    ending_before = utc_datetime_field("Until", help_text="UTC, exclusive; empty: contract end")
    paths = {
        "add_overrides[0].product_id": "product",
        "add_overrides[0].override_specifiers": "product",
        "add_overrides[0].applicable_product_tags": "product_tags",
        "add_overrides[0].multiplier": "multiplier",
        "add_overrides[0].starting_at": "starting_at",
        "add_overrides[0].ending_before": "ending_before",
        "uniqueness_key": None,
    }

    def clean(self):
        data = super().clean()
        if bool(data.get("product")) == bool(self._tags()):
            self.add_error("product", "Choose a product or give product tags (one of them).")
        self._check_window(data, "starting_at", "ending_before")
        return data

    def _tags(self) -> list[str]:
        raw = self.cleaned_data.get("product_tags") or ""
        return [tag.strip() for tag in raw.split(",") if tag.strip()]

    def body(self) -> dict:
        data = self.cleaned_data
        override: dict = {
            "type": "MULTIPLIER",
            "multiplier": data["multiplier"],
            "starting_at": data["starting_at"],
        }
        if data.get("ending_before"):
            override["ending_before"] = data["ending_before"]
        if data.get("product"):
            override["product_id"] = data["product"]
        else:
            override["applicable_product_tags"] = self._tags()
        return {"add_overrides": [override]}

    def done_words(self) -> str:
        data = self.cleaned_data
        on = self._choice_label("product") or f"products tagged {', '.join(self._tags())}"
        until = f" until {_day(data['ending_before'])}" if data.get("ending_before") else ""
        return (
            f"Discount added: rates of {on} multiplied by {data['multiplier']:f} from "
            f"{_day(data['starting_at'])}{until}."
        )


class EndDateForm(ContractEditForm):
    kind = "end-date"
    title = "Change the end date"
    submit_label = "Change end date"
    ending_before = utc_datetime_field("Ends before", help_text="UTC, exclusive")
    open_ended = forms.BooleanField(label="Open-ended (no end date)", required=False)
    paths = {
        "update_contract_end_date": "ending_before",
        "ending_before": "ending_before",
        "contract_id": "ending_before",
        "uniqueness_key": None,
    }

    def clean(self):
        data = super().clean()
        if bool(data.get("ending_before")) == bool(data.get("open_ended")):
            self.add_error("ending_before", "Give an end date or tick open-ended (one of them).")
        return data

    def body(self) -> dict:
        return {"update_contract_end_date": self.cleaned_data.get("ending_before")}

    def done_words(self) -> str:
        end = self.cleaned_data.get("ending_before")
        return (
            f"End date changed: the contract ends before {_day(end)}."
            if end
            else ("End date removed: the contract is open-ended.")
        )


class ArchiveTermForm(ContractEditForm):
    """Archive (or, for an override, remove) one term an edit added: the v2 edit's
    `archive_commits` / `archive_credits` / `archive_scheduled_charges` / `remove_overrides`.
    `archivable` maps each such term's id to the edit field for its kind."""

    kind = "archive"
    title = "Archive a term an edit added"
    submit_label = "Archive"
    term = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, archivable=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.archivable = dict(archivable or {})

    @property
    def paths(self) -> dict[str, str | None]:
        return dict.fromkeys(set(self.archivable.values())) | {"uniqueness_key": None}

    def clean(self):
        data = super().clean()
        if data.get("term") and data["term"] not in self.archivable:
            self.add_error(None, "This term was not added by an edit, or is already archived.")
        return data

    def body(self) -> dict:
        term = self.cleaned_data["term"]
        return {self.archivable[term]: [{"id": term}]}

    def done_words(self) -> str:
        removed = self.archivable.get(self.cleaned_data["term"]) == "remove_overrides"
        return "Override removed." if removed else "Term archived: it no longer applies."

    fragment = "contracts_app/contract_edits/added_terms.html#archive-form"  # the term's row

    def fragment_context(self, contract) -> dict:
        errors = " ".join(message for messages in self.errors.values() for message in messages)
        term_id = self.data.get(self.add_prefix("term"), "")
        return {"contract": contract, "term_id": term_id, "archive_errors": errors}


EDIT_FORMS: dict[str, type[ContractEditForm]] = {
    form.kind: form for form in (AddCreditForm, AddCommitForm, AddOverrideForm, EndDateForm)
}
ALL_EDIT_FORMS: dict[str, type[ContractEditForm]] = {**EDIT_FORMS, "archive": ArchiveTermForm}


def credit_type_choices(credit_types: dict[str, str]) -> list[tuple[str, str]]:
    """USD cents (the default, sent as no credit type) first, then the others by name."""
    others = [(pk, name) for pk, name in credit_types.items() if pk != str(USD_CENTS_ID)]
    return [("", "USD (cents)"), *sorted(others, key=lambda pair: (pair[1], pair[0]))]


def posted_edit_form(form_class, data, *, contract, credit_types: dict[str, str]):
    """An edit form posted from the contract page, with its choices: an archive button's are
    the contract's archivable terms; the others' the credit types (and the products, for a form
    that has a product)."""
    if form_class is ArchiveTermForm:
        return form_class(data, archivable=archivable_terms(contract=contract))
    with_products = "product" in form_class.base_fields
    return form_class(
        data,
        product_choices=product_choices() if with_products else (),
        credit_type_choices=credit_type_choices(credit_types),
    )


def contract_edit_forms(credit_types: dict[str, str], bound: ContractEditForm | None) -> dict:
    """The page's edit forms, fresh (with a new uniqueness key) except `bound`, the one that
    came back with errors."""
    choices = {
        "product_choices": product_choices(),
        "credit_type_choices": credit_type_choices(credit_types),
    }
    return {
        kind: bound if bound is not None and bound.kind == kind else form_class(**choices)
        for kind, form_class in EDIT_FORMS.items()
    }
