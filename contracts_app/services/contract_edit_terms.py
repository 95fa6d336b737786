"""Changing one stored term in place: schedule items added, updated or removed, scalar fields
replaced, a recurring term's window or amounts changed (its periods re-expanded). Pure
functions over ContractTerm instances; contract_edits writes the results in one statement.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from config.core.errors import ValidationFailed
from config.core.instants import format_instant, parse_instant
from contracts_app.models import ContractTerm
from contracts_app.services.contract_ends import clipped
from contracts_app.services.materialise import (
    TermRow,
    expand_recurring,
    json_copy,
    json_dates,
    new_id,
)

# Fields of update_commits / update_credits / commits/edit that replace the stored value as sent.
COMMIT_SCALARS = (
    "applicable_product_ids",
    "applicable_product_tags",
    "description",
    "hierarchy_configuration",
    "name",
    "netsuite_sales_order_id",
    "priority",
    "product_id",
    "rate_type",
    "rollover_fraction",
    "specifiers",
)


def _instant(text: str) -> dt.datetime:
    return parse_instant(text)


def _edited_items(schedule: dict, change: dict, *, field: str, dated_by: tuple[str, ...]) -> dict:
    """`schedule` with `change`'s remove / update / add of schedule items applied (in that order:
    an item added in the same change cannot be referred to, it has no id yet)."""
    schedule = json_copy(schedule)
    items = schedule.get("schedule_items") or []
    by_id = {item["id"]: item for item in items}
    removed = set()
    for index, entry in enumerate(change.get("remove_schedule_items") or []):
        if entry["id"] not in by_id or entry["id"] in removed:
            raise ValidationFailed(
                "No schedule item of this term has that id",
                field=f"{field}.remove_schedule_items[{index}].id",
            )
        removed.add(entry["id"])
    for index, entry in enumerate(change.get("update_schedule_items") or []):
        item = by_id.get(entry["id"])
        if item is None or entry["id"] in removed:
            raise ValidationFailed(
                "No schedule item of this term has that id",
                field=f"{field}.update_schedule_items[{index}].id",
            )
        item.update(json_dates({k: v for k, v in entry.items() if k != "id"}))
    kept = [item for item in items if item["id"] not in removed]
    for entry in change.get("add_schedule_items") or []:
        kept.append({**json_dates(dict(entry)), "id": new_id()})
    for index, item in enumerate(kept):
        if "starting_at" in dated_by and _instant(item["ending_before"]) <= _instant(
            item["starting_at"]
        ):
            raise ValidationFailed(
                "A schedule item must end after it starts", field=f"{field}.schedule_items[{index}]"
            )
    schedule["schedule_items"] = kept
    return schedule


def _span_of(body: dict) -> tuple[dt.datetime | None, dt.datetime | None]:
    starts: list[dt.datetime] = []
    ends: list[dt.datetime] = []
    for key in ("access_schedule", "invoice_schedule", "schedule"):
        for item in (body.get(key) or {}).get("schedule_items") or []:
            if "timestamp" in item:
                starts.append(_instant(item["timestamp"]))
            else:
                starts.append(_instant(item["starting_at"]))
                ends.append(_instant(item["ending_before"]))
    return (min(starts) if starts else None, max(ends) if ends else None)


def _schedule_edited(body: dict, stored: str, change: dict, sent: str, *, field: str) -> None:
    """The schedule stored under `stored` with the item edits sent as `sent` applied: access
    items are dated by starting_at/ending_before, invoice items by their timestamp."""
    body[stored] = _edited_items(
        body.get(stored) or {"schedule_items": []},
        change[sent],
        field=f"{field}.{sent}",
        dated_by=("starting_at", "ending_before") if sent == "access_schedule" else ("timestamp",),
    )


def commit_or_credit_updated(term: ContractTerm, change: dict, *, field: str) -> ContractTerm:
    """update_commits[i] / update_credits[i] (or commits/edit) applied to `term`, in place."""
    body = json_copy(term.body)
    if change.get("access_schedule"):
        _schedule_edited(body, "access_schedule", change, "access_schedule", field=field)
    if change.get("invoice_schedule"):
        if term.kind != "commit":
            raise ValidationFailed("Credits have no invoice schedule", field=f"{field}")
        _schedule_edited(body, "invoice_schedule", change, "invoice_schedule", field=field)
    for key in (*COMMIT_SCALARS, "applicable_contract_ids", "invoice_contract_id"):
        if key in change:
            if change[key] is None:
                body.pop(key, None)
            else:
                body[key] = json_copy(change[key])
    if "product_id" in change:
        term.product_id = change["product_id"]
    term.body = body
    term.starting_at, term.ending_before = _span_of(body)
    return term


def scheduled_charge_updated(term: ContractTerm, change: dict, *, field: str) -> ContractTerm:
    body = json_copy(term.body)
    if change.get("invoice_schedule"):
        _schedule_edited(body, "schedule", change, "invoice_schedule", field=field)
    if "netsuite_sales_order_id" in change:
        body["netsuite_sales_order_id"] = change["netsuite_sales_order_id"]
    term.body = body
    term.starting_at, term.ending_before = _span_of(body)
    return term


def _end_moved(
    term: ContractTerm, body: dict, end: dt.datetime | None, *, field: str, what: str
) -> None:
    """A new end (None: open-ended) on the term's row and in its body, after its start."""
    if end is not None and term.starting_at is not None and end <= term.starting_at:
        raise ValidationFailed(
            f"ending_before must be after the {what}'s starting_at",
            field=f"{field}.ending_before",
        )
    term.ending_before = end
    if end is None:
        body.pop("ending_before", None)
    else:
        body["ending_before"] = format_instant(end)


