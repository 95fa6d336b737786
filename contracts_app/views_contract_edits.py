"""The contract page (`/contracts/<id>/`): its terms and timeline, its edit history (newest
first, keyset "Load more"), and forms for the common edits (add a credit, a prepaid commit, a
rate multiplier; change the end date).

The forms go through the API's own path: the v2 contracts/edit body a form builds is checked by
`ContractEditInput` and applied by `services.contract_edits.contract_edit`, and their errors
come back on the inputs by field path. Editing needs the API's permission (change_contract).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from config.core.pagination import keyset_paginate
from config.web import (
    KeysetListView,
    ObjectDetailView,
    ServiceFormView,
    htmx_partial,
    page_or_first,
)
from contracts_app.api.contract_edit_serializers import ContractEditInput
from contracts_app.api.contract_edits import edit_entry, term_renderer
from contracts_app.forms_contract_edits import EDIT_FORMS, ContractEditForm
from contracts_app.models import Contract, ContractTerm
from contracts_app.presenters import edit_in_words, preview_timeline, transition_phrases
from contracts_app.selectors.contract_edits import contract_edit_history
from contracts_app.selectors.contracts import credit_type_names
from contracts_app.services.contract_edits import contract_edit
from contracts_app.services.previews import contract_preview_of
from packages_app.forms.terms import product_choices
from packages_app.models import USD_CENTS_ID

EDIT_PERMISSION = "contracts_app.change_contract"  # the v2 contracts/edit API's
HISTORY_PAGE_SIZE = 20
TEMPLATE = "contracts_app/contract_detail.html"
CONTRACTS = Contract.objects.select_related(
    "customer", "package", "rate_card", "billing_provider_configuration", "subscription"
)


def edit_history_page(contract: Contract, cursor: str | None):
    """One page of the contract's edits, newest first, each with its lines in words."""
    history = contract_edit_history(contract=contract)
    page = page_or_first(
        lambda after: keyset_paginate(
            history,
            limit=HISTORY_PAGE_SIZE,
            cursor=after,
            keys=("timestamp", "id"),
            descending=True,
        ),
        cursor,
    )
    rows = [(edit, edit_in_words(edit_entry(edit))) for edit in page.items]
    return rows, page.next_cursor


def _credit_type_choices(credit_types: dict[str, str]) -> list[tuple[str, str]]:
    """USD cents (the default, sent as no credit type) first, then the others by name."""
    others = [(pk, name) for pk, name in credit_types.items() if pk != str(USD_CENTS_ID)]
    return [("", "USD (cents)"), *sorted(others, key=lambda pair: (pair[1], pair[0]))]


def _edit_forms(credit_types: dict[str, str], bound: ContractEditForm | None) -> dict:
    choices = {
        "product_choices": product_choices(),
        "credit_type_choices": _credit_type_choices(credit_types),
    }
    forms = {}
    for kind, form_class in EDIT_FORMS.items():
        if bound is not None and bound.kind == kind:
            forms[kind] = bound
        else:
            forms[kind] = form_class(**choices)
    return forms


class ContractDetailView(ObjectDetailView):
    """Everything the contract page shows, in a constant number of queries whatever the
    number of terms and edits. `bound`: an edit form that came back invalid."""

    permission_required = "contracts_app.view_contract"
    queryset = CONTRACTS
    pk_url_kwarg = "contract_id"
    context_object_name = "contract"
    template_name = TEMPLATE
    bound: ContractEditForm | None = None

    def get_context_data(self, contract) -> dict:
        return _page_context(self.request, contract, self.bound)


