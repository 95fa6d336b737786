"""JSON that keeps Decimal exact both ways.

The standard encoder cannot write a Decimal as a number without going through float, so each
Decimal is written as a placeholder string and the placeholder's quotes are removed after
encoding. The placeholder starts with NUL, which PostgreSQL's jsonb refuses inside text, so no
stored user string can ever look like one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import re
import uuid
from decimal import Decimal
from typing import Any

from django.db.models.query import QuerySet
from django.utils import timezone
from django.utils.functional import Promise

_MARK = "\x00dec:"
_PLACEHOLDER = re.compile(r'"\\u0000dec:(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)"')


def _unmark(text: str) -> str:
    return _PLACEHOLDER.sub(r"\1", text)


_IP_TYPES = (
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
    ipaddress.IPv4Network,
    ipaddress.IPv6Network,
    ipaddress.IPv4Interface,
    ipaddress.IPv6Interface,
)


def _plain(o: Any) -> Any:
    """What DRF's JSONEncoder writes for a value JSON does not know (the wire was built on it;
    kept here, free of DRF, so models and services can store JSON the API serves unchanged)."""
    if isinstance(o, Promise):
        return str(o)
    if isinstance(o, dt.datetime):
        text = o.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(o, dt.date):
        return o.isoformat()
    if isinstance(o, dt.time):
        if timezone.is_aware(o):
            raise ValueError("JSON can't represent timezone-aware times.")
        return o.isoformat()
    if isinstance(o, dt.timedelta):
        return str(o.total_seconds())
    if isinstance(o, (uuid.UUID, *_IP_TYPES)):
        return str(o)
    if isinstance(o, QuerySet):
        return tuple(o)
    if isinstance(o, bytes):
        return o.decode()
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "__getitem__"):
        kind = list if isinstance(o, list | tuple) else dict
        with contextlib.suppress(Exception):
            return kind(o)
    elif hasattr(o, "__iter__"):
        return tuple(o)
    raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")


class ExactDecimalEncoder(json.JSONEncoder):
    """Datetimes, UUIDs, ... as DRF writes them, plus Decimals written as exact JSON numbers.

    The C encoder hands every value it does not know to `default`, so a Decimal becomes its
    placeholder there, with no extra walk over the data.
    """

    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal):
            if not o.is_finite():
                raise ValueError("NaN and infinite amounts are not allowed")
            return _MARK + str(o)
        return _plain(o)

    def encode(self, o: Any) -> str:
        # Only whole-text encoding is supported (json.dumps, DRF, JSONField); json.dump's
        # chunked iterencode would leave placeholders quoted.
        return _unmark(super().encode(o))


class DecimalDecoder(json.JSONDecoder):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("parse_float", Decimal)
        super().__init__(*args, **kwargs)


# Deeper than any body or cursor we accept (terms nest about six levels); anything deeper is
# refused before a recursive walk (ours, DRF's, the JSON decoder's) can run out of stack.
MAX_NESTING_DEPTH = 32


class TooDeeplyNested(ValueError):
    pass


def loads_bounded(text: str | bytes, **kwargs: Any) -> Any:
    """`json.loads` that refuses nesting deeper than MAX_NESTING_DEPTH with a ValueError.

    The C decoder recurses once per level and raises RecursionError near Python's recursion
    limit, so that is caught here; shallower but still deep values are measured afterwards
    without recursion.
    """
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise TooDeeplyNested(
            f"JSON nested deeper than {MAX_NESTING_DEPTH} levels is not accepted"
        ) from None
    if _nesting_depth_exceeds(value, MAX_NESTING_DEPTH):
        raise TooDeeplyNested(f"JSON nested deeper than {MAX_NESTING_DEPTH} levels is not accepted")
    return value


def _nesting_depth_exceeds(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def dumps(value: Any) -> str:
    return json.dumps(value, cls=ExactDecimalEncoder)


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)
