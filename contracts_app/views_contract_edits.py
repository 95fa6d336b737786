"""The contract page (`/contracts/<id>/`): its terms and timeline, its edit history (newest
first, keyset "Load more"), and forms for the common edits (add a credit, a prepaid commit, a
rate multiplier; change the end date).

The forms go through the API's own path: the v2 contracts/edit body a form builds is checked by
`ContractEditInput` and applied by `services.contract_edits.contract_edit`, and their errors
come back on the inputs by field path. Editing needs the API's permission (change_contract).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from rest_framework.exceptions import ValidationError

from config.api.errors import flatten_errors
from config.api.views_base import validated
from config.core.errors import ApplicationError, Conflict, ValidationFailed
from config.core.pagination import keyset_paginate
from config.web import redirect_after_write
from contracts_app.api.contract_edit_serializers import ContractEditInput
from contracts_app.api.contract_edits import edit_entry, term_renderer
from contracts_app.forms_contract_edits import EDIT_FORMS, ContractEditForm
from contracts_app.models import Contract, ContractTerm
from contracts_app.presenters import edit_in_words, preview_timeline
from contracts_app.selectors.contract_edits import contract_edit_history
from contracts_app.selectors.contracts import credit_type_names
from contracts_app.services.contract_edits import contract_edit
from contracts_app.services.previews import contract_preview_of
from packages_app.api.billable_metrics import plain
from packages_app.forms import as_wire, product_choices
from packages_app.models import USD_CENTS_ID

EDIT_PERMISSION = "contracts_app.change_contract"  # the v2 contracts/edit API's
HISTORY_PAGE_SIZE = 20
TEMPLATE = "contracts_app/contract_detail.html"


def _contract(contract_id) -> Contract:
    return get_object_or_404(
        Contract.objects.select_related(
            "customer", "package", "rate_card", "billing_provider_configuration", "subscription"
        ),
        pk=contract_id,
    )


def edit_history_page(contract: Contract, cursor: str | None):
    """One page of the contract's edits, newest first, each with its lines in words."""
    history = contract_edit_history(contract=contract)
    try:
        page = keyset_paginate(
            history,
            limit=HISTORY_PAGE_SIZE,
            cursor=cursor,
            keys=("timestamp", "id"),
            descending=True,
        )
    except ValidationFailed:
        page = keyset_paginate(
            history, limit=HISTORY_PAGE_SIZE, cursor=None, keys=("timestamp", "id"), descending=True
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


def contract_page_context(request, contract: Contract, bound: ContractEditForm | None = None):
    """Everything the contract page shows, in a constant number of queries whatever the
    number of terms and edits."""
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
        "contract": contract,
        "terms": [t for t in terms if t.generated_from_id is None],
        "timeline": timeline,
        "periods": periods,
        "periods_open": True,
        "previous": [c for c in neighbours if c.starting_at < contract.starting_at],
        "following": [c for c in neighbours if c.starting_at > contract.starting_at],
        # The links into this contract; its link out is its successor, shown as "followed by".
        "transitions": [
            t
            for t in (contract.settings or {}).get("transitions") or []
            if t.get("to_contract_id") == str(contract.id)
        ],
        "history": history,
        "history_next": history_next,
        "can_edit": can_edit,
        "edit_forms": _edit_forms(credit_types, bound) if can_edit else {},
    }


@login_required
@permission_required("contracts_app.view_contract", raise_exception=True)
def contract_detail(request, contract_id):
    contract = _contract(contract_id)
    return render(request, TEMPLATE, contract_page_context(request, contract))


@login_required
@permission_required("contracts_app.view_contract", raise_exception=True)
def contract_edit_history_more(request, contract_id):
    """The next page of the edit history ("Load more"): rows for htmx, else the page."""
    contract = get_object_or_404(Contract, pk=contract_id)
    history, history_next = edit_history_page(contract, request.GET.get("after"))
    context = {"contract": contract, "history": history, "history_next": history_next}
    if request.htmx:
        return render(request, "contracts_app/contract_edits/history_rows.html", context)
    return render(request, "contracts_app/contract_edits/history_page.html", context)


def _apply(request, contract: Contract, form: ContractEditForm, credit_types: dict[str, str]):
    """Check the form's edit body with the API's serializer and apply it with the API's
    service; True when applied, None when it was already applied (its uniqueness key)."""
    try:
        data = plain(validated(ContractEditInput, as_wire(form.edit_body(contract))))
        contract_edit(
            contract=contract,
            data=data,
            created_by=request.user.get_username(),
            render_term=term_renderer(contract, credit_types),
        )
    except ValidationError as exc:
        for path, errors in flatten_errors(exc.detail).items():
            form.add_service_error(path, " ".join(errors))
        return False
    except Conflict as exc:
        if exc.field == "uniqueness_key":
            return None
        form.add_service_error(exc.field, exc.message)
        return False
    except ApplicationError as exc:
        form.add_service_error(exc.field, exc.message)
        return False
    return True


@login_required
@permission_required(EDIT_PERMISSION, raise_exception=True)
def contract_edit_apply(request, contract_id, kind):
    """POST one of the contract page's edit forms. Applied (or already applied): back to the
    page with a message. Invalid: the form again with its errors beside the fields (200)."""
    form_class = EDIT_FORMS.get(kind)
    if form_class is None:
        raise Http404("No such edit form")
    contract = _contract(contract_id)
    page_url = reverse("contracts:contract-detail", args=[contract.pk])
    if request.method != "POST":
        return HttpResponseRedirect(f"{page_url}#edit-{kind}")
    credit_types = credit_type_names()
    form = form_class(
        request.POST,
        product_choices=product_choices() if "product" in form_class.base_fields else (),
        credit_type_choices=_credit_type_choices(credit_types),
    )
    if form.is_valid():
        applied = _apply(request, contract, form, credit_types)
        if applied is None:
            messages.info(request, "This edit was already applied; nothing was changed again.")
            return redirect_after_write(request, f"{page_url}#edit-history")
        if applied:
            messages.success(request, f"{form.title}: done. The edit is listed in the history.")
            return redirect_after_write(request, f"{page_url}#edit-history")
    if request.htmx:
        return render(
            request,
            "contracts_app/contract_edits/form.html",
            {"contract": contract, "form": form},
        )
    return render(request, TEMPLATE, contract_page_context(request, contract, bound=form))
