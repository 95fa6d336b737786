"""Contract edits API: v2 contracts/edit, commits/edit, credits/edit, getEditHistory, v2
contracts/get and list, v1 contracts/amend. Thin: validate, call a service or selector, render."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.response import Response

from config.api.views_base import ServicePostApi, data_answer
from config.core.errors import ValidationFailed
from config.core.instants import format_instant
from config.core.pagination import keyset_paginate
from contracts_app.api.contract_edit_serializers import (
    AmendInput,
    CommitEditInput,
    ContractEditInput,
    ContractV2ListResponse,
    ContractV2RefInput,
    ContractV2Response,
    CreditEditInput,
    EditHistoryInput,
    EditHistoryResponse,
    EditResponse,
    IdResponse,
)
from contracts_app.api.contract_serializers import (
    ContractListInput,
    Renderer,
    contract_data,
)
from contracts_app.models import Contract, ContractEdit, ContractTerm
from contracts_app.selectors.contract_edits import contract_edit_history
from contracts_app.selectors.contracts import (
    contract_get,
    contract_list,
    credit_type_names,
    with_terms,
)
from contracts_app.selectors.customers import customer_get
from contracts_app.services.contract_edits import (
    contract_amend,
    contract_commit_edit,
    contract_edit,
)


class ContractPageApi(ServicePostApi):
    # v1 and v2 contracts/list: one body-cursor page (`cursor` in, `cursor` out) of a
    # customer's contracts, keyset on (starting_at, id), each version reading (`read`: what
    # to prefetch) and rendering (`render`) a contract in its own way.
    required_permission = "contracts_app.view_contract"
    input = ContractListInput

    def read(self, queryset: QuerySet) -> QuerySet:
        raise NotImplementedError

    def render(self, contract: Contract, names: dict[str, str]) -> dict:
        raise NotImplementedError

    def perform(self, data):
        customer = customer_get(customer_id=data["customer_id"])
        queryset = contract_list(
            customer=customer,
            covering_date=data.get("covering_date"),
            starting_at=data.get("starting_at"),
            include_archived=data["include_archived"],
        )
        return keyset_paginate(
            self.read(queryset),
            limit=data["limit"],
            cursor=data.get("cursor") or None,
            keys=("starting_at", "id"),
            cursor_field="cursor",
        )

    def answer(self, page):
        names = credit_type_names() if page.items else {}
        contracts = [self.render(contract, names) for contract in page.items]
        return Response({"data": contracts, "cursor": page.next_cursor})


def term_renderer(contract: Contract, names: dict[str, str]):
    """The response form of one term (commit, credit, override, ...) or stored discount, for
    the edit history."""
    render = Renderer(contract, names)

    def rendered(term: ContractTerm | dict) -> dict:
        if isinstance(term, dict):
            return render.discount(term)
        if term.kind in ("commit", "credit"):
            return render.commit_or_credit(term)
        if term.kind == "override":
            return render.override(term)
        if term.kind == "scheduled_charge":
            return render.scheduled_charge(term)
        if term.kind in ("recurring_commit", "recurring_credit"):
            return render.recurring(term)
        if term.kind == "subscription":
            return render.subscription(term)
        return render.spend_tracker(term)

    return rendered


def edit_entry(edit: ContractEdit) -> dict[str, Any]:
    """One getEditHistory entry: the recorded edit, its id, when and by whom."""
    body = dict(edit.edit)
    body.update(
        {
            "id": str(edit.id),
            "timestamp": format_instant(edit.timestamp),
            "created_by": edit.created_by,
        }
    )
    return body


def _royalties_v2(royalties: list[dict], contract_start: str) -> list[dict]:
    """Stored reseller royalties (request form) → ContractV2's segments per reseller type."""
    by_type: dict[str, list[dict]] = {}
    for item in royalties:
        segment = {k: v for k, v in item.items() if k not in ("aws_options", "gcp_options", "id")}
        segment.update(item.get("aws_options") or {})
        segment.update(item.get("gcp_options") or {})
        segment.setdefault("starting_at", contract_start)
        by_type.setdefault(item["reseller_type"], []).append(segment)
    return [{"reseller_type": kind, "segments": items} for kind, items in by_type.items()]


def contract_v2_data(contract: Contract, names: dict[str, str]) -> dict[str, Any]:
    """The SDK's ContractV2: the contract's current terms, edits applied, with package_id."""
    v1 = contract_data(contract, names)
    body = dict(v1["current"])
    settings = contract.settings or {}
    body.update(
        {
            "id": v1["id"],
            "customer_id": v1["customer_id"],
            "custom_fields": v1["custom_fields"],
            "package_id": v1["package_id"],
            "uniqueness_key": v1["uniqueness_key"],
            "subscriptions": v1["subscriptions"],
            "multiplier_override_prioritization": contract.multiplier_override_prioritization
            or None,
        }
    )
    if contract.archived_at is not None:
        body["archived_at"] = format_instant(contract.archived_at)
    if "customer_billing_provider_configuration" in v1:
        body["customer_billing_provider_configuration"] = v1[
            "customer_billing_provider_configuration"
        ]
    usage_filter = settings.get("usage_filter")
    body["usage_filter"] = (
        [{"starting_at": v1["current"]["starting_at"], **usage_filter}] if usage_filter else []
    )
    if settings.get("reseller_royalties"):
        body["reseller_royalties"] = _royalties_v2(
            settings["reseller_royalties"], v1["current"]["starting_at"]
        )
    return body


