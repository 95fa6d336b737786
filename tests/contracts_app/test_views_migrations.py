"""The cohort-migration pages: list with filters, the wizard (preview writes nothing, a double
confirm makes one job, errors beside the fields), a job's page with live progress (286 once it
has ended), its items and CSV, cancel and revert, the dashboard; permissions and query counts.
Batches run in-process here; tests/browser/test_migration_flow.py runs them on a real worker."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from config.audit.models import AuditLogEntry
from contracts_app.models import (
    CohortMigration,
    CohortMigrationItem,
    CohortMigrationProgress,
    Contract,
    ContractTerm,
)
from contracts_app.services import cohort_migrations as services
from contracts_app.services.cohort_migration_batches import (
    migration_batch_run,
    migration_revert_batch_run,
)
from contracts_app.services.provisioning import contract_provision
from packages_app.services.aliases import alias_assign
from tests.builders.migrations import wizard_post
from tests.contracts_app.cohort_builders import T0, bulk_cohort, cohort, run_to_end, two_packages
from tests.factories import user_with_permissions

# Batches run in-process here (conftest.in_process_batches).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_process_batches")]
AT = T0 + dt.timedelta(days=40)


def user_with(*codenames: str):
    return user_with_permissions(*(f"contracts_app.{codename}" for codename in codenames))


@pytest.fixture
def packages():
    source, target = two_packages()
    bulk_cohort(source, 30)
    return source, target


def create(source, target, *, at=AT, start=True, name="Starter v1 → v2", **kwargs):
    migration = services.cohort_migration_create(
        data=services.migration_input(
            source={"package_id": source.id},
            target={"package_id": target.id},
            effective={"type": "AT", "at": at},
            allow_past=at < timezone.now(),
        ),
        name=name,
        created_by="priya",
        **kwargs,
    )
    if start:
        assert services.migration_start(migration_id=migration.id)
    return migration


def row_counts() -> tuple:
    return (
        CohortMigration.objects.count(),
        CohortMigrationItem.objects.count(),
        CohortMigrationProgress.objects.count(),
        Contract.objects.count(),
        ContractTerm.objects.count(),
    )


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)" name="{name}"', html
    )
    assert match, f"no hidden {name}"
    return match.group(1)


def confirm_of(preview_html: str, body: dict) -> dict:
    """The wizard's confirm of `body`, with the uniqueness key and fingerprint its preview rendered."""
    return body | {
        "_action": "confirm",
        "uniqueness_key": hidden(preview_html, "uniqueness_key"),
        "previewed": hidden(preview_html, "previewed"),
    }


# --- permissions -------------------------------------------------------------------------


def test_pages_need_login_and_the_migration_permissions(client, packages):
    migration = create(*packages)
    pages = {
        reverse("contracts:migration-list"): "view",
        reverse("contracts:migration-new"): "add",
        reverse("contracts:migration-detail", args=[migration.id]): "view",
        reverse("contracts:migration-live", args=[migration.id]): "view",
        reverse("contracts:migration-items-csv", args=[migration.id]): "view",
        reverse("contracts:migration-cancel", args=[migration.id]): "change",
        reverse("contracts:migration-revert", args=[migration.id]): "change",
    }
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url

    client.force_login(user_with())
    for url in pages:
        assert client.get(url).status_code == 403, url

    client.force_login(user_with("view_cohortmigration"))
    for url, needs in pages.items():
        assert client.get(url).status_code == (200 if needs == "view" else 403), url
    # a viewer may not cancel, even by posting directly
    url = reverse("contracts:migration-cancel", args=[migration.id])
    assert client.post(url).status_code == 403
    migration.refresh_from_db()
    assert migration.status == "RUNNING"


def test_viewer_sees_no_buttons_and_no_move_link(client, packages):
    source, target = packages
    migration = create(source, target)
    client.force_login(user_with("view_cohortmigration"))
    html = client.get(reverse("contracts:migration-detail", args=[migration.id])).content.decode()
    assert "Cancel…" not in html and "Revert all…" not in html
    assert "Move a cohort…" not in client.get(reverse("contracts:migration-list")).content.decode()


# --- the list ----------------------------------------------------------------------------


