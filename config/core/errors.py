"""One application error type, raised by services and selectors (HackSoft's pattern).

A domain error carries a stable `code` and the `field` it concerns, never an HTTP status: the
API's one exception handler (config.api.errors) maps each code to its status, and pages show the
message beside the field.
"""

from __future__ import annotations


class ApplicationError(Exception):
    """A business-rule failure: bad input, an unknown object or a conflict with stored state."""

    code = "INVALID_REQUEST"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(ApplicationError):
    pass


class NotFound(ApplicationError):
    code = "NOT_FOUND"


class Conflict(ApplicationError):
    code = "CONFLICT"
