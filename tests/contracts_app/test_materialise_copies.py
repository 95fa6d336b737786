"""Materialisation never changes, or shares mutable parts with, the package terms it reads.

Package terms may be reused (a prefetched package provisioned many times, schedules moved), so
each contract's bodies must be its own.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

from contracts_app.services.materialise import (
    json_copy,
    materialise_negotiated_terms,
    materialise_package_terms,
)
from tests.builders.materialise import PRODUCT, at, terms
from tests.contracts_app.contract_builders import (
    commit_term,
    eight_terms,
    override_term,
    recurring_term,
    with_server_ids,
)

START = dt.datetime(2024, 1, 31, tzinfo=dt.UTC)


def _containers(value, found=None) -> list:
    """Every dict and list inside `value` (by identity)."""
    found = [] if found is None else found
    if isinstance(value, dict | list):
        found.append(value)
        for item in value.values() if isinstance(value, dict) else value:
            _containers(item, found)
    return found


def _package_terms_with_references():
    commit = with_server_ids(commit_term(PRODUCT)[1])
    kind, override = override_term(PRODUCT)
    override["override_specifiers"] = [{"commit_ids": [commit["id"]], "product_tags": ["a"]}]
    recurring_kind, recurring = recurring_term(PRODUCT, "recurring_commit")
    recurring["specifiers"] = [{"product_id": str(PRODUCT.id)}]
    recurring["applicable_product_tags"] = ["compute"]
    return terms(
        *[(k, b) for k, b in eight_terms(PRODUCT) if k not in ("commit", "override")],
        ("commit", commit),
        (kind, override),
        (recurring_kind, recurring),
    )


def test_package_term_bodies_are_left_as_they_were():
    # given package terms, one override pointing at a commit by its package term id
    package_terms = _package_terms_with_references()
    before = copy.deepcopy([t.body for t in package_terms])
    # when they are materialised twice (ids remapped, recurring ones expanded)
    first = materialise_package_terms(package_terms, contract_start=START, contract_end=None)
    materialise_package_terms(package_terms, contract_start=at(2024, 3, 1), contract_end=None)
    # then the package bodies are unchanged
    assert [t.body for t in package_terms] == before
    # and the override of the first contract points at that contract's commit
    commit_ids = {str(r.id) for r in first if r.kind == "commit"}
    override = next(r for r in first if r.kind == "override")
    assert set(override.body["override_specifiers"][0]["commit_ids"]) <= commit_ids


def test_materialised_bodies_share_no_dict_or_list_with_the_package_or_each_other():
    package_terms = _package_terms_with_references()
    sources = {id(c) for t in package_terms for c in _containers(t.body)}
    rows = materialise_package_terms(package_terms, contract_start=START, contract_end=None)
    seen: set[int] = set()
    for row in rows:
        for container in _containers(row.body):
            assert id(container) not in sources, (row.kind, container)
            assert id(container) not in seen, (row.kind, container)
            seen.add(id(container))


def test_negotiated_bodies_are_copies_of_the_request():
    data = {
        "commit": [
            {
                "product_id": str(PRODUCT.id),
                "type": "PREPAID",
                "specifiers": [{"product_tags": ["a"]}],
                "access_schedule": {
                    "schedule_items": [
                        {
                            "amount": Decimal("10.5"),
                            "starting_at": START,
                            "ending_before": at(2024, 3, 1),
                        }
                    ]
                },
            }
        ]
    }
    before = copy.deepcopy(data)
    (row,) = materialise_negotiated_terms(data, contract_start=START, contract_end=None)
    row.body["specifiers"][0]["product_tags"].append("b")
    assert data == before


def test_json_copy_is_a_deep_copy_of_json_shaped_data():
    value = {"a": [1, {"b": Decimal("1.10")}, "x"], "c": None, "d": START}
    copied = json_copy(value)
    assert copied == value
    copied["a"][1]["b"] = 0
    assert value["a"][1]["b"] == Decimal("1.10")
    assert copied["a"] is not value["a"]
