"""Cohort migrations and edited contracts (issue 11): an edited contract holds terms its package
does not, so a migration skips it (HAS_EDITS) unless `edited_contracts` is MIGRATE, and the
preview says how many contracts carry edits, by kind, and which edits would not carry over."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from contracts_app.models import CohortMigration, Contract, ContractEdit
from contracts_app.selectors.cohort_migrations import cohort_migration_preview
from contracts_app.services import cohort_migrations as services
from contracts_app.services.cohort_migration_batches import migration_batch_run
from contracts_app.services.contract_edits import contract_edit
from tests.contracts_app.cohort_builders import T0, cohort, item_outcomes, two_packages
from tests.factories import api_post, user_with_token

# Batches run in-process here (conftest.in_process_batches).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_process_batches")]

AT = T0 + dt.timedelta(days=40)
AT_WIRE = "2030-02-10T00:00:00Z"
Kind = ContractEdit.Kind
# counts with the sample (and the contracts ended before the move), edit counts, the sample's
# edits, target packages, diff terms, the on-date counts, and the session's `SET LOCAL jit`;
# the money (issue 21): the packages' terms, the rates of each distinct window priced (here one
# before, one after) and the credit types' names
PREVIEW_QUERIES = 11


def edit(contract: Contract, kind: str = Kind.EDIT, name: str = "Renamed") -> ContractEdit:
    return contract_edit(contract=contract, data={"update_contract_name": name}, kind=kind)


@pytest.fixture
def edited_cohort():
    """Four contracts: one with an EDIT, one with an EDIT and an AMENDMENT, one with an
    AMENDMENT, one never edited."""
    source, target = two_packages()
    contracts = cohort(source, 4)
    edit(contracts[0])
    edit(contracts[1])
    edit(contracts[1], Kind.AMENDMENT, "Amended")
    edit(contracts[2], Kind.AMENDMENT)
    return source, target, contracts


def resolved(source, target, **options):
    return services.migration_input(
        source={"package_id": source.id},
        target={"package_id": target.id},
        effective={"type": "AT", "at": AT},
        **options,
    )


def preview(source, target, **options):
    data = resolved(source, target, **options)
    return cohort_migration_preview(spec=data.spec, source=source, target=target)


def run(source, target, **options) -> CohortMigration:
    migration = services.cohort_migration_create(data=resolved(source, target, **options))
    assert services.migration_start(migration_id=migration.id)
    while migration_batch_run(migration_id=migration.id, batch_size=3):
        pass
    services.migration_finish_if_done(migration_id=migration.id)
    migration.refresh_from_db()
    return migration


def test_preview_counts_edited_contracts_by_kind_and_skips_them_by_default(edited_cohort):
    source, target, contracts = edited_cohort
    data = preview(source, target)
    assert (data["total"], data["eligible"], data["skipped"]) == (4, 1, {"HAS_EDITS": 3})
    assert data["edited_contracts"] == "SKIP"
    assert data["edits"] == {"contracts": 3, "by_kind": {"AMENDMENT": 2, "EDIT": 2}}
    rows = {row["contract_id"]: row for row in data["sample"]}
    assert {c: rows[str(c.id)]["has_edits"] for c in contracts} == {
        contracts[0]: True,
        contracts[1]: True,
        contracts[2]: True,
        contracts[3]: False,
    }
    assert rows[str(contracts[0].id)]["outcome"] == "SKIP"
    assert rows[str(contracts[0].id)]["reason"] == "HAS_EDITS"
    assert rows[str(contracts[0].id)]["edits_not_carried"] == []
    assert rows[str(contracts[3].id)]["outcome"] == "MIGRATE"
    assert not CohortMigration.objects.exists()


def test_preview_with_migrate_lists_the_edits_the_new_contract_will_not_have(
    edited_cohort, django_assert_max_num_queries
):
    source, target, contracts = edited_cohort
    data = resolved(source, target, edited_contracts="MIGRATE")
    with django_assert_max_num_queries(PREVIEW_QUERIES):
        result = cohort_migration_preview(spec=data.spec, source=source, target=target)
    assert (result["total"], result["eligible"], result["skipped"]) == (4, 4, {})
    assert result["edits"]["contracts"] == 3
    rows = {row["contract_id"]: row for row in result["sample"]}
    both = rows[str(contracts[1].id)]
    assert (both["outcome"], both["has_edits"]) == ("MIGRATE", True)
    assert [(e["kind"], e["fields"]) for e in both["edits_not_carried"]] == [
        ("EDIT", ["update_contract_name"]),
        ("AMENDMENT", ["update_contract_name"]),
    ]
    assert {e["id"] for e in both["edits_not_carried"]} == {
        str(i)
        for i in ContractEdit.objects.filter(contract=contracts[1]).values_list("id", flat=True)
    }
    assert rows[str(contracts[3].id)]["edits_not_carried"] == []
    # more edits on the sample cost no more queries
    for i in range(5):
        edit(contracts[3], name=f"Again {i}")
    with django_assert_max_num_queries(PREVIEW_QUERIES):
        cohort_migration_preview(spec=data.spec, source=source, target=target)


def test_a_job_skips_edited_contracts_with_has_edits_by_default(edited_cohort):
    source, target, contracts = edited_cohort
    migration = run(source, target)
    assert migration.edited_contracts == "SKIP"
    assert item_outcomes(migration) == {
        contracts[0].id: ("SKIPPED", "HAS_EDITS"),
        contracts[1].id: ("SKIPPED", "HAS_EDITS"),
        contracts[2].id: ("SKIPPED", "HAS_EDITS"),
        contracts[3].id: ("MIGRATED", ""),
    }
    # the skipped contracts keep their package and their end
    for contract in contracts[:3]:
        before = contract.ending_before
        contract.refresh_from_db()
        assert (contract.package_id, contract.ending_before) == (source.id, before)


def test_a_job_with_migrate_moves_edited_contracts(edited_cohort):
    source, target, contracts = edited_cohort
    migration = run(source, target, edited_contracts="MIGRATE")
    assert migration.edited_contracts == "MIGRATE"
    assert {status for status, _ in item_outcomes(migration).values()} == {"MIGRATED"}
    contracts[1].refresh_from_db()
    assert contracts[1].ending_before == AT
    assert Contract.objects.filter(
        package=target, customer_id=contracts[1].customer_id, starting_at=AT
    ).exists()


def test_a_contract_edited_after_the_plan_is_skipped_by_its_batch():
    source, target = two_packages()
    contracts = cohort(source, 2)
    migration = services.cohort_migration_create(data=resolved(source, target))
    assert services.migration_start(migration_id=migration.id)
    assert set(item_outcomes(migration).values()) == {("PENDING", "")}
    edit(contracts[0])
    while migration_batch_run(migration_id=migration.id, batch_size=5):
        pass
    assert item_outcomes(migration) == {
        contracts[0].id: ("SKIPPED", "HAS_EDITS"),
        contracts[1].id: ("MIGRATED", ""),
    }


# --- the API and the CLI ---------------------------------------------------------------------


def post(client, path: str, body: dict):
    token = user_with_token(
        "contracts_app.view_cohortmigration", "contracts_app.add_cohortmigration"
    )[1]
    return api_post(client, token, f"/v1/packages/migrations/{path}", body)


def body(source, target, **extra) -> dict:
    return {
        "source": {"package_id": str(source.id)},
        "target": {"package_id": str(target.id)},
        "effective": {"type": "AT", "at": AT_WIRE},
        **extra,
    }


@pytest.mark.parametrize("path", ["preview", "create"])
@pytest.mark.parametrize("value", ["SOMETIMES", "", None, 1])
def test_a_bad_edited_contracts_is_a_400_naming_the_field(client, path, value):
    source, target = two_packages()
    response = post(client, path, body(source, target, edited_contracts=value))
    assert response.status_code == 400, response.content
    assert response.json()["field"] == "edited_contracts"
    assert not CohortMigration.objects.exists()


def test_the_api_takes_and_echoes_edited_contracts(client, edited_cohort):
    source, target, _ = edited_cohort
    previewed = post(client, "preview", body(source, target, edited_contracts="MIGRATE"))
    assert previewed.status_code == 200, previewed.content
    assert (previewed.json()["data"]["eligible"], previewed.json()["data"]["edits"]) == (
        4,
        {"contracts": 3, "by_kind": {"AMENDMENT": 2, "EDIT": 2}},
    )
    created = post(client, "create", body(source, target, edited_contracts="MIGRATE"))
    assert created.status_code == 200, created.content
    migration_id = created.json()["data"]["id"]
    assert CohortMigration.objects.get(id=migration_id).edited_contracts == "MIGRATE"
    got = post(client, "get", {"migration_id": migration_id})
    assert got.json()["data"]["edited_contracts"] == "MIGRATE"
    default = post(client, "create", body(source, target, run_at="2099-01-01T00:00:00Z"))
    assert CohortMigration.objects.get(id=default.json()["data"]["id"]).edited_contracts == "SKIP"


def command(*args) -> str:
    out = StringIO()
    call_command("cohort_migration", *args, stdout=out)
    return out.getvalue()


def test_the_cli_flag(edited_cohort):
    source, target, _ = edited_cohort
    refs = ["--source-package", str(source.id), "--target-package", str(target.id)]
    refs += ["--at", AT_WIRE]
    shown = json.loads(command("preview", *refs, "--edited-contracts", "MIGRATE"))
    assert (shown["edited_contracts"], shown["eligible"]) == ("MIGRATE", 4)
    with pytest.raises(CommandError, match="edited_contracts"):
        command("preview", *refs, "--edited-contracts", "maybe")
    command("create", *refs, "--edited-contracts", "MIGRATE", "--inline")
    migration = CohortMigration.objects.get()
    assert migration.edited_contracts == "MIGRATE"
    assert {status for status, _ in item_outcomes(migration).values()} == {"MIGRATED"}
