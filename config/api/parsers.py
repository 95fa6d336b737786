"""JSON numbers become Decimal, never float, so amounts keep every digit (DESIGN.md standards)."""

import json
from decimal import Decimal

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class DecimalJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", "utf-8")
        raw = stream.read() if stream is not None else b""
        if not raw.strip():
            return {}  # the SDK sends an empty body for some list calls
        try:
            return json.loads(raw.decode(encoding), parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
