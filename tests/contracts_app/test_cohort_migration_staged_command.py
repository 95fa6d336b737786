"""`manage.py cohort_migration` staged-rollout verbs (issue 22): a canary, pause, resume,
revert by scope and customers, retry-failed; and the actions the selector allows, printed."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from contracts_app.models import CohortMigration, CohortMigrationItem, Contract
from tests.contracts_app.cohort_builders import cohort, two_packages

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("unconsumed_bulk_queue"),
]

AT = "2030-02-10T00:00:00Z"


def command(*args) -> str:
    out = StringIO()
    call_command("cohort_migration", *args, stdout=out)
    return out.getvalue()


def test_canary_pause_resume_revert_by_customer_and_retry_from_the_command_line():
    source, target = two_packages()
    contracts = cohort(source, 4)
    refs = ["--source-package", str(source.id), "--target-package", str(target.id), "--at", AT]
    # a canary of 2 moves 2 and pauses
    out = command("create", *refs, "--canary-count", "2", "--inline")
    migration = CohortMigration.objects.get()
    assert "PAUSED" in out
    assert Contract.objects.filter(package=target).count() == 2
    status = command("status", str(migration.id))
    assert "Allowed now: cancel, revert, resume, revert --scope NOT_IN_EFFECT (2)" in status
    with pytest.raises(CommandError, match=r"PAUSED migration cannot be paused"):
        command("pause", str(migration.id))
    # resume moves the rest
    out = command("resume", str(migration.id), "--inline")
    assert "100.0% COMPLETED" in out
    assert Contract.objects.filter(package=target).count() == 4
    with pytest.raises(CommandError, match=r"no failed item"):
        command("retry-failed", str(migration.id))
    # revert one customer's move only
    one = contracts[0]
    out = command(
        "revert",
        str(migration.id),
        "--scope",
        "NOT_IN_EFFECT",
        "--customer-id",
        str(one.customer_id),
        "--inline",
    )
    assert "Reverting 1 moved contract(s) (scope NOT_IN_EFFECT)" in out
    assert "3 of other customers stay moved" in out
    assert "PARTIALLY_REVERTED" in out
    assert CohortMigrationItem.objects.get(contract=one).status == "REVERTED"
    assert Contract.objects.filter(package=target, archived_at__isnull=True).count() == 3


def test_retry_failed_from_the_command_line_moves_the_fixed_item():
    # given a job whose canary (a good customer) moved, then whose other customer failed
    source, target = two_packages()
    good, bad = cohort(source, 2)
    refs = ["--source-package", str(source.id), "--target-package", str(target.id), "--at", AT]
    assert "PAUSED" in command(
        "create", *refs, "--canary-customer-id", str(good.customer_id), "--inline"
    )
    migration = CohortMigration.objects.get()
    bad.customer.archived_at = timezone.now()
    bad.customer.save()
    assert "COMPLETED" in command("resume", str(migration.id), "--inline")
    assert CohortMigrationItem.objects.get(contract=bad).status == "FAILED"
    assert "retry-failed (1)" in command("status", str(migration.id))
    # when its cause is fixed and it is retried
    bad.customer.archived_at = None
    bad.customer.save()
    out = command("retry-failed", str(migration.id), "--inline")
    # then it moves
    assert "100.0% COMPLETED" in out
    assert CohortMigrationItem.objects.get(contract=bad).status == "MIGRATED"
    assert Contract.objects.filter(package=target).count() == 2
