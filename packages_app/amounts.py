"""Exact arithmetic on amounts and quantities.

Decimal's default context keeps 28 significant digits and silently rounds the rest, so a sum or
a product of amounts with more digits could compare equal to a different amount. Inside
`exact_context()` the precision is the maximum and `Inexact` is trapped, Python's documented
recipe for exact arithmetic (decimal docs, "Recipes"/FAQ): addition and multiplication use just
the digits their result needs, and anything that would have to round raises instead.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from contextlib import AbstractContextManager
from decimal import Decimal

_EXACT = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.Inexact, decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


def exact_context() -> AbstractContextManager[decimal.Context]:
    """Only for addition, subtraction, multiplication and comparison: an inexact result (1/3)
    would need unbounded memory before the trap fires."""
    return decimal.localcontext(_EXACT)


def exact_sum(values: Iterable[Decimal | int]) -> Decimal:
    with exact_context():
        return sum((Decimal(value) for value in values), Decimal(0))


def exact_product(left: Decimal | int, right: Decimal | int) -> Decimal:
    with exact_context():
        return Decimal(left) * Decimal(right)
