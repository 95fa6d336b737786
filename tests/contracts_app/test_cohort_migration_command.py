"""`manage.py cohort_migration`: the same services from a terminal."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from contracts_app.models import CohortMigration, Contract
from tests.contracts_app.cohort_builders import cohort, two_packages

pytestmark = pytest.mark.django_db

AT = "2030-02-10T00:00:00Z"


def command(*args) -> str:
    out = StringIO()
    call_command("cohort_migration", *args, stdout=out)
    return out.getvalue()


def test_preview_create_status_revert_from_the_command_line(django_capture_on_commit_callbacks):
    source, target = two_packages()
    cohort(source, 3)
    refs = ["--source-package", str(source.id), "--target-package", str(target.id), "--at", AT]
    preview = json.loads(command("preview", *refs))
    assert (preview["total"], preview["eligible"]) == (3, 3)
    with django_capture_on_commit_callbacks(execute=False):
        out = command("create", *refs, "--name", "v1 → v2", "--inline")
    migration = CohortMigration.objects.get()
    assert f"Created cohort migration {migration.id}" in out
    assert "100.0% COMPLETED" in out
    assert "total 3 migrated 3 skipped 0 failed 0" in out
    assert Contract.objects.filter(package=target).count() == 3
    status = json.loads(command("status", str(migration.id), "--json"))
    assert status["counts"]["migrated"] == 3
    assert str(migration.id) in command("list")
    with django_capture_on_commit_callbacks(execute=False):
        out = command("revert", str(migration.id), "--inline")
    assert "REVERTED" in out
    assert Contract.objects.filter(package=target, archived_at__isnull=True).count() == 0


def test_errors_are_command_errors_naming_the_field():
    source, _ = two_packages()
    with pytest.raises(CommandError, match=r"\(target\.package_id\)"):
        command(
            "preview",
            "--source-package",
            str(source.id),
            "--target-package",
            str(source.id),
            "--at",
            AT,
        )
    with pytest.raises(CommandError, match=r"effective\.at"):
        command(
            "preview", "--source-package", str(source.id), "--target-alias", "X", "--at", "tomorrow"
        )
    with pytest.raises(CommandError, match="not found"):
        command("cancel", "00000000-0000-0000-0000-000000000000")


@pytest.mark.parametrize("runs", [1, 4])
def test_admin_lists_jobs_and_items_read_only_in_constant_queries(
    client, django_assert_num_queries, django_capture_on_commit_callbacks, runs
):
    from django.urls import reverse

    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    source, target = two_packages()
    cohort(source, 3)
    refs = ["--source-package", str(source.id), "--target-package", str(target.id), "--at", AT]
    for _ in range(runs):
        with django_capture_on_commit_callbacks(execute=False):
            command("create", *refs, "--inline")
    # session, user, the paginator's count, the page's rows (counts summed in the same query)
    with django_assert_num_queries(4):
        page = client.get(reverse("admin:contracts_app_cohortmigration_changelist"))
    assert page.status_code == 200
    assert page.content.count(b'class="field-status"') == runs
    migration = CohortMigration.objects.order_by("created_at").first()
    items_url = reverse("admin:contracts_app_cohortmigrationitem_changelist")
    with django_assert_num_queries(4):
        items = client.get(
            f"{items_url}?migration__id__exact={migration.id}&status__exact=MIGRATED"
        )
    assert items.status_code == 200
    assert items.content.count(b'class="field-status"') == 3
    detail = client.get(reverse("admin:contracts_app_cohortmigration_change", args=[migration.id]))
    assert detail.status_code == 200
    assert b"Save" not in detail.content
    assert b"Edited contracts" in detail.content


def test_a_past_at_needs_allow_past(django_capture_on_commit_callbacks):
    source, target = two_packages()
    refs = ["--source-package", str(source.id), "--target-package", str(target.id)]
    past = ["--at", "2020-06-01T00:00:00Z"]
    with pytest.raises(CommandError, match=r"is in the past.*\(effective\.at\)"):
        command("create", *refs, *past)
    assert not CohortMigration.objects.exists()
    with django_capture_on_commit_callbacks(execute=False):
        command("create", *refs, *past, "--allow-past")
    assert CohortMigration.objects.get().effective == {"type": "AT", "at": "2020-06-01T00:00:00Z"}
