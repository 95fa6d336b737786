"""The contract page (`/contracts/<id>/`): its terms and timeline, its edit history (newest
first, keyset "Load more"), and forms for the common edits (add a credit, a prepaid commit, a
rate multiplier; change the end date).

The forms go through the API's own path: the v2 contracts/edit body a form builds is checked by
`ContractEditInput` and applied by `services.contract_edits.contract_edit`, and their errors
come back on the inputs by field path. Editing needs the API's permission (change_contract).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from config.web import KeysetListView, ObjectDetailView, ObjectFormView, htmx_partial
from contracts_app.api.contract_edit_serializers import ContractEditInput
from contracts_app.api.contract_edits import term_renderer
from contracts_app.forms_contract_edits import ALL_EDIT_FORMS, contract_edit_forms, posted_edit_form
from contracts_app.models import Contract
from contracts_app.presenters import contract_page
from contracts_app.presenters_customers import edit_history_rows
from contracts_app.selectors.contracts import contract_page_reads, credit_type_names
from contracts_app.services.contract_edits import contract_edit

EDIT_PERMISSION = "contracts_app.change_contract"  # the v2 contracts/edit API's
HISTORY_PAGE_SIZE = 20


class ContractDetailView(ObjectDetailView):
    """Everything the contract page shows, in a constant number of queries whatever the
    number of terms and edits. `bound_forms["edit"]`: an edit form that came back invalid;
    `confirmation`: what the edit just applied did (the htmx answer to a successful edit)."""

    queryset = Contract.objects.select_related(
        "customer", "package", "rate_card", "billing_provider_configuration", "subscription"
    )
    confirmation: str = ""

    def get_context_data(self, contract) -> dict:
        can_edit = self.request.user.has_perm(EDIT_PERMISSION) and contract.archived_at is None
        credit_types = credit_type_names()
        history, history_next = edit_history_rows(contract, None, limit=HISTORY_PAGE_SIZE)
        reads = contract_page_reads(contract=contract)
        bound = self.bound_forms.get("edit")
        return {
            **contract_page(contract, reads, credit_type_names=credit_types, can_edit=can_edit),
            "history": history,
            "history_next": history_next,
            "can_edit": can_edit,
            "edit_forms": contract_edit_forms(credit_types, bound) if can_edit else {},
            "confirmation": self.confirmation,
        }


class ContractEditHistoryView(KeysetListView):
    """The next page of the edit history ("Load more"): rows for htmx, else the page."""

    permission_required = "contracts_app.view_contract"
    template_name = "contracts_app/contract_edits/history_page.html"
    rows_template = "contracts_app/contract_edits/history.html"

    def get_context_data(self, *, cursor, more) -> dict:
        contract = get_object_or_404(Contract, pk=self.kwargs["contract_id"])
        history, history_next = edit_history_rows(contract, cursor, limit=HISTORY_PAGE_SIZE)
        return {"contract": contract, "history": history, "history_next": history_next}


class ContractEditView(ObjectFormView):
    """POST one of the contract page's edit forms (or an archive button): its v2
    contracts/edit body is checked by the API's serializer and applied by the API's service.
    Applied (or already applied, by its uniqueness key): for htmx, the page's body again with
    the new terms, the new history row, fresh forms and a confirmation; without JS, a redirect
    to the page with the confirmation as a message. Invalid: the form again with its errors
    beside the fields (200; htmx gets the form alone)."""

    page = ContractDetailView
    serializer = ContractEditInput
    form_name = "edit"
    success_anchor = "#edit-history"
    get_anchor = "#edit-{kind}"

    def load(self) -> None:
        self.form_class = ALL_EDIT_FORMS.get(self.kwargs["kind"])
        if self.form_class is None:
            raise Http404("No such edit form")
        super().load()
        self.contract, self.credit_types = self.object, credit_type_names()

    def get_form(self, data=None):
        contract, credit_types = self.contract, self.credit_types
        return posted_edit_form(self.form_class, data, contract=contract, credit_types=credit_types)

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

    def written(self, contract):
        if not htmx_partial(self.request):
            messages.success(self.request, self.confirmation)
            return super().written(contract)
        page = ContractDetailView(
            request=self.request, kwargs=self.kwargs, confirmation=self.confirmation
        )
        context = page.page_context(page.get_object())  # the contract as edited
        response = render(self.request, f"{page.template_name}#contract-body", context)
        response["HX-Retarget"] = "#contract-body"
        response["HX-Reswap"] = "outerHTML show:#contract-confirmation:top"
        return response

    def render_form(self, form, **extra):
        if not htmx_partial(self.request):
            return super().render_form(form, **extra)
        return render(self.request, form.fragment, form.fragment_context(self.contract))
