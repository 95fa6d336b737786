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
from contracts_app.forms_contract_edits import (
    ALL_EDIT_FORMS,
    ArchiveTermForm,
    ContractEditForm,
    contract_edit_forms,
    credit_type_choices,
)
from contracts_app.models import Contract
from contracts_app.presenters import changed_term_ids, contract_page, edit_in_words
from contracts_app.selectors.contract_edits import contract_edit_history
from contracts_app.selectors.contracts import (
    archivable_terms,
    contract_page_reads,
    credit_type_names,
    term_names,
)
from contracts_app.services.contract_edits import contract_edit
from packages_app.forms.terms import product_choices

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
    entries = [(edit, edit_entry(edit)) for edit in page.items]
    names = term_names(contract=contract, ids=changed_term_ids(entry for _, entry in entries))
    rows = [(edit, edit_in_words(entry, term_names=names)) for edit, entry in entries]
    return rows, page.next_cursor


class ContractDetailView(ObjectDetailView):
    """Everything the contract page shows, in a constant number of queries whatever the
    number of terms and edits. `bound`: an edit form that came back invalid; `confirmation`:
    what the edit just applied did (the htmx answer to a successful edit)."""

    permission_required = "contracts_app.view_contract"
    queryset = CONTRACTS
    pk_url_kwarg = "contract_id"
    context_object_name = "contract"
    template_name = TEMPLATE
    bound: ContractEditForm | None = None
    confirmation: str = ""

    def get_context_data(self, contract) -> dict:
        can_edit = self.request.user.has_perm(EDIT_PERMISSION) and contract.archived_at is None
        credit_types = credit_type_names()
        history, history_next = edit_history_page(contract, None)
        context = contract_page(
            contract,
            contract_page_reads(contract=contract),
            credit_type_names=credit_types,
            can_edit=can_edit,
        )
        context.update(
            history=history,
            history_next=history_next,
            can_edit=can_edit,
            edit_forms=contract_edit_forms(credit_types, self.bound) if can_edit else {},
            confirmation=self.confirmation,
        )
        return context


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
    """POST one of the contract page's edit forms (or an archive button): its v2
    contracts/edit body is checked by the API's serializer and applied by the API's service.
    Applied (or already applied, by its uniqueness key): for htmx, the page's body again with
    the new terms, the new history row, fresh forms and a confirmation; without JS, a redirect
    to the page with the confirmation as a message. Invalid: the form again with its errors
    beside the fields (200; htmx gets the form alone)."""

    permission_required = EDIT_PERMISSION
    serializer = ContractEditInput
    template_name = TEMPLATE

    def load(self) -> None:
        self.form_class = ALL_EDIT_FORMS.get(self.kwargs["kind"])
        if self.form_class is None:
            raise Http404("No such edit form")
        self.contract = get_object_or_404(CONTRACTS, pk=self.kwargs["contract_id"])
        self.credit_types = credit_type_names()

    def get(self, request, *args, **kwargs):
        self.load()
        page_url = reverse("contracts:contract-detail", args=[self.contract.pk])
        return HttpResponseRedirect(f"{page_url}#edit-{self.kwargs['kind']}")

    def get_form_kwargs(self) -> dict:
        if self.form_class is ArchiveTermForm:
            return {"archivable": archivable_terms(contract=self.contract)}
        with_products = "product" in self.form_class.base_fields
        return {
            "product_choices": product_choices() if with_products else (),
            "credit_type_choices": credit_type_choices(self.credit_types),
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
        self.confirmation = f"{form.done_words()} The edit is first in the edit history."
        return self.contract

    def existing(self, form):
        self.confirmation = "This edit was already applied; nothing was changed again."
        return self.contract

    def get_success_url(self, contract) -> str:
        return reverse("contracts:contract-detail", args=[contract.pk]) + "#edit-history"

    def written(self, contract):
        if htmx_partial(self.request):
            page = ContractDetailView(
                request=self.request, kwargs=self.kwargs, confirmation=self.confirmation
            )
            contract = get_object_or_404(CONTRACTS, pk=contract.pk)  # as edited
            response = render(
                self.request, f"{TEMPLATE}#contract-body", page.page_context(contract)
            )
            response["HX-Retarget"] = "#contract-body"
            response["HX-Reswap"] = "outerHTML show:#contract-confirmation:top"
            return response
        messages.success(self.request, self.confirmation)
        return super().written(contract)

    def render_form(self, form, **extra):
        if htmx_partial(self.request):
            if form.kind == "archive":
                context = {
                    "contract": self.contract,
                    "term_id": form.data.get("archive-term", ""),
                    "archive_errors": " ".join(
                        message for messages in form.errors.values() for message in messages
                    ),
                }
                template = "contracts_app/contract_edits/added_terms.html#archive-form"
                return render(self.request, template, context)
            context = {"contract": self.contract, "form": form}
            return render(
                self.request, "contracts_app/contract_edits/forms.html#edit-form", context
            )
        page = ContractDetailView(request=self.request, kwargs=self.kwargs, bound=form)
        return render(self.request, TEMPLATE, page.page_context(self.contract))
