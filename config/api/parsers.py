"""JSON numbers become Decimal, never float, so amounts keep every digit (DESIGN.md standards)."""

from decimal import Decimal

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from config.core.errors import ValidationFailed
from config.core.jsonutil import loads_bounded


class DecimalJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", "utf-8")
        raw = stream.read() if stream is not None else b""
        if not raw.strip():
            return {}  # the SDK sends an empty body for some list calls
        try:
            data = loads_bounded(
                raw.decode(encoding), parse_float=bounded_decimal, parse_constant=refuse_constant
            )
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        _refuse_nul(data, "")
        return data


# Far beyond any amount or quantity, and far inside what PostgreSQL numeric and Python's decimal
# context can compute with: 1e200000 would otherwise overflow deep inside a service (a 500).
MAX_EXPONENT = 100


def bounded_decimal(text: str) -> Decimal:
    number = Decimal(text)
    if number and not -MAX_EXPONENT <= number.adjusted() <= MAX_EXPONENT:
        raise ValueError(f"number {text[:40]} is out of range (|exponent| <= {MAX_EXPONENT})")
    return number


def refuse_constant(name: str):
    """NaN and Infinity are not JSON (RFC 8259) and no amount can be one: refuse them."""
    raise ValueError(f"{name} is not a JSON number")


def _refuse_nul(value, path: str) -> None:
    """PostgreSQL text and jsonb cannot hold U+0000: refuse it up front, naming where it is."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationFailed(
                "The NUL character (\\u0000) is not allowed", field=path or "body"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                raise ValidationFailed(
                    "The NUL character (\\u0000) is not allowed in keys", field=path or "body"
                )
            _refuse_nul(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_nul(item, f"{path}[{index}]")
