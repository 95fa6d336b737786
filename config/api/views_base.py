"""Small shared pieces for the thin API views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.serializers import json_type_errors
from config.core.errors import ValidationFailed
from config.core.pagination import CursorPage, keyset_paginate, parse_limit


def validated(serializer_class: type[serializers.Serializer], data: Any, **context) -> dict:
    """Validate a JSON body with `serializer_class`; a failure becomes a 400 naming the field.

    JSON types are strict: a number where a string belongs is refused, never converted.
    `null` is not an empty object (an absent body already parses as `{}`).
    """
    if not isinstance(data, dict):
        raise ValidationFailed("The request body must be a JSON object", field="body")
    serializer = serializer_class(data=data, context=context)
    type_errors = json_type_errors(serializer, data)
    if type_errors:
        raise serializers.ValidationError(type_errors)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def plain(value):
    """Validated nested data (OrderedDicts) as plain JSON-ready values."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def validated_query(serializer_class: type[serializers.Serializer], params: dict) -> dict:
    """Validate query-string parameters: all text, so DRF's conversions ("true", "5") apply."""
    serializer = serializer_class(data=params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def query_page(
    request,
    queryset,
    *,
    keys: tuple[str, ...] = ("created_at", "id"),
    default_limit: int = 10,
    max_limit: int = 100,
    descending: bool = False,
) -> CursorPage:
    """Keyset page with `limit` / `next_page` from the query string (Metronome's SyncCursorPage)."""
    limit = parse_limit(request.query_params.get("limit"), default=default_limit, maximum=max_limit)
    return keyset_paginate(
        queryset,
        limit=limit,
        cursor=request.query_params.get("next_page"),
        keys=keys,
        descending=descending,
    )


def page_body(page: CursorPage, items: list[Any]) -> dict[str, Any]:
    return {"data": items, "next_page": page.next_cursor}


def page_answer(request, queryset, render: Callable[[Any], Any], **paging: Any) -> Response:
    """One keyset page of `queryset` (`query_page`, with its `paging` options), each row
    rendered: `{"data": [...], "next_page": ...}`."""
    page = query_page(request, queryset, **paging)
    return Response(page_body(page, [render(row) for row in page.items]))


def id_answer(row) -> Response:
    """The answer of a write that names what it wrote: `{"data": {"id": ...}}` (ID_DATA)."""
    return Response({"data": {"id": str(row.id)}})


def data_answer(value: Any) -> Response:
    """`{"data": value}`: a read's or a write's rendered object."""
    return Response({"data": value})


class ServicePostApi(APIView):
    # A POST (Metronome's reads are POSTs too) that validates its body with `input` (as plain
    # JSON values), hands it to `perform` (a service or selector call; the URL's arguments
    # are in `self.kwargs`) and answers with `answer(result)`: by default the written row's id
    # (`id_answer`), for a list a page (`page_answer`). A subclass declares `operation_id`,
    # `input`, `responses` (and the query's `parameters`, such as PAGE_PARAMETERS, or a
    # `description`) and `perform`; its OpenAPI operation is the one the `@extend_schema` of a hand-written
    # `post` would give. Deliberately no docstring: drf-spectacular would show it as the
    # description of every subclass.

    operation_id: str
    input: type[serializers.Serializer]
    responses: Any
    parameters: list | None = None
    description: str | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "operation_id" not in vars(cls):
            return

        def post(self, request, **kwargs):
            return self.answer(self.perform(plain(validated(self.input, request.data))))

        post.__qualname__ = f"{cls.__qualname__}.post"
        cls.post = extend_schema(
            operation_id=cls.operation_id,
            request=cls.input,
            parameters=cls.parameters,
            responses=cls.responses,
            description=cls.description,
        )(post)

    def perform(self, data: dict) -> Any:
        raise NotImplementedError

    def answer(self, result: Any) -> Response:
        return id_answer(result)
