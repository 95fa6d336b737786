"""Amounts per credit type in a page's words: `{% load money_words %}`, then
`{% money_map amounts credit_type_names signed=True %}` for a {credit type id: amount} mapping (the
cohort-migration preview's money), each as `packages_app/describe.py` `money` writes it (USD
cents as dollars, other credit types with their name), joined by "; " ("—" when empty)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django import template

from packages_app.describe import money

register = template.Library()


@register.simple_tag
def money_map(
    amounts: Mapping | None, credit_type_names: Mapping | None = None, signed: bool = False
) -> str:
    """`signed`: a difference, written +$12.00 / a minus sign and $12.00 (0 unsigned)."""
    if not amounts:
        return "—"
    names = credit_type_names or {}
    words = []
    for credit_type_id, amount in amounts.items():
        value = Decimal(str(amount))
        text = money(abs(value) if signed else value, credit_type_id, names)
        if signed and value:
            text = ("+" if value > 0 else "\u2212") + text
        words.append(text)
    return "; ".join(words)
