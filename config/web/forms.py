"""Form plumbing shared by every app's pages: UTC date inputs, forms whose errors come back from
a service by field path, and the one "submit through the API's serializer" path."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from rest_framework.exceptions import ValidationError

from config.api.errors import flatten_errors
from config.api.views_base import plain, validated
from config.core.errors import ApplicationError
from config.core.instants import format_instant_to_second

BLANK = [("", "—")]


class UTCDateTimeInput(forms.DateTimeInput):
    """ISO 8601 typed as text (`2027-01-31` or `2027-01-31T09:30`, UTC): a native picker
    would show the browser's locale format, and every date here reads one way."""

    input_type = "text"

    def __init__(self, **kwargs):
        attrs = {
            "placeholder": "YYYY-MM-DD",
            "pattern": r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?",
            "inputmode": "numeric",
            "autocomplete": "off",
            **kwargs.pop("attrs", {}),
        }
        super().__init__(format="%Y-%m-%dT%H:%M", attrs=attrs, **kwargs)

    def format_value(self, value):
        text = super().format_value(value)
        return text[:-6] if text and text.endswith("T00:00") else text


def utc_datetime_field(label: str, *, required: bool = False, help_text: str = "") -> forms.Field:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=UTCDateTimeInput(),
        input_formats=[
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%d",
        ],
        help_text=help_text or "UTC; a time is optional (THH:MM)",
    )


def today_utc() -> dt.datetime:
    now = dt.datetime.now(dt.UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def utc_day(value: str | None, default: dt.datetime | None = None) -> dt.datetime:
    """A `YYYY-MM-DD` query parameter as that day's midnight UTC; `default` (today) when it is
    absent or not a date."""
    try:
        day = dt.date.fromisoformat(value or "")
    except ValueError:
        return default or today_utc()
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


class ServiceCheckedChoiceField(forms.ChoiceField):
    """A select whose value the service checks (exists, not archived), like the API's: the
    form keeps no second copy of that rule."""

    def valid_value(self, value) -> bool:
        return True


class ServiceForm(forms.Form):
    """A form whose inputs are named by the service's field paths (`paths`: the longest
    matching prefix wins; an unknown path becomes a form-wide error)."""

    paths: dict[str, str | None] = {}
    # The ids of the inputs ("id_<field>"). A page showing two forms with the same field names
    # gives one of them its own (`field_ids = "change_%s"`): ids stay unique on the page and each
    # label points at its own form's input. The input names (what is posted) do not change.
    field_ids = "id_%s"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", self.field_ids)
        super().__init__(*args, **kwargs)

    def add_service_error(self, path: str | None, message: str) -> None:
        path = path or ""
        for prefix in sorted(self.paths, key=len, reverse=True):
            if path == prefix or path.startswith((prefix + ".", prefix + "[")):
                self.add_error(self.paths[prefix], message)
                return
        self.add_error(None, message)


def as_wire(value: Any) -> Any:
    """A form-built body as JSON would carry it: datetimes as RFC 3339 strings (the API's
    serializers take strings only), everything else as is."""
    if isinstance(value, dt.datetime):
        return format_instant_to_second(value)
    if isinstance(value, dict):
        return {key: as_wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_wire(item) for item in value]
    return value


def add_errors(form, exc: ValidationError | ApplicationError) -> None:
    """Put a serializer's or a service's errors on `form` beside the inputs they name (a form
    with `add_service_error` maps paths itself; any other takes `add_error(path, message)`)."""
    add = getattr(form, "add_service_error", None) or form.add_error
    if isinstance(exc, ValidationError):
        for path, messages in flatten_errors(exc.detail).items():
            add(path, " ".join(messages))
    else:
        add(exc.field, exc.message)


def checked_body(serializer, body: dict) -> dict:
    """`body` as the API would receive it, checked by the API's own `serializer`."""
    return plain(validated(serializer, as_wire(body)))


def submit_through(form, serializer, body: dict, call):
    """Validate `body` with the API's `serializer`, then `call(data)` (the API's service):
    one validation path. Errors land on `form`; None is returned then."""
    try:
        return call(checked_body(serializer, body))
    except (ValidationError, ApplicationError) as exc:
        add_errors(form, exc)
    return None
