"""The package path's lean input check answers exactly as PackageContractCreateInput would."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from config.api.errors import flatten_errors
from config.api.views_base import validated
from contracts_app.api.contract_serializers import (
    PackageContractCreateInput,
    package_contract_input,
)

GOOD = {"customer_id": "c", "starting_at": "2024-01-31T00:00:00Z", "package_id": "p"}


def _outcome(check, body):
    try:
        return "valid", check(body)
    except serializers.ValidationError as exc:
        return "invalid", flatten_errors(exc.detail)


@pytest.mark.parametrize(
    "body",
    [
        GOOD,
        {**GOOD, "starting_at": "2024-01-31T00:00:00"},  # naive: UTC
        {
            **GOOD,
            "uniqueness_key": "k",
            "custom_fields": {"crm": "42"},
            "transition": {"from_contract_id": "x", "type": "RENEWAL"},
        },
        {"customer_id": "c", "starting_at": "2024-01-31T00:00:00Z", "package_alias": "starter"},
        {**GOOD, "name": "mine", "commits": []},
        {**GOOD, "package_alias": "starter"},
        {"starting_at": "yesterday", "package_id": "p"},
        {**GOOD, "customer_id": "", "package_id": None},
        {**GOOD, "uniqueness_key": "k" * 129},
        {**GOOD, "transition": {"type": "UPGRADE", "bogus": 1}},
        {**GOOD, "custom_fields": ["not", "a", "map"]},
    ],
    ids=lambda body: ",".join(sorted(body)),
)
def test_same_data_and_same_errors_as_the_serializer(body):
    expected = _outcome(lambda b: dict(validated(PackageContractCreateInput, b)), body)
    assert _outcome(package_contract_input, body) == expected


def test_valid_data_is_typed():
    data = package_contract_input({**GOOD, "starting_at": "2024-01-31T10:00:00+02:00"})
    assert data["starting_at"].isoformat() == "2024-01-31T08:00:00+00:00"
    assert set(data) == {"customer_id", "starting_at", "package_id"}
