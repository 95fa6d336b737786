"""contract_terms_write: every materialised row in one statement, with every column exact."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError

from contracts_app.models import Contract, ContractTerm
from contracts_app.services.materialise import TermRow, materialise_package_terms
from contracts_app.services.provisioning import contract_provision, contract_terms_write
from tests.contracts_app import contract_builders as build
from tests.contracts_app.contract_builders import credit_term, eight_terms, offset

pytestmark = pytest.mark.django_db
# Microseconds and a many-digit amount: neither float nor the JSON encoder's milliseconds may
# touch them on the way to the database.
START = dt.datetime(2024, 1, 31, 9, 30, 15, 123456, tzinfo=dt.UTC)
AMOUNT = Decimal("1234.567890123456789012345678")


def test_stored_rows_equal_the_materialised_rows_column_by_column():
    # given an eight-term package (two recurring) and one credit with an exact amount
    product = build.make_product()
    package = build.make_package(
        terms=[*eight_terms(product), credit_term(product, amount=AMOUNT)],
        duration_unit="YEARS",
        duration_value=1,
    )
    expected = materialise_package_terms(
        package.terms.all(), contract_start=START, contract_end=START.replace(year=2025)
    )
    # when provisioning at a start with microseconds
    contract = contract_provision(
        customer=build.make_customer(), package=package, starting_at=START
    )
    # then each stored row has the columns of its materialised row (ids are fresh per run, so
    # rows are matched on their position)
    stored = {(t.kind, t.ordinal): t for t in ContractTerm.objects.filter(contract=contract)}
    assert len(stored) == len(expected) > 9
    for row in expected:
        term = stored[(row.kind, row.ordinal)]
        assert term.contract_id == contract.id
        assert term.starting_at == row.starting_at
        assert term.ending_before == row.ending_before
        assert (str(term.product_id) if term.product_id else None) == row.product_id
        assert term.package_term_id == row.package_term_id
        assert (term.generated_from_id is None) == (row.generated_from_id is None)
        assert term.body.keys() == row.body.keys()
    assert stored[("commit", 0)].starting_at == START
    assert sum(t.product_id is not None for t in stored.values()) >= len(stored) - 2
    # generated periods point at the recurring row of the same contract
    recurring_ids = {t.id for t in stored.values() if t.kind.startswith("recurring")}
    generated = [t for t in stored.values() if t.generated_from_id]
    assert generated and {t.generated_from_id for t in generated} <= recurring_ids
    # the amount comes back as the same Decimal, digit for digit
    exact = [t for t in stored.values() if t.kind == "credit" and t.generated_from_id is None]
    amounts = [t.body["access_schedule"]["schedule_items"][0]["amount"] for t in exact]
    (exact_amount,) = [a for a in amounts if a == AMOUNT]
    assert isinstance(exact_amount, Decimal) and str(exact_amount) == str(AMOUNT)


def test_no_rows_is_no_query(django_assert_num_queries):
    contract = contract_provision(
        customer=build.make_customer(), package=build.make_package(), starting_at=START
    )
    with django_assert_num_queries(0):
        contract_terms_write(contract=contract, rows=[])
    assert not contract.terms.exists()


def test_the_position_constraint_still_guards_the_rows():
    # given a contract that already has credit #0
    product = build.make_product()
    package = build.make_package(terms=[credit_term(product, duration=offset("MONTHS", 1))])
    contract = contract_provision(
        customer=build.make_customer(), package=package, starting_at=START
    )
    # when another credit #0 is written for it, the database refuses the whole statement
    duplicate = TermRow(kind="credit", ordinal=0, body={}, product_id=str(product.id))
    fresh = TermRow(kind="credit", ordinal=1, body={}, product_id=str(product.id))
    with pytest.raises(IntegrityError):
        contract_terms_write(contract=contract, rows=[fresh, duplicate])


def test_writes_only_for_the_given_contract():
    product = build.make_product()
    package = build.make_package(terms=[credit_term(product)])
    first = contract_provision(customer=build.make_customer(), package=package, starting_at=START)
    second = contract_provision(
        customer=build.make_customer("B"), package=package, starting_at=START
    )
    assert [t.contract_id for t in first.terms.all()] == [first.id]
    assert [t.contract_id for t in second.terms.all()] == [second.id]
    assert Contract.objects.count() == 2
