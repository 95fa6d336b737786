"""A job's page agrees with itself: the items table follows the polled counts (a PAUSED job's
items are not left "pending" once the counts say migrated), skip reasons are words (their
codes nowhere on the page), and a reverted item's new contract is marked archived, not a
dead-end link. Batches run in-process (conftest.in_process_batches)."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re

import pytest
from django.urls import reverse

from contracts_app.models import CohortMigration, CohortMigrationItem, Contract
from contracts_app.services.cohort_migration_batches import migration_batch_run
from contracts_app.services.cohort_migrations import (
    cohort_migration_revert,
)
from tests.builders.migrations import create_migration, wizard_post
from tests.contracts_app.cohort_builders import T0, bulk_cohort, run_to_end, two_packages

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_process_batches")]
AT = T0 + dt.timedelta(days=40)


def _started(source, target, **kwargs) -> CohortMigration:
    return create_migration(source, target, name="Starter v1 → v2", **kwargs)


def _poll_url(html: str) -> str:
    section = re.search(r'<section id="migration-live"[^>]*>', html)[0]
    return html_lib.unescape(re.search(r'hx-get="([^"]+)"', section)[1])


def _item_badges(html: str) -> list[str]:
    rows = html.split('id="item-rows"')[1].split("</tbody>")[0]
    return re.findall(r'<span class="badge status-[a-z_]+">([^<]+)</span>', rows)


def test_the_items_follow_the_polled_counts_of_a_paused_job(pricing_client):
    # given a staged rollout of 5 whose page was opened before anything moved
    source, target = two_packages()
    bulk_cohort(source, 5)
    migration = _started(source, target, canary={"count": 2})
    page = pricing_client.get(reverse("contracts:migration-detail", args=[migration.id]))
    html = page.content.decode()
    assert _item_badges(html) == ["pending"] * 5
    assert 'hx-trigger="migrationFinished from:body, migrationProgressed from:body"' in html
    poll = _poll_url(html)

    # while it runs, a batch that moved contracts reloads no table (a reader's "Load more"
    # rows would go): only a change of status does
    assert migration_batch_run(migration_id=migration.id, batch_size=1) == 1
    running = pricing_client.get(poll, HTTP_HX_REQUEST="true")
    assert running.status_code == 200 and "HX-Trigger" not in running

    # when the canary moves 2 and the job pauses, the next poll says the counts changed
    assert run_to_end(migration).status == CohortMigration.Status.PAUSED
    response = pricing_client.get(poll, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "migrationProgressed" in response["HX-Trigger"]
    assert re.search(r'data-count="migrated">2<', response.content.decode())
    # and the items table it refreshes agrees with them
    items = pricing_client.get(
        reverse("contracts:migration-detail", args=[migration.id]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert sorted(_item_badges(items)) == ["migrated"] * 2 + ["pending"] * 3

    # then a poll of the fragment that already shows these counts refreshes nothing
    again = pricing_client.get(_poll_url(response.content.decode()), HTTP_HX_REQUEST="true")
    assert again.status_code == 200 and "HX-Trigger" not in again


def test_skip_reasons_are_words_and_reverted_items_say_their_new_contract_is_archived(
    pricing_client,
):
    # given a job of 4, one contract starting after the move (skipped), reverted in full
    source, target = two_packages()
    bulk_cohort(source, 4)
    late = Contract.objects.filter(package=source).order_by("id").first()
    Contract.objects.filter(pk=late.pk).update(starting_at=AT + dt.timedelta(days=1))
    migration = run_to_end(_started(source, target))
    url = reverse("contracts:migration-detail", args=[migration.id])
    html = pricing_client.get(url).content.decode()
    skipped = html.split("Skipped, and why")[1].split("</ul>")[0]
    assert "1 · " in skipped
    shown = re.sub(r'(value|href|class|hx-get)="[^"]*"', "", html)
    assert "STARTS_AFTER_EFFECTIVE" not in shown and '<code class="muted small">' not in html

    cohort_migration_revert(migration=migration)
    assert run_to_end(migration, revert=True).status == CohortMigration.Status.REVERTED
    html = pricing_client.get(url).content.decode()
    reverted = CohortMigrationItem.objects.filter(migration=migration, status="REVERTED")
    assert reverted.count() == 3
    rows = html.split('id="item-rows"')[1].split("</tbody>")[0]
    assert rows.count('<span class="badge">archived</span>') == 3
    assert rows.count(', archived">') == 3  # the link's label says it too


def test_the_wizards_preview_gives_skip_reasons_in_words_only(pricing_client):
    source, target = two_packages()
    bulk_cohort(source, 3)
    late = Contract.objects.filter(package=source).order_by("id").first()
    Contract.objects.filter(pk=late.pk).update(starting_at=AT + dt.timedelta(days=1))
    html = pricing_client.post(
        reverse("contracts:migration-new"),
        wizard_post(source, target, name=None),
    ).content.decode()
    assert re.search(r'data-count="eligible">2<', html)
    shown = re.sub(r'(value|href|class|hx-get)="[^"]*"', "", html)
    assert "STARTS_AFTER_EFFECTIVE" not in shown and '<code class="muted small">' not in html
