"""JSON that keeps Decimal exact both ways.

The standard encoder cannot write a Decimal as a number without going through float, so each
Decimal is swapped for a placeholder string and the placeholder's quotes are removed after
encoding. The placeholder starts with NUL, which PostgreSQL's jsonb refuses inside text, so no
stored user string can ever look like one.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from rest_framework.utils.encoders import JSONEncoder as DRFJSONEncoder

_MARK = "\x00dec:"
_PLACEHOLDER = re.compile(r'"\\u0000dec:(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)"')


def _mark_decimals(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("NaN and infinite amounts are not allowed")
        return _MARK + str(value)
    if isinstance(value, dict):
        return {key: _mark_decimals(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mark_decimals(item) for item in value]
    return value


def _unmark(text: str) -> str:
    return _PLACEHOLDER.sub(r"\1", text)


class ExactDecimalEncoder(DRFJSONEncoder):
    """DRF's encoder (datetimes, UUIDs, ...) plus Decimals written as exact JSON numbers."""

    def encode(self, o: Any) -> str:
        return _unmark(super().encode(_mark_decimals(o)))


class DecimalDecoder(json.JSONDecoder):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("parse_float", Decimal)
        super().__init__(*args, **kwargs)


def dumps(value: Any) -> str:
    return json.dumps(value, cls=ExactDecimalEncoder)


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)
