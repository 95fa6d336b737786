"""Serializer bases shared by every API room."""

from __future__ import annotations

from collections.abc import Mapping

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
