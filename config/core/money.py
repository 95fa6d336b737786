"""Money: the one exact line-amount rule, and totals per credit type.

Decimal's default context keeps 28 significant digits and silently rounds the rest, so a sum or
a product of amounts with more digits could compare equal to a different amount. Inside
`exact_context()` the precision is the maximum and `Inexact` is trapped, Python's documented
recipe for exact arithmetic (decimal docs, "Recipes"/FAQ): addition and multiplication use just
the digits their result needs, and anything that would have to round raises instead.

A line's amount is unit price x quantity x multiplier, exact. Only a proration (a part of a
period over the whole period, a ratio of durations) can make it a non-terminating decimal: then
the amount is computed as an exact rational and rounded once, half to even, to
PRORATED_PLACES decimal places of the credit type's unit (1e-10 of a cent for USD cents), so
no line is ever rounded twice and none in Decimal's default context.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from contextlib import AbstractContextManager
from decimal import Decimal
from fractions import Fraction

_EXACT = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.Inexact, decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
PRORATED_PLACES = 10

Number = Decimal | int | str | float


def exact_context() -> AbstractContextManager[decimal.Context]:
    """Only for addition, subtraction, multiplication and comparison: an inexact result (1/3)
    would need unbounded memory before the trap fires."""
    return decimal.localcontext(_EXACT)


def as_decimal(value: Number) -> Decimal:
    # A float's repr is the number the caller wrote (0.1), its binary value is not.
    return Decimal(str(value)) if isinstance(value, float) else Decimal(value)


def exact_sum(values: Iterable[Number]) -> Decimal:
    with exact_context():
        return sum((as_decimal(value) for value in values), Decimal(0))


def exact_product(left: Number, right: Number) -> Decimal:
    with exact_context():
        return as_decimal(left) * as_decimal(right)


def line_amount(
    unit_price: Number,
    quantity: Number | None = 1,
    *,
    multiplier: Number = 1,
    proration: Fraction = Fraction(1),
) -> Decimal:
    """unit_price x quantity x multiplier (x proration): exact without a proration, else
    rounded once, half to even, to PRORATED_PLACES. `quantity` None means 1 (Metronome's default)."""
    with exact_context():
        amount = (
            as_decimal(unit_price)
            * as_decimal(1 if quantity is None else quantity)
            * as_decimal(multiplier)
        )
    if proration == 1:
        return amount
    scaled = Fraction(amount) * proration * 10**PRORATED_PLACES
    whole = round(scaled)  # round() of a Fraction: to the nearest integer, half to even
    return Decimal(whole).scaleb(-PRORATED_PLACES)


# The share of an evenly split amount keeps what it always kept: 28 significant digits, half
# to even (Decimal's default, now stated), or whole units rounded half up.
_SHARE = decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN)


def split_evenly(total: Number, parts: int, *, whole_units: bool = False) -> list[Decimal]:
    """`total` in `parts` shares that add up to it exactly: each share is total / parts
    (rounded to whole units, half up, with `whole_units`), the last one takes the remainder."""
    total = as_decimal(total)
    share = _SHARE.divide(total, Decimal(parts))
    if whole_units:
        share = share.quantize(Decimal(1), rounding=decimal.ROUND_HALF_UP, context=_SHARE)
    shares = [share] * (parts - 1)
    with exact_context():
        shares.append(total - exact_sum(shares))
    return shares


def proration_fraction(part_seconds: int, whole_seconds: int) -> Fraction:
    """The share of a period a part of it is (1 for a whole or an empty period)."""
    if whole_seconds <= 0 or part_seconds >= whole_seconds:
        return Fraction(1)
    return Fraction(max(part_seconds, 0), whole_seconds)


def totals_by_credit_type(lines: Iterable[tuple[str, Number]]) -> dict[str, Decimal]:
    """(credit_type_id, amount) pairs summed exactly per credit type, in first-seen order."""
    totals: dict[str, Decimal] = {}
    with exact_context():
        for credit_type_id, amount in lines:
            totals[credit_type_id] = totals.get(credit_type_id, Decimal(0)) + as_decimal(amount)
    return totals