def test_list_shows_each_migration_and_the_filters_round_trip(pricing_client, packages):
    # given a running job over the cohort, a completed one, and one between other packages
    source, target = packages
    running = create(source, target, name="Move A")
    done = run_to_end(create(source, target, name="Move B", at=AT + dt.timedelta(days=1)))
    other_source, other_target = two_packages()
    create(other_source, other_target, name="Elsewhere", start=False)

    # when the list is filtered by status and by package
    url = reverse("contracts:migration-list")
    html = pricing_client.get(url, {"status": "COMPLETED", "package": str(source.id)}).content
    html = html.decode()

    # then only the completed job on that package shows, and the filters show as selected
    assert "Move B" in html and "Move A" not in html and "Elsewhere" not in html
    assert '<option value="COMPLETED" selected>' in html
    assert f'<option value="{source.id}" selected>' in html
    assert "from or to <strong>Starter v1</strong>" in html
    assert reverse("contracts:migration-detail", args=[done.id]) in html
    assert reverse("contracts:package-detail", args=[target.id]) in html
    assert "at 2030-02-11" in html  # the effective timing in words
    assert 'aria-valuenow="100"' in html

    # and the package filter alone finds both jobs on it (source or target)
    html = pricing_client.get(url, {"package": str(target.id)}).content.decode()
    assert "Move A" in html and "Move B" in html and "Elsewhere" not in html
    # a nonsense filter value is ignored, not a 500
    html = pricing_client.get(url, {"status": "NOPE", "package": "x"}).content.decode()
    assert "Elsewhere" in html and str(running.id) in html


def test_list_empty_states(pricing_client, packages):
    url = reverse("contracts:migration-list")
    assert "No migrations yet." in pricing_client.get(url).content.decode()
    create(*packages)
    html = pricing_client.get(url, {"status": "REVERTED"}).content.decode()
    assert "No migrations match these filters." in html


def test_list_loads_more_newest_first_in_constant_queries(
    pricing_client, packages, django_assert_max_num_queries
):
    source, target = packages
    for i in range(53):
        create(source, target, name=f"Job {i:02d}", start=False)
    url = reverse("contracts:migration-list")
    with django_assert_max_num_queries(6):  # session, user, page, progress, packages (+1)
        html = pricing_client.get(url).content.decode()
    assert "Job 52" in html and "Job 03" in html and "Job 02" not in html
    more = re.search(r'hx-get="([^"]+after=[^"]+)"', html).group(1).replace("&amp;", "&")
    rest = pricing_client.get(more, HTTP_HX_REQUEST="true").content.decode()
    assert "Job 02" in rest and "Job 00" in rest and "Job 03" not in rest
    assert "Load more" not in rest


# --- the wizard --------------------------------------------------------------------------


def test_wizard_is_prefilled_from_the_package_and_alias_pages(pricing_client, packages):
    source, _ = packages
    alias_assign(kind="package", name="Starter Plan", package=source, starting_at=T0)
    package_page = pricing_client.get(reverse("contracts:package-detail", args=[source.id]))
    link = f"{reverse('contracts:migration-new')}?source_package={source.id}"
    assert link in package_page.content.decode()
    html = pricing_client.get(link).content.decode()
    assert f'<option value="{source.id}" selected>' in html

    alias = source.alias_assignments.get().alias_name
    alias_page = pricing_client.get(reverse("packages:alias-detail", args=[alias.id]))
    link = f"{reverse('contracts:migration-new')}?source_alias=Starter%20Plan"
    assert link in alias_page.content.decode()
    html = pricing_client.get(link).content.decode()
    assert '<option value="Starter Plan" selected>' in html


