"""Serializer bases shared by every API room."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not declare, naming each one: a misspelt field is never dropped.

    `ignored_fields` are accepted and discarded (e.g. read-only keys a client echoes back).
    """

    ignored_fields: tuple[str, ...] = ()

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields) - set(self.ignored_fields))
            if unknown:
                raise serializers.ValidationError(
                    {key: ["Unknown field."] for key in unknown}, code="unknown_field"
                )
        return dict(super().to_internal_value(data))


def require_exactly_one(attrs: Mapping, first: str, second: str) -> None:
    """Refuse `attrs` unless exactly one of the two fields was given (the error names `first`)."""
    if (first in attrs) == (second in attrs):
        raise serializers.ValidationError({first: [f"Give exactly one of {first} or {second}."]})


# --- one type strictness for every JSON body --------------------------------------------------
# DRF's scalar fields coerce: CharField turns 5 into "5", BooleanField takes "yes" and 1,
# IntegerField takes "7". Query strings need that (everything there is text); JSON bodies do
# not, and one endpoint refusing what another silently converts is a trap for integrators. So
# every body is checked against the serializer's declared fields before DRF converts anything.

_TEXT_FIELDS = (
    serializers.CharField,
    serializers.UUIDField,
    serializers.DateTimeField,
    serializers.DateField,
    serializers.TimeField,
)
_NUMBER_FIELDS = (serializers.DecimalField, serializers.FloatField)


def _type_error(field: serializers.Field, value: Any) -> str | None:
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be true or false."
    if isinstance(field, serializers.IntegerField):
        whole = isinstance(value, int) or (isinstance(value, Decimal) and value.is_finite())
        return None if whole and not isinstance(value, bool) else "A whole number is required."
    if isinstance(field, _NUMBER_FIELDS):
        number = isinstance(value, int | Decimal) and not isinstance(value, bool)
        return None if number else "A number is required."
    if isinstance(field, _TEXT_FIELDS):
        return None if isinstance(value, str) else "A string is required."
    if isinstance(field, serializers.ChoiceField) and all(
        isinstance(choice, str) for choice in field.choices
    ):
        return None if isinstance(value, str) else "A string is required."
    return None


def json_type_errors(field: serializers.Field, value: Any, path: str = "") -> dict[str, list[str]]:
    """Where `value` (parsed JSON) has a type `field` would only accept by coercing it."""
    errors: dict[str, list[str]] = {}
    if value is None:
        return errors  # allow_null / required are DRF's to judge
    if isinstance(field, serializers.ListSerializer | serializers.ListField):
        if isinstance(value, list):
            for index, item in enumerate(value):
                errors.update(json_type_errors(field.child, item, f"{path}[{index}]"))
    elif isinstance(field, serializers.Serializer):
        if isinstance(value, Mapping):
            for name, child in field.fields.items():
                if not child.read_only and name in value:
                    errors.update(
                        json_type_errors(child, value[name], f"{path}.{name}" if path else name)
                    )
    elif isinstance(field, serializers.DictField):
        if isinstance(value, Mapping):
            for key, item in value.items():
                errors.update(json_type_errors(field.child, item, f"{path}.{key}"))
    else:
        message = _type_error(field, value)
        if message:
            errors[path or "body"] = [message]
    return errors