def contract_v1_data(contract: Contract, names: dict[str, str]) -> dict[str, Any]:
    """v1 Contract with its amendments: `initial` without the terms edits added (needs
    `contract.edits` prefetched, as selectors.contract_edits.with_edits does)."""
    data = contract_data(contract, names)
    edits = list(contract.edits.all())
    if not edits:
        return data
    added = {
        term["id"]
        for edit in edits
        for key, terms in edit.edit.items()
        if key.startswith("add_") and isinstance(terms, list)
        for term in terms
        if isinstance(term, dict) and "id" in term
    }
    initial = dict(data["initial"])
    for key in ("commits", "credits", "overrides", "scheduled_charges"):
        if key in initial:
            initial[key] = [term for term in initial[key] if term["id"] not in added]
    data["initial"] = initial
    data["amendments"] = [
        {
            "id": str(edit.id),
            "commits": edit.edit.get("add_commits", []),
            "credits": edit.edit.get("add_credits", []),
            "overrides": edit.edit.get("add_overrides", []),
            "scheduled_charges": edit.edit.get("add_scheduled_charges", []),
            "created_at": format_instant(edit.timestamp),
            "created_by": edit.created_by,
            "starting_at": format_instant(edit.starting_at),
            **{
                key: edit.edit[key]
                for key in ("netsuite_sales_order_id", "salesforce_opportunity_id")
                if key in edit.edit
            },
        }
        for edit in edits
        if edit.kind == ContractEdit.Kind.AMENDMENT
    ]
    return data


def _edited(view, data: dict, service) -> tuple[Contract, ContractEdit]:
    """v2 contracts/edit and v1 contracts/amend: the body's contract found and `service`
    (contract_edit or contract_amend) applied as the request's user."""
    contract = contract_get(customer_id=data["customer_id"], contract_id=data["contract_id"])
    edit = service(
        contract=contract,
        data=data,
        created_by=view.request.user.get_username(),
        render_term=term_renderer(contract, credit_type_names()),
    )
    return contract, edit


class ContractEditApi(ServicePostApi):
    required_permission = "contracts_app.change_contract"
    operation_id, input, responses = "v2_contracts_edit", ContractEditInput, {200: EditResponse}

    def perform(self, data):
        return _edited(self, data, contract_edit)

    def answer(self, edited):
        contract, edit = edited
        return data_answer({"id": str(contract.id), "edit": edit_entry(edit)})


class _TermEditApi(ServicePostApi):
    required_permission = "contracts_app.change_contract"
    kind = "commit"
    responses = {200: IdResponse}

    def perform(self, data):
        id_field = f"{self.kind}_id"
        contract_commit_edit(
            customer_id=data.pop("customer_id"),
            term_id=data[id_field],
            kind=self.kind,
            data=data,
            created_by=self.request.user.get_username(),
        )
        return str(data[id_field])

    def answer(self, term_id):
        return data_answer({"id": term_id})


class CommitEditApi(_TermEditApi):
    kind = "commit"
    operation_id, input = "v2_contracts_commits_edit", CommitEditInput


class CreditEditApi(_TermEditApi):
    kind = "credit"
    operation_id, input = "v2_contracts_credits_edit", CreditEditInput


class EditHistoryApi(ServicePostApi):
    required_permission = "contracts_app.view_contract"
    operation_id, input, responses = (
        "v2_contracts_get_edit_history",
        EditHistoryInput,
        {200: EditHistoryResponse},
    )

    def perform(self, data):
        contract = contract_get(customer_id=data["customer_id"], contract_id=data["contract_id"])
        return contract_edit_history(contract=contract)

    def answer(self, edits):
        return data_answer([edit_entry(e) for e in edits])


class ContractV2GetApi(ServicePostApi):
    required_permission = "contracts_app.view_contract"
    operation_id, input, responses = (
        "v2_contracts_get",
        ContractV2RefInput,
        {200: ContractV2Response},
    )

    def perform(self, data):
        if data.get("as_of_date") is not None:
            # Past states are not reconstructed yet: refusing beats answering with today's.
            raise ValidationFailed("as_of_date is not supported yet", field="as_of_date")
        return contract_get(
            customer_id=data["customer_id"], contract_id=data["contract_id"], full=True
        )

    def answer(self, contract):
        return data_answer(contract_v2_data(contract, credit_type_names()))


class ContractV2ListApi(ContractPageApi):
    """Body-cursor pages (`cursor` in, `cursor` out), as v1 contracts/list."""

    operation_id, responses = "v2_contracts_list", {200: ContractV2ListResponse}

    def read(self, queryset):
        return with_terms(queryset)

    def render(self, contract, names):
        return contract_v2_data(contract, names)


class ContractAmendApi(ServicePostApi):
    required_permission = "contracts_app.change_contract"
    operation_id, input, responses = "v1_contracts_amend", AmendInput, {200: IdResponse}

    def perform(self, data):
        _, edit = _edited(self, data, contract_amend)
        return edit
