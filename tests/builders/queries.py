"""Counting the queries of a request (a helper module, not a test module)."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext


def queries_of_get(client, url: str, **headers) -> int:
    """How many queries a GET of `url` costs (it must answer 200)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return len(queries)
