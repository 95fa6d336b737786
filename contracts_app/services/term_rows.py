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

from django.db import connection
from django.db.models import Field

from config.core import jsonutil
from config.core.bulk_rows import json_column
from contracts_app.models import Contract, ContractTerm
from contracts_app.services.materialise import TermRow


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
            record[column] = json_column(value)
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


_UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class TermRowsTemplate:
    """Materialised rows, serialised once, that PostgreSQL copies for many contracts.

    Every id the rows generate (term ids, the links of periods and override specifiers to
    them, schedule item ids) gets, in each copy, a fresh random UUID, the same wherever it
    appears, drawn by the INSERT … SELECT, so no body is encoded or rewritten per contract in
    Python. The generated ids are `refs`; each
    body travels as a format() string with `%k$s` where refs[k] was, each row's id and
    generator as their positions in refs. Ids not generated here (products, package terms,
    credit types) stay as they are."""

    def __init__(self, rows: list[TermRow]) -> None:
        row_ids = {str(row.id) for row in rows}
        item_ids = {
            item["id"]
            for row in rows
            for schedule in row.body.values()
            if isinstance(schedule, dict)
            for item in schedule.get("schedule_items") or ()
            if isinstance(item, dict) and isinstance(item.get("id"), str)
        }
        self.refs = sorted(row_ids | item_ids)
        slot = {ref: k for k, ref in enumerate(self.refs, start=1)}  # format() counts from 1

        def placeholder(match: re.Match) -> str:
            k = slot.get(match.group(0))
            return f"%{k}$s" if k else match.group(0)

        self.records = []
        for record in _records(None, rows):
            text = jsonutil.dumps(record.pop("body")).replace("%", "%%")
            generator = record.pop("generated_from_id")
            self.records.append(
                {
                    **record,
                    "id": None,
                    "id_slot": slot[record["id"]],
                    "generated_from_slot": slot[generator] if generator else None,
                    "body_format": _UUID_TEXT.sub(placeholder, text),
                }
            )


class TermRowsCopy:
    """The rows of `template` for one more contract (what contracts_terms_write takes as its
    rows): see TermRowsTemplate. What a batch writes for the many contracts that get the same
    terms (cohort_migration_batches.MaterialiseOnce)."""

    def __init__(self, template: TermRowsTemplate) -> None:
        self.template = template


@functools.cache
def _copies_insert() -> str:
    """`INSERT … SELECT` of every template row for every (contract, template) pair: each
    contract's fresh ids drawn once per template (`fresh`, materialised, so every row of one
    contract sees the same ids), then every row's id, generator and body from them. Columns
    come from the model, as in _terms_insert."""
    fields = ContractTerm._meta.concrete_fields
    columns = ", ".join(_quote(f.column) for f in fields)
    values = []
    record = ["template int", "id_slot int", "generated_from_slot int", "body_format text"]
    for f in fields:
        column = _quote(f.column)
        if f.attname == "contract_id":
            values.append("c.contract_id")
        elif f.attname == "id":
            values.append("c.fresh[t.id_slot]::uuid")
        elif f.attname == "generated_from_id":
            values.append("c.fresh[t.generated_from_slot]::uuid")  # NULL slot: NULL
        elif f.attname == "body":
            values.append("format(t.body_format, VARIADIC c.fresh)::jsonb")
        else:
            record.append(f"{column} {f.db_type(connection)}")
            values.append(f"t.{column}")
    # A copy's ids: one random (version 4) UUID per contract and template, its last four hex
    # digits replaced by the ref's number, so every id of the copy is a valid version-4 UUID
    # with 106 random bits, and drawing them costs one gen_random_uuid() per contract rather
    # than one per ref (2 µs each: a sixth of the statement). A template with more refs than
    # four hex digits count draws every id.
    fresh = (
        "CASE WHEN tm.refs <= 65535 THEN left(c.base, 32) || lpad(to_hex(k), 4, '0') "
        "ELSE gen_random_uuid()::text END"
    )
    return (
        f"WITH f AS MATERIALIZED (SELECT c.contract_id, c.template, ARRAY(SELECT {fresh} "
        "FROM generate_series(1, tm.refs) AS k) AS fresh "
        "FROM (SELECT *, gen_random_uuid()::text AS base "
        "FROM jsonb_to_recordset(%s::jsonb) AS c(contract_id uuid, template int)) AS c "
        "JOIN jsonb_to_recordset(%s::jsonb) AS tm(template int, refs int) USING (template)) "
        f"INSERT INTO {_quote(ContractTerm._meta.db_table)} ({columns}) "
        f"SELECT {', '.join(values)} FROM f AS c "
        f"JOIN jsonb_to_recordset(%s::jsonb) AS t({', '.join(record)}) "
        "ON t.template = c.template"
    )


def contracts_terms_write(*, pairs: Iterable[tuple[Contract, Iterable[TermRow]]]) -> None:
    """Insert the materialised term rows of several contracts (provisioning writes one
    contract's, a cohort-migration batch a whole batch's as TermRowsCopy): one statement for
    rows given as TermRows, one for copies (PostgreSQL writes those from their templates).

    Columns come from the model, so a field added to ContractTerm is written too (with its
    default when TermRow lacks it), as bulk_create would.
    """
    payload, copies, templates = [], [], {}
    for contract, rows in pairs:
        if isinstance(rows, TermRowsCopy):
            number = templates.setdefault(id(rows.template), (len(templates), rows.template))[0]
            copies.append({"contract_id": str(contract.id), "template": number})
        else:
            payload += _records(contract.id, rows)
    with connection.cursor() as cursor:
        if payload:
            cursor.execute(_terms_insert()[0], [jsonutil.dumps(payload)])
        if copies:
            refs = [
                {"template": number, "refs": len(template.refs)}
                for number, template in templates.values()
            ]
            records = [
                {**record, "template": number}
                for number, template in templates.values()
                for record in template.records
            ]
            cursor.execute(
                _copies_insert(),
                [jsonutil.dumps(copies), jsonutil.dumps(refs), jsonutil.dumps(records)],
            )


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
        {"id": str(term.id), **{name: json_column(getattr(term, name)) for name in _REWRITTEN}}
        for term in changed
    ]
    if deleted_ids or payload:
        with connection.cursor() as cursor:
            cursor.execute(_terms_rewrite(), [deleted_ids, jsonutil.dumps(payload)])
