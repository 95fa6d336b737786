"""Reads of packages. get and list answer with stored JSON text, one query each.

A package's response object is rendered once, at create, into `Package.wire` as JSON text
(packages are immutable). What can change afterwards is read by the same query and spliced
into that text: `archived_at`, the alias intervals still in force (as JSON text built by
PostgreSQL), and `created_at` (known only once the row is inserted). The text is sent as it
is: no model instances, no JSON decoding or encoding, and the numbers keep the exact digits the
create wrote.

Product and credit type names in the text are those in force at read time: a rename that takes
effect now clears the wire (services/packages.py `package_wires_invalidate`), and a product
rename scheduled for later (products/update with a future starting_at) sets
`Package.wire_expires_at`, past which the same query's row counts as having no wire. Either way
the package renders again at its next read (`package_wires_fill`) with the names as of then.

The read queries are plain SQL run through Django's cursor (so query counting still sees
them): building them with the ORM cost more than running them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Prefetch
from django.utils import timezone

from config.core.errors import NotFound, ValidationFailed
from config.core.instants import format_instant, parse_instant
from config.core.pagination import CursorPage, cursor_for, cursor_values
from packages_app.models import USD_CENTS_ID, AliasAssignment, AliasName, Package, PackageTerm
from packages_app.package_wire import term_credit_type_ids


def _rfc3339_sql(column: str) -> str:
    """`config.core.instants.format_instant` in SQL: UTC, `Z`, milliseconds (truncated) when present."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"CASE WHEN {column} IS NULL THEN NULL"
        f" WHEN date_trunc('second', {utc}) = {utc}"
        f""" THEN to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
        f""" ELSE to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END"""
    )


_ALIASES_SQL = (
    "SELECT json_agg(json_build_object("
    f"'name', n.name, 'starting_at', {_rfc3339_sql('a.starting_at')}, "
    f"'ending_before', {_rfc3339_sql('a.ending_before')}"
    ") ORDER BY a.starting_at, a.id)::text"
    f" FROM {AliasAssignment._meta.db_table} a"
    f" JOIN {AliasName._meta.db_table} n ON n.id = a.alias_name_id"
    " WHERE a.package_id = p.id AND a.superseded_at IS NULL"
)
_SELECT = (
    f"SELECT p.created_at, p.id, p.wire, p.wire_expires_at, p.archived_at, ({_ALIASES_SQL})"
    f" FROM {Package._meta.db_table} p"
)
_ARCHIVE_FILTERS = {
    "NOT_ARCHIVED": "p.archived_at IS NULL",  # index package_keyset_not_archived
    "ARCHIVED": "p.archived_at IS NOT NULL",
    "ALL": "TRUE",
}

# (created_at, id, answer text or None while the package has no wire)
AnswerRow = tuple[dt.datetime, uuid.UUID, str | None]


def _answer(wire: str | None, created_at, archived_at, aliases: str | None) -> str | None:
    """The wire with the live keys spliced in before its closing brace.

    Done here rather than in SQL: PostgreSQL cuts the brace off by counting characters
    (UTF-8), which cost more than the whole Python splice. Timestamps need no JSON escaping;
    alias names were escaped by json_build_object.
    """
    if wire is None:
        return None
    archived = "null" if archived_at is None else f'"{format_instant(archived_at)}"'
    return (
        f'{wire[:-1]},"created_at":"{format_instant(created_at)}","archived_at":{archived}'
        f',"aliases":{aliases or "[]"}}}'
    )


def _rows(sql: str, params: list[Any]) -> list[AnswerRow]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    now = timezone.now()
    return [
        (
            created_at,
            package_id,
            # Past its expiry a product it shows has been renamed: render it again.
            _answer(wire, created_at, archived_at, aliases)
            if expires_at is None or expires_at > now
            else None,
        )
        for created_at, package_id, wire, expires_at, archived_at, aliases in rows
    ]


def _package_key(package_id: Any, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(package_id))
    except ValueError:
        raise NotFound(f"Package {package_id} not found", field=field) from None


def package_get(*, package_id: Any, field: str = "package_id") -> Package:
    """The package row; unknown or malformed ids are 404, as Metronome answers."""
    package = Package.objects.filter(pk=_package_key(package_id, field)).first()
    if package is None:
        raise NotFound(f"Package {package_id} not found", field=field)
    return package


def package_answer(*, package_id: Any, field: str = "package_id") -> AnswerRow:
    """The package's answer row in one query; unknown or malformed ids are 404."""
    rows = _rows(f"{_SELECT} WHERE p.id = %s", [_package_key(package_id, field)])
    if not rows:
        raise NotFound(f"Package {package_id} not found", field=field)
    return rows[0]


def package_answers(*, package_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str | None]:
    rows = _rows(f"{_SELECT} WHERE p.id = ANY(%s)", [list(package_ids)])
    return {package_id: answer for _, package_id, answer in rows}


def _after(cursor: str) -> list[Any]:
    """The (created_at, id) a cursor carries; a forged one is a 400, not a database error."""
    created_at, package_id = cursor_values(cursor, 2)
    try:
        return [parse_instant(created_at), uuid.UUID(package_id)]
    except ValueError:
        raise ValidationFailed("next_page is not a valid cursor", field="next_page") from None


def package_answer_page(
    *, archive_filter: str = "NOT_ARCHIVED", limit: int, cursor: str | None
) -> CursorPage:
    """A keyset page on (created_at, id), as `keyset_paginate` serves it, of answer rows."""
    where, params = [_ARCHIVE_FILTERS[archive_filter]], []
    if cursor:
        where.append("(p.created_at, p.id) > (%s, %s)")
        params.extend(_after(cursor))
    rows = _rows(
        f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY p.created_at, p.id LIMIT %s",
        [*params, limit + 1],
    )
    if len(rows) <= limit:
        return CursorPage(items=rows, next_cursor=None)
    rows = rows[:limit]
    created_at, package_id, _ = rows[-1]
    return CursorPage(items=rows, next_cursor=cursor_for([created_at, package_id]))


def packages_to_render(*, package_ids: Iterable[uuid.UUID]) -> list[Package]:
    """Packages with their terms, for rendering their wire: 2 queries."""
    return list(
        Package.objects.filter(pk__in=list(package_ids)).prefetch_related(
            Prefetch(
                "terms",
                queryset=PackageTerm.objects.only(
                    "id", "package_id", "kind", "ordinal", "product_id", "body"
                ).order_by("kind", "ordinal"),
            )
        )
    )


def term_names_wanted(terms: Iterable[PackageTerm]) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """(credit type ids, product ids) whose names the terms' responses show, USD cents included."""
    credit_type_ids = {USD_CENTS_ID}
    product_ids = set()
    for term in terms:
        for credit_type_id in term_credit_type_ids(term.body):
            # Checked at create; an id that is no uuid names nothing.
            with contextlib.suppress(ValueError):
                credit_type_ids.add(uuid.UUID(credit_type_id))
        if term.product_id:
            product_ids.add(term.product_id)
    return credit_type_ids, product_ids