def subscription_updated(term: ContractTerm, change: dict, *, field: str) -> ContractTerm:
    """ending_before and name are acted on; proration rounding, quantity and seat updates and a
    mode change are validated and kept on the term (`edit_updates`), not yet billed."""
    body = json_copy(term.body)
    if "ending_before" in change:
        _end_moved(term, body, change["ending_before"], field=field, what="subscription")
    if "name" in change:
        body["name"] = change["name"]
    if "proration_rounding" in change:
        body.setdefault("proration", {})["rounding"] = json_copy(change["proration_rounding"])
    stored = {
        key: json_dates(change[key])
        for key in ("quantity_updates", "seat_updates", "quantity_management_mode_update")
        if key in change
    }
    if stored:
        body["edit_updates"] = [*body.get("edit_updates", []), stored]
    term.body = body
    return term


def recurring_updated(
    term: ContractTerm,
    children: list[ContractTerm],
    change: dict,
    *,
    field: str,
    usage_frequency: str,
    next_ordinal: int,
) -> tuple[list[ContractTerm], list[uuid.UUID], list[TermRow]]:
    """update_recurring_commits[i] / update_recurring_credits[i]: the recurring term changed and
    its periods re-expanded by the provisioning code (materialise.expand_recurring). A period
    that still starts where it did keeps its id and its schedule items' ids.

    Returns (changed rows, ids of periods to delete, periods to insert)."""
    body = json_copy(term.body)
    for key in ("access_amount", "invoice_amount"):
        if change.get(key):
            if key == "invoice_amount" and not body.get(key):
                raise ValidationFailed(
                    "This recurring commit has no invoice_amount to update", field=f"{field}.{key}"
                )
            body[key] = {**(body.get(key) or {}), **json_copy(change[key])}
    for key in ("proration_rounding", "rate_type"):
        if key in change:
            body[key] = json_copy(change[key])
    if "ending_before" in change:
        _end_moved(term, body, change["ending_before"], field=field, what="recurring term")
    term.body = body
    row = TermRow(
        kind=term.kind,
        ordinal=term.ordinal,
        body=body,
        id=term.id,
        product_id=str(term.product_id) if term.product_id else None,
        package_term_id=term.package_term_id,
        starting_at=term.starting_at,
        ending_before=term.ending_before,
    )
    fresh = expand_recurring(
        row,
        origin=term.starting_at,
        base_offsets=[],
        usage_frequency=usage_frequency,
        first_ordinal=next_ordinal,
        field_name=field,
    )
    existing = {child.starting_at: child for child in children}
    changed: list[ContractTerm] = [term]
    inserted: list[TermRow] = []
    for period in fresh:
        kept = existing.pop(period.starting_at, None)
        if kept is None:
            inserted.append(period)
            continue
        old_items = (kept.body.get("access_schedule") or {}).get("schedule_items") or []
        new_items = (period.body.get("access_schedule") or {}).get("schedule_items") or []
        for old, new in zip(old_items, new_items, strict=False):
            new["id"] = old["id"]
        old_invoice = (kept.body.get("invoice_schedule") or {}).get("schedule_items") or []
        new_invoice = (period.body.get("invoice_schedule") or {}).get("schedule_items") or []
        for old, new in zip(old_invoice, new_invoice, strict=False):
            new["id"] = old["id"]
        kept.body = {**kept.body, **period.body}
        kept.ending_before = period.ending_before
        changed.append(kept)
    # New periods number after every ordinal in use; renumbered from next_ordinal upwards.
    for offset, period in enumerate(inserted):
        period.ordinal = next_ordinal + offset
    return changed, [child.id for child in existing.values()], inserted


