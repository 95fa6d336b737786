"""Materialisation: relative package terms → absolute contract terms (DESIGN.md §4).

Pure functions, no database. Every date must equal calendar arithmetic from the contract start.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.core.errors import ValidationFailed
from contracts_app.services.materialise import (
    absolute_usage_statement_schedule,
    materialise_negotiated_terms,
    materialise_package_terms,
    shift,
)
from packages_app.time_offsets import add_offset
from tests.builders.materialise import PRODUCT, UTC, at, terms
from tests.contracts_app.contract_builders import (
    commit_term,
    credit_term,
    override_term,
    recurring_term,
    scheduled_charge_term,
    subscription_term,
    with_server_ids,
)


def off(unit, value):
    return {"unit": unit, "value": value}


def iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- offsets -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "unit", "value", "expected"),
    [
        (at(2024, 1, 31), "DAYS", 1, at(2024, 2, 1)),
        (at(2024, 2, 28), "DAYS", 1, at(2024, 2, 29)),  # leap day
        (at(2023, 2, 28), "DAYS", 1, at(2023, 3, 1)),
        (at(2024, 1, 31), "WEEKS", 2, at(2024, 2, 14)),
        (at(2024, 1, 31), "MONTHS", 1, at(2024, 2, 29)),  # clamps to the leap month's end
        (at(2023, 1, 31), "MONTHS", 1, at(2023, 2, 28)),
        (at(2024, 1, 31), "MONTHS", 2, at(2024, 3, 31)),  # from the start, not chained
        (at(2024, 3, 31), "MONTHS", 1, at(2024, 4, 30)),
        (at(2024, 2, 29), "YEARS", 1, at(2025, 2, 28)),
        (at(2024, 2, 29), "YEARS", 4, at(2028, 2, 29)),
        (at(2024, 12, 31, 15), "MONTHS", 2, at(2025, 2, 28, 15)),  # time of day kept
    ],
)
def test_shift_is_calendar_arithmetic_for_every_unit(start, unit, value, expected):
    assert shift(start, off(unit, value)) == expected


def test_same_family_offsets_are_summed_from_the_origin():
    # Jan 31 + 1 month = Feb 29, but start + (1 month + 1 month) must be Mar 31, not Mar 29.
    assert shift(at(2024, 1, 31), off("MONTHS", 1), off("MONTHS", 1)) == at(2024, 3, 31)
    assert shift(at(2024, 1, 31), off("YEARS", 1), off("MONTHS", 1)) == at(2025, 2, 28)
    assert shift(at(2024, 1, 1), off("WEEKS", 1), off("DAYS", 3)) == at(2024, 1, 11)


def test_mixed_family_offsets_apply_in_order():
    assert shift(at(2024, 1, 21), off("DAYS", 10), off("MONTHS", 1)) == at(2024, 2, 29)


# --- one term of each kind -------------------------------------------------------------------


def test_commit_access_and_invoice_dates_come_from_the_contract_start():
    # given a commit that starts one month in and lasts one month
    (term,) = terms(commit_term(PRODUCT, start=off("MONTHS", 1), duration=off("MONTHS", 1)))
    # when materialised for a Jan 31 start
    (row,) = materialise_package_terms([term], contract_start=at(2024, 1, 31), contract_end=None)
    # then access runs Feb 29 → Mar 31 (one step from the start) and invoices on Feb 29
    item = row.body["access_schedule"]["schedule_items"][0]
    assert (item["starting_at"], item["ending_before"]) == (
        "2024-02-29T00:00:00Z",
        "2024-03-31T00:00:00Z",
    )
    assert row.body["invoice_schedule"]["schedule_items"][0]["timestamp"] == "2024-02-29T00:00:00Z"
    assert (row.starting_at, row.ending_before) == (at(2024, 2, 29), at(2024, 3, 31))
    assert row.package_term_id == term.id
    assert item["id"] != term.body["access_schedule"]["schedule_items"][0]["id"]


def test_every_kind_gets_absolute_dates_and_fresh_ids():
    package_terms = terms(
        credit_term(PRODUCT, start=off("DAYS", 10), duration=off("WEEKS", 2)),
        override_term(PRODUCT, start=off("MONTHS", 1), duration=None),
        scheduled_charge_term(PRODUCT, at=off("YEARS", 1)),
        subscription_term(PRODUCT),
    )
    rows = materialise_package_terms(
        package_terms, contract_start=at(2024, 2, 29), contract_end=at(2026, 2, 28)
    )
    by_kind = {row.kind: row for row in rows}
    credit_item = by_kind["credit"].body["access_schedule"]["schedule_items"][0]
    assert (credit_item["starting_at"], credit_item["ending_before"]) == (
        "2024-03-10T00:00:00Z",
        "2024-03-24T00:00:00Z",
    )
    override = by_kind["override"]
    assert (override.starting_at, override.ending_before) == (at(2024, 3, 29), None)
    assert "starting_at_offset" not in override.body
    charge = by_kind["scheduled_charge"].body["schedule"]["schedule_items"][0]
    assert charge["timestamp"] == "2025-02-28T00:00:00Z"
    subscription = by_kind["subscription"]
    assert (subscription.starting_at, subscription.ending_before) == (
        at(2024, 2, 29),
        at(2026, 2, 28),
    )
    assert {row.id for row in rows}.isdisjoint({term.id for term in package_terms})


# --- recurring ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "expected_starts"),
    [
        ("MONTHLY", [at(2024, 1, 31), at(2024, 2, 29), at(2024, 3, 31), at(2024, 4, 30)]),
        ("QUARTERLY", [at(2024, 1, 31), at(2024, 4, 30)]),
        ("WEEKLY", [at(2024, 1, 31) + dt.timedelta(weeks=k) for k in range(18)]),
    ],
)
def test_recurring_credit_expands_one_credit_per_period(frequency, expected_starts):
    (term,) = terms(recurring_term(PRODUCT, frequency=frequency, duration=off("MONTHS", 4)))
    rows = materialise_package_terms([term], contract_start=at(2024, 1, 31), contract_end=None)
    recurring, *generated = rows
    assert recurring.kind == "recurring_credit"
    assert [g.starting_at for g in generated] == expected_starts
    assert all(g.kind == "credit" and g.generated_from_id == recurring.id for g in generated)
    assert generated[-1].ending_before == at(2024, 5, 31)  # the last period is clipped
    assert [g.ordinal for g in generated] == list(range(len(generated)))
    assert generated[0].body["recurring_credit_id"] == str(recurring.id)


def test_annual_recurring_commit_over_leap_years_and_its_invoices():
    (term,) = terms(
        recurring_term(
            PRODUCT, "recurring_commit", frequency="ANNUAL", start=off("DAYS", 0), duration=None
        )
    )
    rows = materialise_package_terms(
        [term], contract_start=at(2024, 2, 29), contract_end=at(2028, 3, 1)
    )
    generated = [r for r in rows if r.kind == "commit"]
    assert [g.starting_at for g in generated] == [
        at(2024, 2, 29),
        at(2025, 2, 28),
        at(2026, 2, 28),
        at(2027, 2, 28),
        at(2028, 2, 29),  # period k is start + k years, so the leap day comes back
    ]
    first = generated[0].body
    assert first["type"] == "PREPAID"
    assert first["access_schedule"]["schedule_items"][0]["amount"] == Decimal(1000)
    assert first["invoice_schedule"]["schedule_items"][0]["timestamp"] == "2024-02-29T00:00:00Z"


def test_recurrence_defaults_to_the_usage_statement_frequency():
    _, body = recurring_term(PRODUCT, frequency=None, duration=off("MONTHS", 6))
    (term,) = terms(("recurring_credit", body))
    rows = materialise_package_terms(
        [term], contract_start=at(2024, 1, 1), contract_end=None, usage_frequency="QUARTERLY"
    )
    assert [r.starting_at for r in rows[1:]] == [at(2024, 1, 1), at(2024, 4, 1)]


def test_commit_duration_of_several_periods_overlaps_and_is_clipped():
    kind, body = recurring_term(PRODUCT, frequency="MONTHLY", duration=off("MONTHS", 3))
    body["commit_duration"] = {"value": 2, "unit": "PERIODS"}
    rows = materialise_package_terms(
        terms((kind, body)), contract_start=at(2024, 1, 1), contract_end=None
    )
    assert [(r.starting_at, r.ending_before) for r in rows[1:]] == [
        (at(2024, 1, 1), at(2024, 3, 1)),
        (at(2024, 2, 1), at(2024, 4, 1)),
        (at(2024, 3, 1), at(2024, 4, 1)),
    ]


def test_open_ended_recurrence_stops_at_the_horizon_and_runaway_is_refused():
    (term,) = terms(recurring_term(PRODUCT, frequency="MONTHLY", duration=None))
    rows = materialise_package_terms([term], contract_start=at(2024, 1, 1), contract_end=None)
    assert len(rows) == 1 + 12
    (daily,) = terms(recurring_term(PRODUCT, frequency="DAILY", duration=off("YEARS", 5)))
    with pytest.raises(ValidationFailed) as failure:
        materialise_package_terms([daily], contract_start=at(2024, 1, 1), contract_end=None)
    assert failure.value.field == "recurring_credits[0]"


def test_override_specifiers_follow_package_term_ids_to_contract_term_ids():
    commit = commit_term(PRODUCT)
    commit_body = with_server_ids(commit[1])
    kind, override = override_term(PRODUCT)
    override["override_specifiers"] = [{"commit_ids": [commit_body["id"]]}]
    rows = materialise_package_terms(
        terms(("commit", commit_body), (kind, override)),
        contract_start=at(2024, 1, 1),
        contract_end=None,
    )
    by_kind = {r.kind: r for r in rows}
    assert by_kind["override"].body["override_specifiers"][0]["commit_ids"] == [
        str(by_kind["commit"].id)
    ]


# --- negotiated terms and the usage statement schedule -----------------------------------------


def test_negotiated_terms_keep_their_dates_and_expand_recurring_ones():
    rows = materialise_negotiated_terms(
        {
            "commit": [
                {
                    "product_id": str(PRODUCT.id),
                    "type": "PREPAID",
                    "temporary_id": "c1",
                    "access_schedule": {
                        "schedule_items": [
                            {
                                "amount": 5,
                                "starting_at": at(2024, 1, 1),
                                "ending_before": at(2024, 7, 1),
                            }
                        ]
                    },
                }
            ],
            "override": [
                {"starting_at": at(2024, 2, 1), "override_specifiers": [{"commit_ids": ["c1"]}]}
            ],
            "recurring_commit": [
                {
                    "product_id": str(PRODUCT.id),
                    "access_amount": {"unit_price": 10, "quantity": 2},
                    "commit_duration": {"value": 1},
                    "priority": 1,
                    "starting_at": at(2024, 1, 31),
                    "ending_before": at(2024, 4, 1),
                    "recurrence_frequency": "MONTHLY",
                }
            ],
        },
        contract_start=at(2024, 1, 1),
        contract_end=None,
    )
    commit = rows[0]
    assert (
        commit.body["access_schedule"]["schedule_items"][0]["starting_at"] == "2024-01-01T00:00:00Z"
    )
    override = next(r for r in rows if r.kind == "override")
    assert override.body["override_specifiers"][0]["commit_ids"] == [str(commit.id)]
    generated = [r for r in rows if r.generated_from_id]
    assert [g.starting_at for g in generated] == [at(2024, 1, 31), at(2024, 2, 29), at(2024, 3, 31)]
    assert [g.ordinal for g in generated] == [1, 2, 3]  # after the explicit commit
    assert generated[0].body["access_schedule"]["schedule_items"][0]["amount"] == 20


@pytest.mark.parametrize(
    ("day", "start", "anchor"),
    [
        ("FIRST_OF_MONTH", at(2024, 1, 15, 9), "2024-02-01T00:00:00Z"),
        ("FIRST_OF_MONTH", at(2024, 3, 1), "2024-03-01T00:00:00Z"),
        ("CONTRACT_START", at(2024, 1, 15, 9), "2024-01-15T09:00:00Z"),
    ],
)
def test_usage_statement_billing_anchor(day, start, anchor):
    schedule = absolute_usage_statement_schedule(
        start,
        {
            "frequency": "MONTHLY",
            "day": day,
            "invoice_generation_starting_at_offset": off("MONTHS", 1),
        },
    )
    assert schedule["billing_anchor_date"] == anchor
    assert schedule["invoice_generation_starting_at"] == iso(add_offset(start, "MONTHS", 1))


# --- property: every date is calendar arithmetic from the contract start -------------------------

units = st.sampled_from(["DAYS", "WEEKS", "MONTHS", "YEARS"])
starts = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2060, 12, 31), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))


def combined(unit: str, a: int, b: int) -> tuple[str, int]:
    return unit, a + b


@settings(max_examples=300, deadline=None)
@given(
    start=starts,
    unit=units,
    offset_value=st.integers(0, 40),
    duration_value=st.integers(1, 40),
    charge_value=st.integers(0, 60),
    frequency=st.sampled_from(["WEEKLY", "MONTHLY", "QUARTERLY", "ANNUAL"]),
)
def test_every_materialised_date_is_calendar_arithmetic_from_the_contract_start(
    start, unit, offset_value, duration_value, charge_value, frequency
):
    period_unit, period_size = {
        "WEEKLY": ("WEEKS", 1),
        "MONTHLY": ("MONTHS", 1),
        "QUARTERLY": ("MONTHS", 3),
        "ANNUAL": ("YEARS", 1),
    }[frequency]
    # Keep each term's offsets in one family so "from the start in one step" is well defined.
    recurring_unit = period_unit
    package_terms = terms(
        commit_term(PRODUCT, start=off(unit, offset_value), duration=off(unit, duration_value)),
        scheduled_charge_term(PRODUCT, at=off(unit, charge_value)),
        recurring_term(
            PRODUCT,
            frequency=frequency,
            start=off(recurring_unit, offset_value),
            duration=off(recurring_unit, duration_value * period_size),
        ),
    )
    rows = materialise_package_terms(package_terms, contract_start=start, contract_end=None)
    by_kind: dict[str, list] = {}
    for row in rows:
        by_kind.setdefault(row.kind, []).append(row)

    item = by_kind["commit"][0].body["access_schedule"]["schedule_items"][0]
    assert item["starting_at"] == iso(add_offset(start, unit, offset_value))
    assert item["ending_before"] == iso(
        add_offset(start, *combined(unit, offset_value, duration_value))
    )
    charge = by_kind["scheduled_charge"][0].body["schedule"]["schedule_items"][0]
    assert charge["timestamp"] == iso(add_offset(start, unit, charge_value))

    generated = by_kind["credit"]
    assert len(generated) == duration_value
    for k, credit in enumerate(generated):
        expected_start = add_offset(start, recurring_unit, offset_value + k * period_size)
        expected_end = add_offset(start, recurring_unit, offset_value + (k + 1) * period_size)
        assert credit.starting_at == expected_start
        assert credit.ending_before == expected_end