def _page_context(request, contract: Contract, bound: ContractEditForm | None) -> dict:
    terms = list(
        ContractTerm.objects.filter(contract=contract)
        .select_related("product")
        .order_by("kind", "ordinal")
    )
    credit_types = credit_type_names()
    preview = contract_preview_of(contract, terms)
    names = {str(t.product_id): t.product.name for t in terms if t.product_id}
    timeline, periods = preview_timeline(
        preview, product_names=names, credit_type_names=credit_types
    )
    neighbours = (
        list(
            Contract.objects.filter(subscription_id=contract.subscription_id)
            .exclude(pk=contract.pk)
            .select_related("package")
            .order_by("starting_at", "id")
        )
        if contract.subscription_id
        else []
    )
    history, history_next = edit_history_page(contract, None)
    can_edit = request.user.has_perm(EDIT_PERMISSION) and contract.archived_at is None
    return {
        "terms": [t for t in terms if t.generated_from_id is None],
        "timeline": timeline,
        "periods": periods,
        "periods_open": True,
        "transition": transition_phrases(
            # The links into this contract; its link out is its successor ("followed by").
            [
                t
                for t in (contract.settings or {}).get("transitions") or []
                if t.get("to_contract_id") == str(contract.id)
            ],
            previous=[c for c in neighbours if c.starting_at < contract.starting_at],
            following=[c for c in neighbours if c.starting_at > contract.starting_at],
        ),
        "history": history,
        "history_next": history_next,
        "can_edit": can_edit,
        "edit_forms": _edit_forms(credit_types, bound) if can_edit else {},
    }


class ContractEditHistoryView(KeysetListView):
    """The next page of the edit history ("Load more"): rows for htmx, else the page."""

    permission_required = "contracts_app.view_contract"
    template_name = "contracts_app/contract_edits/history_page.html"
    rows_template = "contracts_app/contract_edits/history.html"

    def get_context_data(self, *, cursor, more) -> dict:
        contract = get_object_or_404(Contract, pk=self.kwargs["contract_id"])
        history, history_next = edit_history_page(contract, cursor)
        return {"contract": contract, "history": history, "history_next": history_next}


class ContractEditView(ServiceFormView):
    """POST one of the contract page's edit forms: its v2 contracts/edit body is checked by the
    API's serializer and applied by the API's service. Applied (or already applied, by its
    uniqueness key): back to the page with a message. Invalid: the form again with its errors
    beside the fields (200; htmx gets the form alone)."""

    permission_required = EDIT_PERMISSION
    serializer = ContractEditInput
    template_name = TEMPLATE

    def load(self) -> None:
        self.form_class = EDIT_FORMS.get(self.kwargs["kind"])
        if self.form_class is None:
            raise Http404("No such edit form")
        self.contract = get_object_or_404(CONTRACTS, pk=self.kwargs["contract_id"])
        self.credit_types = credit_type_names()

    def get(self, request, *args, **kwargs):
        self.load()
        page_url = reverse("contracts:contract-detail", args=[self.contract.pk])
        return HttpResponseRedirect(f"{page_url}#edit-{self.kwargs['kind']}")

    def get_form_kwargs(self) -> dict:
        with_products = "product" in self.form_class.base_fields
        return {
            "product_choices": product_choices() if with_products else (),
            "credit_type_choices": _credit_type_choices(self.credit_types),
        }

    def body(self, form) -> dict:
        return form.edit_body(self.contract)

    def perform(self, data, form):
        contract_edit(
            contract=self.contract,
            data=data,
            created_by=self.request.user.get_username(),
            render_term=term_renderer(self.contract, self.credit_types),
        )
        messages.success(self.request, f"{form.title}: done. The edit is listed in the history.")
        return self.contract

    def existing(self, form):
        messages.info(self.request, "This edit was already applied; nothing was changed again.")
        return self.contract

    def get_success_url(self, contract) -> str:
        return reverse("contracts:contract-detail", args=[contract.pk]) + "#edit-history"

    def render_form(self, form, **extra):
        if htmx_partial(self.request):
            context = {"contract": self.contract, "form": form}
            return render(
                self.request, "contracts_app/contract_edits/forms.html#edit-form", context
            )
        page = ContractDetailView(request=self.request, kwargs=self.kwargs, bound=form)
        return render(self.request, TEMPLATE, page.page_context(self.contract))