def test_preview_shows_counts_diff_and_sample_and_writes_nothing(pricing_client, packages):
    # given a cohort of 30 on v1, one of them starting only after the move
    source, target = packages
    late = Contract.objects.filter(package=source).order_by("id").first()
    Contract.objects.filter(pk=late.pk).update(starting_at=AT + dt.timedelta(days=1))
    before = row_counts()

    # when the wizard previews v1 → v2 at AT
    response = pricing_client.post(reverse("contracts:migration-new"), wizard_post(source, target))
    html = response.content.decode()

    # then it shows the counts by outcome and reason in words, the diff and a sample
    assert response.status_code == 200
    assert re.search(r'data-count="total">30<', html)
    assert re.search(r'data-count="eligible">29<', html)
    assert "The contract starts after it would move" in html
    assert "Recurring credit on Support" in html  # the diff, in words, no raw JSON
    assert '"kind"' not in html and "terms_added" not in html
    # each line of the diff says how many customers it touches: the 29 that move
    diff_lines = re.findall(r'<li class="(?:added|removed|changed)">.*?</li>', html, re.S)
    assert diff_lines and all('data-customers="29">· 29 customers<' in li for li in diff_lines)
    assert f'data-before="{source.id}">29<' in html and f'data-after="{target.id}">29<' in html
    # the sample: customers linked, each with its old contract's new end and its new contract
    assert len(re.findall(r'/customers/[0-9a-f-]{36}/">Customer \d+</a>', html)) == 20
    moving = html.count("Starter v2: 2030-02-10 → 2031-02-10")
    assert moving >= 19 and moving + html.count("skipped: the contract starts after") == 20
    assert "Confirm: move 29 contracts" in html
    # the cohorts as they would be after the move, month by month: [v1, v2]
    chart = response.context["after_chart"]
    rows = {at.date(): values for at, values, _ in chart.rows}
    assert rows[dt.date(2030, 1, 1)] == [29, 0]  # before the move (one starts later)
    assert rows[dt.date(2030, 3, 1)] == [1, 29]  # the 29 moved; the late one stays
    assert rows[dt.date(2031, 2, 1)] == [0, 29]  # v1's contracts would have ended by now
    assert "The cohorts after the move (projected)" in html
    # and nothing was written
    assert row_counts() == before
    assert hidden(html, "uniqueness_key").startswith("ui-")


def test_preview_to_an_alias_projects_the_arrivals_as_one_series(pricing_client, packages):
    # given an alias that points at v2 from before the move
    source, target = packages
    alias_assign(kind="package", name="Starter Plan", package=target, starting_at=T0)
    # when the wizard previews v1 → the alias at AT
    response = pricing_client.post(
        reverse("contracts:migration-new"),
        wizard_post(source, target, target_package="", target_alias="Starter Plan"),
    )
    # then the chart has v1 after the move and the arrivals on the alias
    assert response.status_code == 200
    chart = response.context["after_chart"]
    assert [series.label for series in chart.series] == [
        f"{source.name} (after the move)",
        "moved to alias Starter Plan",
    ]
    rows = {at.date(): values for at, values, _ in chart.rows}
    assert rows[dt.date(2030, 3, 1)] == [0, 30]


def test_double_confirm_creates_one_migration(pricing_client, packages):
    source, target = packages
    url = reverse("contracts:migration-new")
    html = pricing_client.post(url, wizard_post(source, target)).content.decode()
    confirm = confirm_of(html, wizard_post(source, target))

    first = pricing_client.post(url, confirm)
    second = pricing_client.post(url, confirm)

    migration = CohortMigration.objects.get()
    detail = reverse("contracts:migration-detail", args=[migration.id])
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == detail
    assert migration.created_by == "pricing" and migration.status == "SCHEDULED"
    entries = AuditLogEntry.objects.filter(resource_type="cohort_migration")
    assert [(e.action, e.actor_user.username) for e in entries] == [("create", "pricing")]
    assert migration.effective == {"type": "AT", "at": "2030-02-10T00:00:00Z"}


def test_the_wizard_asks_in_words_before_moving_from_a_past_date(pricing_client, packages):
    source, target = packages
    url = reverse("contracts:migration-new")
    # a past date: no preview, the question and its checkbox beside the date
    asked = pricing_client.post(url, wizard_post(source, target, effective_at="2026-03-01"))
    html = asked.content.decode()
    assert asked.status_code == 200 and "migration-preview" not in html
    assert "This changes contracts from 2026-03-01, already billed." in html
    assert "can never be reverted" in html
    assert 'type="checkbox" name="allow_past"' in html
    assert "This date is in the past" in html
    # ticked: the preview, the question still there (ticked), and confirm creates the job
    ticked = wizard_post(source, target, effective_at="2026-03-01", allow_past="on")
    html = pricing_client.post(url, ticked).content.decode()
    assert "migration-preview" in html
    assert re.search(r'type="checkbox" name="allow_past"[^>]*checked', html)
    confirm = confirm_of(html, ticked)
    assert pricing_client.post(url, confirm).status_code == 302
    assert CohortMigration.objects.get().effective == {"type": "AT", "at": "2026-03-01T00:00:00Z"}


