"""Set-based writes of contract term rows: one statement whatever the number of rows.

Rows travel to PostgreSQL as ONE JSON document (Decimals exact, by the JSONField's own encoder)
read back with `jsonb_to_recordset`, rather than through bulk_create / bulk_update: Django's
forms send each column as a text array (or a CASE per row), and escaping every quote of every
JSON body into them cost more than the rest of a provision (2.4 ms against 1.0 ms for the 24 rows
of an eight-term package).
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Field

from config.api import jsonutil
from contracts_app.models import Contract, ContractTerm
from contracts_app.services.materialise import TermRow


def _json_column(value: Any) -> Any:
    """A column value in the JSON row form `jsonb_to_recordset` reads back into its SQL type."""
    if isinstance(value, datetime):
        return value.isoformat()  # full precision: the JSON encoder would cut to milliseconds
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


@functools.cache
def _terms_insert() -> tuple[str, tuple[tuple[str, str, Field | None], ...]]:
    """`INSERT ... SELECT ... FROM jsonb_to_recordset(%s)` over every concrete ContractTerm
    column, and where each column's value comes from: (column, TermRow attribute, field whose
    default to use when TermRow has no such attribute)."""
    fields = ContractTerm._meta.concrete_fields
    columns = ", ".join(_quote(f.column) for f in fields)
    record = ", ".join(f"{_quote(f.column)} {f.db_type(connection)}" for f in fields)
    sql = (
        f"INSERT INTO {_quote(ContractTerm._meta.db_table)} ({columns}) "
        f"SELECT {columns} FROM jsonb_to_recordset(%s::jsonb) AS t({record})"
    )
    sources = tuple(
        (f.column, f.attname, None if f.attname in TermRow.__dataclass_fields__ else f)
        for f in fields
    )
    return sql, sources


def contract_terms_write(*, contract: Contract, rows: Iterable[TermRow]) -> None:
    """Insert materialised term rows for `contract` in one statement."""
    contracts_terms_write(pairs=[(contract, rows)])


def _records(contract_id, rows: Iterable[TermRow]) -> list[dict]:
    _, sources = _terms_insert()
    records = []
    for row in rows:
        record = {}
        for column, attname, default_from in sources:
            if attname == "contract_id":
                value = contract_id
            elif default_from is None:
                value = getattr(row, attname)
            else:
                value = default_from.get_default()
            record[column] = _json_column(value)
        records.append(record)
    return records


def contract_terms_write_many(*, rows: Iterable[tuple[uuid.UUID, TermRow]]) -> None:
    """Insert term rows of several contracts, given as (contract id, row), in one statement."""
    sql, _ = _terms_insert()
    payload = []
    for contract_id, row in rows:
        payload += _records(contract_id, [row])
    if payload:
        with connection.cursor() as cursor:
            cursor.execute(sql, [jsonutil.dumps(payload)])


# Where a contract's id goes in a TermRowsCopy's text (a version-4 UUID no generator makes).
_CONTRACT_SLOT = "00000000-0000-4000-8000-000000000000"
_UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class TermRowsCopy:
    """The term rows of `template` for another contract, every id fresh: the rows' JSON
    records are written once and each copy substitutes new ids into the text (term ids, the
    links of periods and override specifiers to them, schedule item ids, the contract id).
    What a batch writes for the many contracts that get the same terms (see
    cohort_migration_batches.MaterialiseOnce); contracts_terms_write takes it as rows."""

    def __init__(self, template: TermRowsTemplate) -> None:
        self.template = template

    def records_json(self, contract_id) -> str:
        fresh = {old: str(uuid.uuid4()) for old in self.template.ids}
        fresh[_CONTRACT_SLOT] = str(contract_id)
        # One linear scan for UUID-shaped text; ids not generated here (products, package
        # terms, credit types) stay as they are.
        return _UUID_TEXT.sub(lambda m: fresh.get(m.group(0), m.group(0)), self.template.text)


class TermRowsTemplate:
    """Materialised rows serialised once, for TermRowsCopy."""

    def __init__(self, rows: list[TermRow]) -> None:
        self.text = jsonutil.dumps(_records(_CONTRACT_SLOT, rows))[1:-1]
        row_ids = {str(row.id) for row in rows}
        item_ids = {
            item["id"]
            for row in rows
            for schedule in row.body.values()
            if isinstance(schedule, dict)
            for item in schedule.get("schedule_items") or ()
            if isinstance(item, dict) and isinstance(item.get("id"), str)
        }
        self.ids = row_ids | item_ids


def contracts_terms_write(*, pairs: Iterable[tuple[Contract, Iterable[TermRow]]]) -> None:
    """Insert the materialised term rows of several contracts in one statement (provisioning
    writes one contract's, a cohort-migration batch a whole batch's, some as TermRowsCopy).

    Columns come from the model, so a field added to ContractTerm is written too (with its
    default when TermRow lacks it), as bulk_create would.
    """
    sql, _ = _terms_insert()
    payload, copies = [], []
    for contract, rows in pairs:
        if isinstance(rows, TermRowsCopy):
            copies.append(rows.records_json(contract.id))
        else:
            payload += _records(contract.id, rows)
    if payload or copies:
        parts = [jsonutil.dumps(payload)[1:-1]] if payload else []
        with connection.cursor() as cursor:
            cursor.execute(sql, ["[" + ",".join(parts + [c for c in copies if c]) + "]"])


# Columns a change of a term's window rewrites; the rest (kind, product, links) never moves.
_REWRITTEN = ("starting_at", "ending_before", "body")


@functools.cache
def _terms_rewrite() -> str:
    table = _quote(ContractTerm._meta.db_table)
    fields = [ContractTerm._meta.get_field(name) for name in ("id", *_REWRITTEN)]
    record = ", ".join(f"{_quote(f.column)} {f.db_type(connection)}" for f in fields)
    assignments = ", ".join(f"{_quote(name)} = v.{_quote(name)}" for name in _REWRITTEN)
    return (
        f"WITH gone AS (DELETE FROM {table} WHERE id = ANY(%s::uuid[]) RETURNING 1) "
        f"UPDATE {table} AS t SET {assignments} "
        f"FROM jsonb_to_recordset(%s::jsonb) AS v({record}) WHERE t.id = v.id"
    )


def contract_terms_rewrite(*, changed: Iterable[ContractTerm], deleted: Iterable[uuid.UUID]):
    """Delete some term rows and rewrite the window and body of others, in one statement."""
    deleted_ids = [str(term_id) for term_id in deleted]
    payload = [
        {"id": str(term.id), **{name: _json_column(getattr(term, name)) for name in _REWRITTEN}}
        for term in changed
    ]
    if deleted_ids or payload:
        with connection.cursor() as cursor:
            cursor.execute(_terms_rewrite(), [deleted_ids, jsonutil.dumps(payload)])
