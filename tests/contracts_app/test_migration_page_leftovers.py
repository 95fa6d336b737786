"""Migration pages, the leftovers of issues 20 and 22: a PAUSED job's page keeps polling
(slowly) so that a resume or a cancel made elsewhere shows up; the wizard's CSV of customers
keeps a first customer whose name has no digits (the header is decided by its title); the
job's page says who created it. Batches run in-process (conftest.in_process_batches)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contracts_app.forms import ids_from_csv
from contracts_app.models import CohortMigration
from contracts_app.services.cohort_migrations import (
    cohort_migration_cancel,
    cohort_migration_resume,
)
from contracts_app.services.customers import customer_create
from contracts_app.services.provisioning import contract_provision
from tests.builders.migrations import create_migration, wizard_post
from tests.contracts_app.cohort_builders import T0, bulk_cohort, run_to_end, two_packages

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_process_batches")]
AT = T0 + dt.timedelta(days=40)


def _paused_job(source, target) -> CohortMigration:
    migration = create_migration(source, target, name="Starter v1 → v2", canary={"count": 2})
    assert run_to_end(migration).status == CohortMigration.Status.PAUSED
    return migration


def test_a_paused_jobs_page_polls_slowly_and_notices_a_resume_made_elsewhere(pricing_client):
    source, target = two_packages()
    bulk_cohort(source, 5)
    migration = _paused_job(source, target)
    live = reverse("contracts:migration-live", args=[migration.id])

    # the page of a paused job polls, every 10 s (not every second)
    page = pricing_client.get(reverse("contracts:migration-detail", args=[migration.id]))
    section = re.search(r'<section id="migration-live"[^>]*>', page.content.decode())[0]
    assert f'hx-get="{live}?seen=PAUSED-' in section and 'hx-trigger="every 10s"' in section

    # still paused: the fragment keeps polling slowly (200, not 286)
    response = pricing_client.get(live, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'hx-trigger="every 10s"' in response.content.decode()

    # resumed elsewhere (the API, the CLI, another tab): the next poll shows it running
    cohort_migration_resume(migration=CohortMigration.objects.get(id=migration.id))
    html = pricing_client.get(live, HTTP_HX_REQUEST="true").content.decode()
    assert "status-running" in html and 'hx-trigger="every 1s"' in html


def test_a_paused_job_cancelled_elsewhere_stops_the_polling(pricing_client):
    source, target = two_packages()
    bulk_cohort(source, 4)
    migration = _paused_job(source, target)
    cohort_migration_cancel(migration=CohortMigration.objects.get(id=migration.id))
    response = pricing_client.get(
        reverse("contracts:migration-live", args=[migration.id]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 286
    assert "status-cancelled" in response.content.decode()


@pytest.mark.parametrize(
    ("text", "entries"),
    [
        ("Globex Inc\nAcme Corp\n", ["Globex Inc", "Acme Corp"]),  # no header: both kept
        ("name\nGlobex Inc\n", ["Globex Inc"]),
        ("Customer ID,plan\nacme-42,starter\n", ["acme-42"]),
        ("external_id\nacme-42\n", ["acme-42"]),
        ("\ufeffid\nacme-42\n", ["acme-42"]),  # a BOM before the title
        ("acme-42\nGlobex Inc\n", ["acme-42", "Globex Inc"]),
    ],
)
def test_the_csv_header_is_decided_by_its_title(text, entries):
    assert ids_from_csv(SimpleUploadedFile("customers.csv", text.encode())) == entries


def test_a_csv_of_customer_names_moves_its_first_customer_too(pricing_client):
    source, target = two_packages()
    bulk_cohort(source, 3)
    named = [customer_create(name=name) for name in ("Globex Inc", "Initech")]
    for customer in named:
        contract_provision(customer=customer, package=source, starting_at=T0)
    upload = SimpleUploadedFile("customers.csv", b"Globex Inc\nInitech\n")
    html = pricing_client.post(
        reverse("contracts:migration-new"),
        wizard_post(source, target, name=None, customer_file=upload),
    ).content.decode()
    resolved = re.search(r'<div id="resolved-customer_ids".*?</div>', html, re.S)[0]
    assert "Resolved: 2 customers" in resolved
    assert "Globex Inc" in resolved and "Initech" in resolved
    assert re.search(r'data-count="eligible">2<', html)
    # the field says what it takes
    assert "or a CSV file of these customers" in html
    assert "CSV file of customer ids" not in html
