"""Streamed CSV downloads (Django's "Streaming large CSV files" recipe)."""

from __future__ import annotations

import csv
import datetime as dt

from django.http import HttpResponseBadRequest, StreamingHttpResponse

from config.core.instants import format_instant_to_second
from config.db_router import read_alias


class _Echo:
    """A file-like object whose write returns the line (csv.writer into a generator)."""

    def write(self, value: str) -> str:
        return value


def _cell(value):
    if isinstance(value, dt.datetime):
        return format_instant_to_second(value)
    return "" if value is None else value


def csv_response(filename: str, header: list[str], rows, *, chunk_size: int = 2000):
    """A streamed CSV download of `rows` (a queryset of value tuples, read in chunks with a
    server-side cursor, so memory stays flat whatever the count). Times as RFC 3339, UTC."""
    writer = csv.writer(_Echo())
    rows = rows.using(read_alias())  # the read replica when one is configured

    def lines():
        yield writer.writerow(header)
        for row in rows.iterator(chunk_size=chunk_size):
            yield writer.writerow([_cell(value) for value in row])

    return csv_download(filename, lines())


def csv_download(filename: str, lines):
    """A streamed CSV attachment of already formatted `lines` (e.g. PostgreSQL's COPY output)."""
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def invalid_filters(form):
    """400 naming each invalid filter of a download's GET form (plain text: no page to show)."""
    fields = "; ".join(f"{field}: {' '.join(e)}" for field, e in form.errors.items())
    return HttpResponseBadRequest(f"Invalid filters. {fields}", content_type="text/plain")
