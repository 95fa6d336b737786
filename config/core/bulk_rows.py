"""Bulk INSERT of model rows as ONE JSON document read back with `jsonb_to_recordset`.

`bulk_create` sends each column as a text array quoted value by value; for a cohort-migration
batch (500 contracts, 1,500 audit entries with JSON `changes`) compiling and quoting those
arrays took longer in Python than PostgreSQL took to write the rows. One JSON parameter keeps
Decimals exact (`jsonutil`), and the statement's text is the same for any number of rows.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from typing import Any

from django.db import connection
from django.db.models import NOT_PROVIDED, Field

from config.core import jsonutil


def json_column(value: Any) -> Any:
    """A column value in the JSON row form `jsonb_to_recordset` reads back into its SQL type."""
    if isinstance(value, dt.datetime):
        return value.isoformat()  # full precision: the JSON encoder would cut to milliseconds
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


@functools.cache
def _written_fields(model) -> tuple[Field, ...]:
    """The concrete fields a row carries: those with a database default (`db_default`) are
    left to PostgreSQL, as `save()` leaves them."""
    return tuple(f for f in model._meta.concrete_fields if f.db_default is NOT_PROVIDED)


@functools.cache
def _model_insert(model, shared: frozenset[str] = frozenset()) -> str:
    """The INSERT of rows read from one JSON array, the columns named in `shared` (attnames)
    from one JSON object instead (the values every row has)."""
    fields = _written_fields(model)
    columns = ", ".join(_quote(f.column) for f in fields)

    def record(of: list[Field]) -> str:
        return ", ".join(f"{_quote(f.column)} {f.db_type(connection)}" for f in of)

    values = ", ".join(f"{'s' if f.attname in shared else 't'}.{_quote(f.column)}" for f in fields)
    per_row = [f for f in fields if f.attname not in shared]
    sql = (
        f"INSERT INTO {_quote(model._meta.db_table)} ({columns}) SELECT {values} "
        f"FROM jsonb_to_recordset(%s::jsonb) AS t({record(per_row)})"
    )
    if shared:
        shared_fields = [f for f in fields if f.attname in shared]
        sql += f" CROSS JOIN jsonb_to_record(%s::jsonb) AS s({record(shared_fields)})"
    return sql


def records_insert(
    model, records: list[dict[str, Any]], *, shared: dict[str, Any] | None = None
) -> None:
    """Rows of `model` given as `{attname: value}` (every written field; Python values), in one
    statement. `shared`: the values every row has, sent once (a batch's 1,500 audit entries
    share who wrote them) and left out of `records`."""
    if not records:
        return
    shared = shared or {}
    columns = [(f.attname, f.column) for f in _written_fields(model) if f.attname not in shared]
    rows = [{column: json_column(record[name]) for name, column in columns} for record in records]
    params = [jsonutil.dumps(rows)]
    if shared:
        by_attname = {f.attname: f.column for f in _written_fields(model)}
        params.append(
            jsonutil.dumps({by_attname[name]: json_column(v) for name, v in shared.items()})
        )
    with connection.cursor() as cursor:
        cursor.execute(_model_insert(model, frozenset(shared)), params)


def model_rows_insert(objects: list) -> None:
    """`bulk_create` for unsaved instances of one model with Python-side primary keys, in one
    statement. Each field's `pre_save` runs as in bulk_create (auto_now_add); the instances
    are left saved, as bulk_create leaves them."""
    if not objects:
        return
    model = type(objects[0])
    fields = _written_fields(model)
    records_insert(
        model, [{f.attname: f.pre_save(obj, add=True) for f in fields} for obj in objects]
    )
    for obj in objects:
        obj._state.adding, obj._state.db = False, connection.alias