def test_confirm_of_input_other_than_the_preview_previews_again(pricing_client, packages):
    source, target = packages
    url = reverse("contracts:migration-new")
    html = pricing_client.post(url, wizard_post(source, target)).content.decode()
    changed = confirm_of(html, wizard_post(source, target, effective_at="2030-03-01"))
    response = pricing_client.post(url, changed)
    assert response.status_code == 200
    assert "The input changed since the last preview" in response.content.decode()
    assert not CohortMigration.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        # the page's words, not the API's ("exactly one of package_id or package_alias",
        # "Required when type is AT"): config.web.forms.page_words
        ({"source_package": ""}, "source_package", "Give exactly one of “Package” or “Alias”"),
        ({"effective_at": ""}, "effective_at", "Required when the contracts move on a given date"),
        ({"timing": "END_OF_TERM"}, "effective_at", "Not used with END_OF_TERM"),
        ({"effective_at": "next tuesday"}, "effective_at", "Enter a valid date"),
        ({"target_package": "same"}, "target_package", "The target package is the source"),
        ({"customer_ids": "not-an-id"}, "customer_ids", "id, external id or name: “not-an-id”"),
        ({"source_alias": "Nobody", "source_package": ""}, "source_alias", "Select a valid"),
        ({"timing": "SOMETIME"}, "timing", "Select a valid choice"),
    ],
)
def test_bad_input_shows_errors_beside_the_fields(
    pricing_client, packages, overrides, field, message
):
    source, target = packages
    if overrides.get("target_package") == "same":
        overrides["target_package"] = str(source.id)
    before = row_counts()
    response = pricing_client.post(
        reverse("contracts:migration-new"), wizard_post(source, target, **overrides)
    )
    html = response.content.decode()
    assert response.status_code == 200
    error = re.search(rf'id="id_{field}_error" role="alert">([^<]*)<', html)
    assert error, html[:3000]
    assert message in error.group(1)
    assert row_counts() == before


def test_unknown_alias_source_and_customer_csv_upload(pricing_client, packages):
    source, target = packages
    alias_assign(kind="package", name="Starter Plan", package=source, starting_at=T0)
    customers = list(
        Contract.objects.filter(package=source).order_by("id").values_list("customer_id", flat=True)
    )
    upload = SimpleUploadedFile(
        "ids.csv", ("customer_id\n" + "\n".join(str(c) for c in customers[:5])).encode()
    )
    data = wizard_post(
        source,
        target,
        source_package="",
        source_alias="Starter Plan",
        source_as_of="2030-01-15",
        exclude_customer_ids=str(customers[0]),
        customer_file=upload,
    )
    html = pricing_client.post(reverse("contracts:migration-new"), data).content.decode()
    # the five listed minus the one left out
    assert re.search(r'data-count="eligible">4<', html)
    # the file's ids are carried into the text box, so the confirm step sends them
    assert str(customers[4]) in html

    before_alias = wizard_post(
        source, target, source_package="", source_alias="Starter Plan", source_as_of="2029-01-01"
    )
    html = pricing_client.post(reverse("contracts:migration-new"), before_alias).content.decode()
    assert "points at no package" in re.search(r'id="id_source_alias_error"[^>]*>([^<]*)<', html)[1]


