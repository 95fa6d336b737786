"""The eligibility rules (services.cohort_migration_rules.ELIGIBILITY_RULES), one contract each:
the plan's SQL judgement and the batch's Python recheck must give the rule's reason, and the two
checks must name exactly the reasons the table lists, in its order."""

from __future__ import annotations

import datetime as dt
import inspect
import re

import pytest

from contracts_app.models import CohortMigrationItem
from contracts_app.services import cohort_migration_batches, cohort_migration_plan
from contracts_app.services import cohort_migrations as services
from contracts_app.services.cohort_migration_batches import migration_batch_run
from contracts_app.services.cohort_migration_rules import ELIGIBILITY_RULES, PLAN_AND_BATCH
from contracts_app.services.contract_edits import contract_edit
from contracts_app.services.contracts import contract_archive, contract_update_end_date
from contracts_app.services.provisioning import contract_provision
from packages_app.models import AliasName
from packages_app.services.aliases import alias_assign
from tests.contracts_app.cohort_builders import T0, cohort, two_packages
from tests.contracts_app.contract_builders import make_billing_configuration

# Batches run in-process here (conftest.in_process_batches).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_process_batches")]

AT = T0 + dt.timedelta(days=40)


def planned(source, target_ref: dict, effective: dict | None = None):
    """A started job over `source`: its plan has judged every contract (SQL)."""
    data = services.migration_input(
        source={"package_id": source.id},
        target=target_ref,
        effective=effective or {"type": "AT", "at": AT},
    )
    migration = services.cohort_migration_create(data=data)
    assert services.migration_start(migration_id=migration.id)
    return migration


def _alias(name: str, package, starting_at: dt.datetime) -> dict:
    alias_assign(kind=AliasName.Kind.PACKAGE, name=name, package=package, starting_at=starting_at)
    return {"package_alias": name}


# Each builds one contract that breaks exactly its rule: (contract, target reference, effective).
def _archived():
    source, target = two_packages()
    contract = cohort(source, 1)[0]
    contract_archive(contract=contract)
    return source, contract, {"package_id": target.id}, None


def _open_ended():
    source, target = two_packages(duration_months=None)
    return source, cohort(source, 1)[0], {"package_id": target.id}, {"type": "END_OF_TERM"}


def _in_other_migration():
    source, target = two_packages()
    contract = cohort(source, 1)[0]
    planned(source, {"package_id": target.id})
    return source, contract, {"package_id": target.id}, None


def _ends_before_effective():
    # Monthly statements from the 1st: a not_before of AT moves at March 1st, after this end.
    source, target = two_packages()
    contract = cohort(source, 1)[0]
    contract_update_end_date(contract=contract, ending_before=AT + dt.timedelta(days=5))
    return (
        source,
        contract,
        {"package_id": target.id},
        {"type": "NEXT_BILLING_PERIOD", "not_before": AT},
    )


def _starts_after_effective():
    source, target = two_packages()
    contract = cohort(source, 1, start=AT + dt.timedelta(days=1))[0]
    return source, contract, {"package_id": target.id}, None


def _successor_exists():
    source, target = two_packages()
    contract = cohort(source, 1)[0]
    contract_provision(
        customer=contract.customer,
        starting_at=T0 + dt.timedelta(days=100),
        package=source,
        transition={"type": "RENEWAL", "from_contract_id": str(contract.id)},
    )
    return source, contract, {"package_id": target.id}, None


def _has_edits():
    source, target = two_packages()
    contract = cohort(source, 1)[0]
    contract_edit(contract=contract, data={"update_contract_name": "Renamed"})
    return source, contract, {"package_id": target.id}, None


def _target_alias_unresolved():
    source, target = two_packages()
    contract = cohort(source, 1)[0]
    return source, contract, _alias("Later", target, AT + dt.timedelta(days=10)), None


def _target_archived():
    source, target = two_packages(archived_at=T0)
    return source, cohort(source, 1)[0], {"package_id": target.id}, None


def _already_on_target():
    source, _ = two_packages()
    contract = cohort(source, 1)[0]
    return source, contract, _alias("Starter", source, T0 - dt.timedelta(days=1)), None


def _no_billing_configuration():
    source, target = two_packages(billing_provider="stripe")
    return source, cohort(source, 1)[0], {"package_id": target.id}, None


def _ambiguous_billing_configuration():
    source, target = two_packages(billing_provider="stripe")
    contract = cohort(source, 1)[0]
    make_billing_configuration(contract.customer)
    make_billing_configuration(contract.customer)
    return source, contract, {"package_id": target.id}, None


BUILDERS = {
    "CONTRACT_ARCHIVED": _archived,
    "OPEN_ENDED": _open_ended,
    "IN_OTHER_MIGRATION": _in_other_migration,
    "ENDS_BEFORE_EFFECTIVE": _ends_before_effective,
    "STARTS_AFTER_EFFECTIVE": _starts_after_effective,
    "SUCCESSOR_EXISTS": _successor_exists,
    "HAS_EDITS": _has_edits,
    "TARGET_ALIAS_UNRESOLVED": _target_alias_unresolved,
    "TARGET_ARCHIVED": _target_archived,
    "ALREADY_ON_TARGET": _already_on_target,
    "NO_BILLING_CONFIGURATION": _no_billing_configuration,
    "AMBIGUOUS_BILLING_CONFIGURATION": _ambiguous_billing_configuration,
}


def test_every_rule_has_one_contract_builder():
    assert [rule.reason for rule in ELIGIBILITY_RULES] == list(BUILDERS)


@pytest.mark.parametrize("rule", ELIGIBILITY_RULES, ids=lambda rule: rule.reason)
def test_the_plan_and_the_batch_give_each_rule_its_reason(rule):
    # given one contract that breaks the rule, judged by a job's plan (SQL)
    source, contract, target_ref, effective = BUILDERS[rule.reason]()
    migration = planned(source, target_ref, effective)
    item = CohortMigrationItem.objects.get(migration=migration, contract=contract)
    assert (item.status, item.reason) == ("SKIPPED", rule.reason)
    if rule.checked != PLAN_AND_BATCH:
        return
    # when the item is pending as if the contract broke the rule after the plan, and a batch
    # takes it (the Python recheck)
    CohortMigrationItem.objects.filter(id=item.id).update(status="PENDING", reason="")
    assert migration_batch_run(migration_id=migration.id) == 1
    # then the batch skips it for the same reason, and nothing moved
    item.refresh_from_db()
    assert (item.status, item.reason) == ("SKIPPED", rule.reason)
    assert not CohortMigrationItem.objects.filter(migration=migration, status="MIGRATED").exists()


def _reasons_named(source: str) -> list[str]:
    return re.findall(r"Reason\.([A-Z_]+)", source)


def test_the_sql_and_the_recheck_name_exactly_the_listed_reasons_in_order():
    sql = _reasons_named(inspect.getsource(cohort_migration_plan._judged_sql))
    python = _reasons_named(
        inspect.getsource(cohort_migration_batches._recheck)
        + inspect.getsource(cohort_migration_batches._skip_reason)
        + inspect.getsource(cohort_migration_batches._target_configuration)
    )
    assert sql == [rule.reason for rule in ELIGIBILITY_RULES]
    assert python == [rule.reason for rule in ELIGIBILITY_RULES if rule.checked == PLAN_AND_BATCH]
