"""Term rows as they were, kept to be written back: the one snapshot format of ends and reverts.

Two users keep term rows as JSON (every datetime in isoformat, full precision, so a restored
window is exactly the original):

- a negotiated contract's earlier end keeps each clipped term as negotiated in its settings
  (contract_ends: `clipped_terms`), read back with `term_load` when a later end restores it;
- a cohort-migration move keeps its revert snapshot on the item (`CohortMigrationItem.snapshot`),
  written back by `revert_snapshots_apply` in SQL, never read into Python:
    ending_before, settings  the old contract's end (format_instant) and settings before the move;
    terms    term rows as they were, whole (the ContractTerm columns but contract_id, as
             to_jsonb writes a row): those the clip deleted and those whose dated items it
             cut, parked by the batch's outcome statement in SQL (for a negotiated contract,
             clipped in Python, the cut ones are `term_dump`s);
    windows  [{id, ending_before, body_ending_before, body_had_end}]: the windowed rows the clip
             ended, by id and their old window (column and body key), bodies left in place.
  Snapshots written before `windows` existed keep every touched row in `terms`; they apply
  alike.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid

from django.db import connection

from config.core.instants import parse_instant
from contracts_app.models import CohortMigrationItem, Contract, ContractTerm
from contracts_app.services.materialise import json_copy


def _isoformat(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _instant(text: str | None) -> dt.datetime | None:
    return parse_instant(text) if text else None


def _id(value) -> str | None:
    return str(value) if value else None


def term_dump(term, *, window: tuple | None = None, edited_at: bool = False) -> dict:
    """A term row as JSON. `window`: its (starting_at, ending_before, body) before a clip
    replaced those attributes (clipping never edits the old body in place, so it is kept as
    is; without a window the body is copied). `edited_at`: keep it too (a revert re-inserts
    the whole row)."""
    starting_at, ending_before, body = window or (
        term.starting_at,
        term.ending_before,
        json_copy(term.body),
    )
    dumped = {
        "id": str(term.id),
        "kind": term.kind,
        "ordinal": term.ordinal,
        "product_id": _id(term.product_id),
        "package_term_id": _id(term.package_term_id),
        "generated_from_id": _id(term.generated_from_id),
        "starting_at": _isoformat(starting_at),
        "ending_before": _isoformat(ending_before),
        "body": body,
    }
    if edited_at:
        dumped["edited_at"] = _isoformat(term.edited_at)
    return dumped


def term_load(snapshot: dict, contract_id: uuid.UUID) -> ContractTerm:
    """The term row `term_dump` kept, as an unsaved ContractTerm of `contract_id`."""
    return ContractTerm(
        id=uuid.UUID(snapshot["id"]),
        contract_id=contract_id,
        kind=snapshot["kind"],
        ordinal=snapshot["ordinal"],
        product_id=snapshot.get("product_id"),
        package_term_id=snapshot["package_term_id"],
        generated_from_id=snapshot["generated_from_id"],
        starting_at=_instant(snapshot["starting_at"]),
        ending_before=_instant(snapshot["ending_before"]),
        body=json_copy(snapshot["body"]),
    )


@functools.cache
def _snapshot_statements() -> tuple[str, str, str, str]:
    """revert_snapshots_apply's statements (the snapshot's format: the module's docstring)."""
    items = connection.ops.quote_name(CohortMigrationItem._meta.db_table)
    contracts = connection.ops.quote_name(Contract._meta.db_table)
    terms = connection.ops.quote_name(ContractTerm._meta.db_table)
    rows = f"{items} i CROSS JOIN jsonb_array_elements(i.snapshot -> 'terms') AS term"
    restore_contracts = (
        f"UPDATE {contracts} c SET ending_before = (i.snapshot ->> 'ending_before')::timestamptz, "
        "settings = CASE WHEN jsonb_typeof(i.snapshot -> 'settings') = 'object' "
        "THEN i.snapshot -> 'settings' ELSE '{}' END "
        f"FROM {items} i WHERE i.id = ANY(%s::bigint[]) AND c.id = i.contract_id "
        "RETURNING c.id, i.snapshot ->> 'ending_before'"
    )
    delete_rows = (
        f"DELETE FROM {terms} WHERE id IN (SELECT (term ->> 'id')::uuid FROM {rows} "
        "WHERE i.id = ANY(%s::bigint[]))"
    )
    # Every column from the parked row (a key it lacks, e.g. a column added since, is NULL).
    fields = ContractTerm._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    values = ", ".join(
        "parked.contract_id"
        if f.attname == "contract_id"
        else f"(parked.r).{connection.ops.quote_name(f.column)}"
        for f in fields
    )
    insert_rows = (
        f"INSERT INTO {terms} ({columns}) SELECT {values} FROM (SELECT i.contract_id, "
        f"jsonb_populate_record(NULL::{terms}, term) AS r FROM {rows} "
        "WHERE i.id = ANY(%s::bigint[])) AS parked"
    )
    restore_windows = (
        f"UPDATE {terms} t SET ending_before = w.ending_before, body = CASE WHEN w.body_had_end "
        "THEN jsonb_set(t.body, '{ending_before}', w.body_ending_before) "
        "ELSE t.body - 'ending_before' END "
        f"FROM {items} i CROSS JOIN jsonb_to_recordset(i.snapshot -> 'windows') AS w(id uuid, "
        "ending_before timestamptz, body_ending_before jsonb, body_had_end boolean) "
        "WHERE i.id = ANY(%s::bigint[]) AND t.id = w.id"
    )
    return restore_contracts, delete_rows, insert_rows, restore_windows


def revert_snapshots_apply(item_ids: list[int]) -> dict[uuid.UUID, str | None]:
    """Write back what the migration of these items did to their old contracts, from their
    snapshots: each old contract's end and settings, the term rows the move deleted or cut
    (re-inserted whole, ids and all), the windows it ended. Four statements for any number of
    items, the snapshots never read into Python. The caller holds the contracts' locks and has
    taken the new contracts off the timeline first. Returns each old contract's restored end
    (format_instant, as snapshotted)."""
    restore_contracts, delete_rows, insert_rows, restore_windows = _snapshot_statements()
    with connection.cursor() as cursor:
        cursor.execute(restore_contracts, [item_ids])
        ends = dict(cursor.fetchall())
        cursor.execute(delete_rows, [item_ids])
        cursor.execute(insert_rows, [item_ids])
        cursor.execute(restore_windows, [item_ids])
    return ends