def test_a_csv_of_the_documented_100000_ids_reaches_the_wizard(pricing_client, packages):
    # The API takes 100,000 ids per list; the wizard's upload is held to the same limit, not
    # to the 2.5 MB default body limit (a 100,000-id CSV is ~3.7 MB). Each id is looked up:
    # the 99,997 that name no customer are counted beside the box, and nothing is previewed.
    source, target = packages
    customers = list(
        Contract.objects.filter(package=source).order_by("id").values_list("customer_id", flat=True)
    )
    ids = [str(c) for c in customers[:3]] + [str(uuid.uuid4()) for _ in range(99_997)]
    upload = SimpleUploadedFile("ids.csv", ("customer_id\n" + "\n".join(ids)).encode())
    assert upload.size > 2_621_440
    response = pricing_client.post(
        reverse("contracts:migration-new"), wizard_post(source, target, customer_file=upload)
    )
    assert response.status_code == 200, response.content[:300]
    html = response.content.decode()
    error = re.search(r'id="id_customer_ids_error" role="alert">([^<]*)<', html)[1]
    assert f"“{ids[3]}”" in error and "and 99992 more" in error
    assert "migration-preview" not in html
    # with the strangers left out, the three are previewed
    upload = SimpleUploadedFile("ids.csv", ("customer_id\n" + "\n".join(ids[:3])).encode())
    response = pricing_client.post(
        reverse("contracts:migration-new"), wizard_post(source, target, customer_file=upload)
    )
    assert re.search(r'data-count="eligible">3<', response.content.decode())


# --- one migration -----------------------------------------------------------------------


def test_detail_of_a_scheduled_job_offers_cancel_only(
    pricing_client, packages, django_assert_max_num_queries
):
    migration = create(*packages, start=False, run_at=AT - dt.timedelta(days=1))
    url = reverse("contracts:migration-detail", args=[migration.id])
    with django_assert_max_num_queries(7):
        html = pricing_client.get(url).content.decode()
    assert "Cancel…" in html and "Revert all…" not in html
    assert 'hx-trigger="every 5s"' in html
    assert "the cohort is planned when the job starts" in html


def test_detail_of_a_completed_job_offers_revert_until_the_move(
    pricing_client, packages, django_assert_max_num_queries
):
    migration = run_to_end(create(*packages))
    url = reverse("contracts:migration-detail", args=[migration.id])
    with django_assert_max_num_queries(
        9
    ):  # +1: migration_actions counts FAILED items (retry_failed)
        html = pricing_client.get(url).content.decode()
    assert "Revert all…" in html and "Cancel…" not in html
    assert "Revert possible until 2030-02-10" in html
    assert 'hx-trigger="every' not in html  # finished: nothing polls
    assert re.search(r'data-count="migrated">30<', html)
    assert html.count("<tr>") >= 30

    # when revert is confirmed
    revert = reverse("contracts:migration-revert", args=[migration.id])
    page = pricing_client.get(revert).content.decode()
    assert "30</strong> moved contracts get their old contracts back" in page
    assert "until <strong>2030-02-10</strong>" in page
    response = pricing_client.post(revert)
    assert response.status_code == 302 and response["Location"] == url
    migration.refresh_from_db()
    assert migration.status == "REVERTING"
    # the bar follows the revert: 7 of 30 given back
    migration_revert_batch_run(migration_id=migration.id, batch_size=7)
    live = pricing_client.get(reverse("contracts:migration-live", args=[migration.id]))
    assert live.status_code == 200 and 'aria-valuenow="23"' in live.content.decode()


