"""Template filters of the pricing team's pages: one date format (ISO 8601, UTC) everywhere."""

from __future__ import annotations

import datetime as dt

from django import template

from config.core.instants import format_day_or_minute, parse_instant
from packages_app.describe import BILLING_PROVIDER_NAMES, DELIVERY_METHOD_NAMES

register = template.Library()


@register.filter
def provider_name(value: str) -> str:
    """A billing provider as the pages spell it ("stripe" → "Stripe")."""
    return BILLING_PROVIDER_NAMES.get(value, value)


@register.filter
def delivery_name(value: str) -> str:
    """A delivery method as the pages spell it ("aws_sqs" → "AWS SQS")."""
    return DELIVERY_METHOD_NAMES.get(value, value)


@register.filter
def iso(value) -> str:
    """`2027-01-31` at midnight UTC, else `2027-01-31T14:05Z`; empty for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = parse_instant(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        return format_day_or_minute(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@register.filter
def bf(form, name: str):
    """`form[name]`, or None when the form has no such field (layouts name offset pairs)."""
    return form[name] if name in form.fields else None


@register.filter
def offset_pair(form, name: str):
    """(value, unit) bound fields of an offset input pair `name_value`/`name_unit`, else None."""
    if f"{name}_value" in form.fields:
        return form[f"{name}_value"], form[f"{name}_unit"]
    return None


@register.filter
def split(value: str) -> list[str]:
    return value.split()


@register.filter
def change_text(value) -> str:
    """An audit entry's recorded value in words: ISO dates, `key: value` pairs for objects,
    comma-separated lists, `—` for nothing (never a Python repr on the page)."""
    if value is None or value == {} or value == []:
        return "—"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {change_text(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(change_text(item) for item in value)
    if isinstance(value, str) and len(value) >= 20 and value[4:5] == "-" and value[10:11] == "T":
        return iso(value)
    return str(value)
