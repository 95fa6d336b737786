"""The one exception handler for every API error: domain error codes → HTTP statuses (DESIGN.md §5).

Metronome-style routes answer `{"message": ..., "field"?: ..., "errors"?: {...}}`; views that set
`error_style = "solvimon"` answer `{"type", "code", "message", "field"}` instead.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from config.core.errors import ApplicationError, Conflict, NotFound

# The HTTP answer for each domain error code; a code not listed is bad input (400).
STATUS_BY_ERROR_CODE = {
    NotFound.code: status.HTTP_404_NOT_FOUND,
    Conflict.code: status.HTTP_409_CONFLICT,
}


def status_for(error: ApplicationError) -> int:
    return STATUS_BY_ERROR_CODE.get(error.code, status.HTTP_400_BAD_REQUEST)


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail → {"commits[0].product_id": ["..."]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key == "non_field_errors":
                name = prefix
            elif isinstance(key, int):  # DRF keys list items by index: `commits[0]`
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            for k, v in flatten_errors(value, name).items():
                flat.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            flat.setdefault(prefix or "body", []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                if item:
                    for k, v in flatten_errors(item, f"{prefix}[{index}]").items():
                        flat.setdefault(k, []).extend(v)
    else:
        flat.setdefault(prefix or "body", []).append(str(detail))
    return flat


def _error_kind(status_code: int) -> str:
    return {
        400: "INVALID_REQUEST",
        401: "UNAUTHORIZED",
        403: "FORBIDDEN",
        404: "NOT_FOUND",
        405: "METHOD_NOT_ALLOWED",
        409: "CONFLICT",
        415: "UNSUPPORTED_MEDIA_TYPE",
        429: "TOO_MANY_REQUESTS",
    }.get(status_code, "ERROR")


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    field: str | None = None
    errors: dict[str, list[str]] | None = None
    headers: dict[str, str] = {}
    code: str | None = None

    if isinstance(exc, ApplicationError):
        status_code, message, field, code = status_for(exc), exc.message, exc.field, exc.code
    elif isinstance(exc, exceptions.ValidationError):
        status_code = 400
        errors = flatten_errors(exc.detail)
        field = next(iter(errors), None)
        message = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in errors.items())
        code = "INVALID_FIELD"
    elif isinstance(exc, exceptions.ParseError):
        status_code, message = 400, f"Malformed request body: {exc.detail}"
        code = "MALFORMED_BODY"
    elif isinstance(exc, Http404):
        status_code, message = 404, str(exc) or "Not found"
    elif isinstance(exc, PermissionDenied):
        status_code, message = 403, "You do not have permission to perform this action."
    elif isinstance(exc, exceptions.APIException):
        status_code, message = exc.status_code, str(exc.detail)
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
    else:
        return None  # a bug, not bad input: let Django log it and answer 500

    if status_code == 409:
        # Metronome's SDK retries 409 unless told not to; a reused uniqueness_key never succeeds.
        headers["x-should-retry"] = "false"

    view = context.get("view")
    if getattr(view, "error_style", None) == "solvimon":
        body: dict[str, Any] = {
            "type": _error_kind(status_code),
            "code": code or _error_kind(status_code),
            "message": message,
            "field": field,
        }
    else:
        body = {"message": message}
        if field:
            body["field"] = field
        if errors:
            body["errors"] = errors
    response = Response(body, status=status_code, headers=headers)
    response.exception = True
    return response