def test_revert_is_not_offered_once_a_move_took_effect(pricing_client):
    source, target = two_packages()
    bulk_cohort(source, 3, start=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    migration = run_to_end(create(source, target, at=dt.datetime(2020, 6, 1, tzinfo=dt.UTC)))
    html = pricing_client.get(
        reverse("contracts:migration-detail", args=[migration.id])
    ).content.decode()
    assert "Revert all…" not in html and "No longer revertible: 3 moves took effect" in html
    revert = reverse("contracts:migration-revert", args=[migration.id])
    assert "can no longer be reverted" in pricing_client.get(revert).content.decode()
    response = pricing_client.post(revert)
    assert response.status_code == 400
    assert "3 migrated contract(s) have already taken effect" in response.content.decode()
    migration.refresh_from_db()
    assert migration.status == "COMPLETED"


def renew_after(item) -> Contract:
    """A renewal following the item's new contract (a later contract of its subscription)."""
    new = Contract.objects.get(id=item.new_contract_id)
    return contract_provision(
        customer=new.customer,
        package=new.package,
        starting_at=new.ending_before,
        transition={"from_contract_id": str(new.id), "type": "RENEWAL"},
    )


def test_revert_is_not_offered_when_every_moved_contract_is_followed(pricing_client, packages):
    migration = run_to_end(create(*packages))
    for item in CohortMigrationItem.objects.filter(migration=migration):
        renew_after(item)
    url = reverse("contracts:migration-detail", args=[migration.id])
    html = pricing_client.get(url).content.decode()
    assert "Revert all…" not in html
    assert "Not revertible: every moved contract was changed, archived or followed" in html
    revert = reverse("contracts:migration-revert", args=[migration.id])
    assert "30 · a later contract already follows it" in pricing_client.get(revert).content.decode()
    response = pricing_client.post(revert)
    assert response.status_code == 400
    assert "None of the 30 moved contract(s) can be reverted" in response.content.decode()


def test_a_partial_revert_says_who_stays_and_why_in_words(pricing_client, packages):
    # given a completed job of 30, one of them renewed after the move
    migration = run_to_end(create(*packages))
    renew_after(CohortMigrationItem.objects.filter(migration=migration).first())
    revert = reverse("contracts:migration-revert", args=[migration.id])
    page = pricing_client.get(revert).content.decode()
    assert "Revert 29 contracts" in page
    assert "<strong>1</strong> other stays on the new package as it is" in page
    assert "1 · a later contract already follows it" in page
    # when reverted
    assert pricing_client.post(revert).status_code == 302
    migration = run_to_end(migration, revert=True)
    # then the page says so in words, not codes
    html = pricing_client.get(
        reverse("contracts:migration-detail", args=[migration.id])
    ).content.decode()
    assert "partially reverted</span>" in html
    assert "29 customers have their old contract back; 1 stays on the new package, changed" in html
    assert "Not reverted, and why" in html
    assert "1 · a later contract already follows it" in html
    assert '<th scope="col">not reverted</th>' in html
    assert "not reverted</span>" in html  # the item's badge
    assert "PARTIALLY_REVERTED" not in re.sub(r'(value|href|class)="[^"]*"', "", html)
    listed = pricing_client.get(reverse("contracts:migration-list")).content.decode()
    assert ">partially reverted</option>" in listed


def test_cancel_says_what_happens_and_cancels(pricing_client, packages):
    migration = create(*packages)
    migration_batch_run(migration_id=migration.id, batch_size=10)
    cancel = reverse("contracts:migration-cancel", args=[migration.id])
    page = pricing_client.get(cancel).content.decode()
    assert "<strong>20</strong> pending contracts will not move" in page
    assert "10 contracts already moved stay moved" in page
    assert pricing_client.post(cancel).status_code == 302
    migration.refresh_from_db()
    assert migration.status == "CANCELLED"
    # cancelling again: the page says it cannot, the POST changes nothing
    assert "cannot be cancelled" in pricing_client.get(cancel).content.decode()
    assert pricing_client.post(cancel).status_code == 400


def test_live_fragment_polls_while_running_and_stops_with_286(
    pricing_client, packages, django_assert_max_num_queries
):
    migration = create(*packages)
    url = reverse("contracts:migration-live", args=[migration.id])
    with django_assert_max_num_queries(6):
        response = pricing_client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'hx-trigger="every 1s"' in response.content.decode()
    assert 'aria-valuenow="0"' in response.content.decode()

    run_to_end(migration)
    with django_assert_max_num_queries(
        8
    ):  # +1: migration_actions counts FAILED items (retry_failed)
        response = pricing_client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    assert (
        response["HX-Trigger"] == '{"migrationFinished": {}}'
        or "migrationFinished" in (response["HX-Trigger"])
    )
    html = response.content.decode()
    assert 'aria-valuenow="100"' in html and "hx-trigger" not in html


def test_items_filter_by_status_and_reason_and_export_csv(
    pricing_client, packages, django_assert_max_num_queries
):
    source, target = packages
    late = Contract.objects.filter(package=source).order_by("id").first()
    Contract.objects.filter(pk=late.pk).update(starting_at=AT + dt.timedelta(days=1))
    migration = run_to_end(create(source, target))
    url = reverse("contracts:migration-detail", args=[migration.id])

    with django_assert_max_num_queries(
        9
    ):  # +1: migration_actions counts FAILED items (retry_failed)
        html = pricing_client.get(
            url, {"status": "SKIPPED", "reason": "STARTS_AFTER_EFFECTIVE"}
        ).content.decode()
    assert '<option value="SKIPPED" selected>' in html
    assert '<option value="STARTS_AFTER_EFFECTIVE" selected>' in html
    items = html.split('id="item-rows"')[1].split("</tbody>")[0]
    assert items.count("<tr>") == 1 and "skipped" in items
    csv_link = reverse("contracts:migration-items-csv", args=[migration.id])
    assert f"{csv_link}?status=SKIPPED&amp;reason=STARTS_AFTER_EFFECTIVE" in html

    # htmx filter change: just the items fragment
    fragment = pricing_client.get(url, {"status": "MIGRATED"}, HTTP_HX_REQUEST="true")
    assert fragment.content.decode().startswith('\n<section id="migration-items"') or (
        "<h1>" not in fragment.content.decode()
    )
    assert fragment.content.decode().count("<tr>") == 29 + 1  # rows + the head row

    with django_assert_max_num_queries(4):
        response = pricing_client.get(csv_link)
        body = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:5] == [
        "contract_id",
        "customer_id",
        "customer_name",
        "customer_external_id",
        "status",
    ]
    assert len(rows) == 31
    migrated = [r for r in rows[1:] if r[4] == "MIGRATED"]
    assert len(migrated) == 29 and all(r[8] and r[7] == "2030-02-10T00:00:00Z" for r in migrated)
    skipped = pricing_client.get(csv_link, {"status": "SKIPPED"})
    skipped_rows = list(csv.reader(io.StringIO(b"".join(skipped.streaming_content).decode())))
    assert [r[5] for r in skipped_rows[1:]] == ["STARTS_AFTER_EFFECTIVE"]