def as_json_body(value: Any) -> Any:
    return json_dates(value)


# --- the contract's window --------------------------------------------------------------------
#
# One rule for every term an edit adds or changes, whatever else the edit does and in whatever
# order its fields come: the edit's end-date move is applied first, then each added or changed
# term is brought into the contract's window [starting_at, ending_before) the way moving the end
# date brings the existing terms (contract_ends.clipped): a term that overlaps an edge is cut
# at it, and a term with nothing inside the window is refused (400 naming it) rather than
# stored, since clipping would leave nothing of it.


def _clipped_from(term, start: dt.datetime):
    """`term` (a ContractTerm or TermRow) starting no earlier than `start`, changed in place,
    or None when it ends at or before `start`: contract_ends.clipped's mirror for the start."""
    if term.kind == "spend_tracker":
        return term
    if term.ending_before is not None and term.ending_before <= start:
        return None
    if term.kind in WINDOWED_KINDS:
        if term.starting_at is None or term.starting_at < start:
            term.body = {**term.body, "starting_at": format_instant(start)}
            term.starting_at = start
        return term
    body = json_copy(term.body)
    for key in ("access_schedule", "invoice_schedule", "schedule"):
        schedule = body.get(key)
        if not schedule or not schedule.get("schedule_items"):
            continue
        kept = []
        for item in schedule["schedule_items"]:
            if "timestamp" in item:
                if _instant(item["timestamp"]) >= start:
                    kept.append(item)
            elif _instant(item["ending_before"]) > start:
                if _instant(item["starting_at"]) < start:
                    item["starting_at"] = format_instant(start)
                kept.append(item)
        schedule["schedule_items"] = kept
    if body != term.body:
        term.body = body
        term.starting_at, term.ending_before = _span_of(body)
        if term.starting_at is None:
            return None
    return term


def in_contract_window(term, *, start: dt.datetime, end: dt.datetime | None):
    """`term` (a ContractTerm or TermRow) cut to the contract's window, in place; None when
    nothing of it falls inside (see the section's comment). An open-ended override stays
    open-ended: it already stops at the contract's end, wherever that moves later."""
    open_ended = term.kind in WINDOWED_KINDS and term.ending_before is None
    if end is not None and open_ended:
        if term.starting_at is not None and term.starting_at >= end:
            return None
    elif end is not None:
        term = clipped(term, end)
        if term is None:
            return None
    return _clipped_from(term, start)


WINDOWED_KINDS = ("override", "recurring_commit", "recurring_credit", "subscription")


def outside_window_field(kind: str, path: str, request_term: dict, *, after_end: bool) -> str:
    """The field path naming why an added term lies outside the window: its first date past
    the end (`after_end`), or its last date before the start."""
    if kind in WINDOWED_KINDS:
        return f"{path}.starting_at" if after_end else f"{path}.ending_before"
    if kind in ("commit", "credit"):
        edge = "starting_at" if after_end else "ending_before"
        return f"{path}.access_schedule.schedule_items[0].{edge}"
    schedule = request_term.get("schedule") or {}
    if schedule.get("schedule_items"):
        return f"{path}.schedule.schedule_items[0].timestamp"
    return f"{path}.schedule.recurring_schedule.starting_at"
