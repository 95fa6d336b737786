"""The customer and contract pages' parts that read: the customer list's filters, a provision or
schedule preview with its names, and a page of a contract's edit history in words (the pure
composition is presenters.py's)."""

from __future__ import annotations

from config.core.ids import parse_uuid
from config.web import keyset_page
from contracts_app.api.contract_edits import edit_entry
from contracts_app.presenters import changed_term_ids, edit_in_words, preview_timeline
from contracts_app.selectors.contract_edits import contract_edit_history
from contracts_app.selectors.contracts import credit_type_names, product_names, term_names
from packages_app.forms.catalog import package_choices
from packages_app.models import Package


def customer_list_filters(params) -> dict:
    """The customer list's package filter (`?package=`) with its choices, and the package the
    package page's "choose the customer to provision" step names (`?provision=`)."""
    provision_id = parse_uuid(params.get("provision"))
    return {
        "provision_package": Package.objects.filter(pk=provision_id).first()
        if provision_id
        else None,
        "package_filter": str(parse_uuid(params.get("package")) or ""),
        "package_filter_choices": [("", "Any package"), *package_choices()[1:]],
    }


def contract_preview_context(preview, *, prefix: str = "") -> dict:
    """A provision or schedule preview as the customer page shows it: the contract to be made,
    its timeline and every date, its products and credit types by name (keys prefixed with
    `prefix`)."""
    names = product_names(ids={row.product_id for row in preview.rows if row.product_id})
    timeline, periods = preview_timeline(
        preview, product_names=names, credit_type_names=credit_type_names()
    )
    payload = {"preview": preview, "preview_timeline": timeline, "periods": periods}
    return {f"{prefix}{key}": value for key, value in payload.items()}


def edit_history_rows(contract, cursor: str | None, *, limit: int):
    """One page of the contract's edits, newest first, each with its lines in words (the
    getEditHistory entry the API answers, put in words); and the next page's cursor."""
    history = contract_edit_history(contract=contract)
    keys = ("timestamp", "id")
    page = keyset_page(history, cursor, limit=limit, keys=keys, descending=True)
    entries = [(edit, edit_entry(edit)) for edit in page.items]
    changed = changed_term_ids(entry for _, entry in entries)
    names = term_names(contract=contract, ids=changed)
    rows = [(edit, edit_in_words(entry, term_names=names)) for edit, entry in entries]
    return rows, page.next_cursor