def test_items_load_more(pricing_client):
    source, target = two_packages()
    bulk_cohort(source, 60)
    migration = run_to_end(create(source, target))
    url = reverse("contracts:migration-detail", args=[migration.id])
    html = pricing_client.get(url).content.decode()
    more = re.search(r'id="items-more".*?hx-get="([^"]+)"', html, re.S).group(1)
    rest = pricing_client.get(more.replace("&amp;", "&"), HTTP_HX_REQUEST="true").content.decode()
    assert rest.count("<tr>") == 10 and "Load more" not in rest


def test_unknown_migration_is_404(pricing_client):
    url = reverse("contracts:migration-detail", args=["00000000-0000-0000-0000-000000000000"])
    assert pricing_client.get(url).status_code == 404


# --- the dashboard -----------------------------------------------------------------------


def test_dashboard_shows_running_and_scheduled_migrations_in_constant_queries(
    pricing_client, packages, django_assert_max_num_queries
):
    source, target = packages
    url = reverse("home")
    assert "None running or scheduled." in pricing_client.get(url).content.decode()
    running = create(source, target, name="Running move")
    migration_batch_run(migration_id=running.id, batch_size=15)
    create(source, target, name="Later move", start=False, run_at=AT)
    run_to_end(create(source, target, name="Finished move", at=AT + dt.timedelta(days=2)))
    with django_assert_max_num_queries(12):  # 11: the page's 9 + the migrations and progress
        html = pricing_client.get(url).content.decode()
    assert "Running move" in html and "Later move" in html and "Finished move" not in html
    assert 'aria-valuenow="50"' in html
    assert "runs 2030-02-10" in html


def test_a_moved_contracts_pages_link_the_predecessor_and_the_successor(pricing_client):
    # given one contract moved by a job
    source, target = two_packages()
    (old,) = cohort(source, 1)
    run_to_end(create(source, target))
    new = Contract.objects.get(subscription_id=old.subscription_id, package=target)

    def page(contract):
        url = reverse("contracts:contract-detail", args=[contract.id])
        return url, pricing_client.get(url).content.decode()

    (old_url, old_html), (new_url, new_html) = page(old), page(new)
    # then the new contract came from the old one, and the old one from nothing before it:
    # its own outgoing link is its successor ("followed by"), not a predecessor of itself
    assert f'renewal from <a href="{old_url}">the previous contract</a>' in new_html
    assert f'from <a href="{old_url}">' not in old_html
    assert "first of its subscription; followed by" in old_html
    assert f'<a href="{new_url}">Starter v2</a>' in old_html
