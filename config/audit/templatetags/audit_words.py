"""`{{ "rate_card"|resource_label }}` → "Rate card" (config/audit/presenters.py)."""

from django import template

from config.audit.presenters import resource_label as _resource_label

register = template.Library()


@register.filter
def resource_label(resource_type: str) -> str:
    return _resource_label(str(resource_type))
