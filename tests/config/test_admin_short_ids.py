"""Admin changelists show UUID columns as their first 8 characters with the whole id in a
title (config/admin.py ShortIdsAdminMixin): 36-character ids pushed the other columns off a
1400 px screen (the browser check: tests/browser/test_admin_widths.py). The first column still
links to the object, ids still sort, and search still takes a whole id."""

import re

import pytest
from django.urls import reverse

from contracts_app.models import CohortMigrationItem, Contract
from tests.builders.migrations import create_migration
from tests.contracts_app.cohort_builders import cohort, run_to_end, two_packages
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    return client


def _cells(html: str) -> str:
    """The changelist's rows, without the search box and filters."""
    return re.search(r'<table id="result_list">.*?</table>', html, re.S)[0]


def _shown(text: str) -> str:
    return re.sub(r"<[^>]+>", " ", text)


@pytest.fixture
def moved():
    source, target = two_packages()
    cohort(source, 3)
    migration = create_migration(source, target, name="v1 → v2")
    run_to_end(migration)
    return migration


@pytest.mark.parametrize(
    "changelist",
    [
        "admin:contracts_app_contract_changelist",
        "admin:contracts_app_cohortmigration_changelist",
        "admin:contracts_app_cohortmigrationitem_changelist",
        "admin:contracts_app_customer_changelist",
        "admin:contracts_app_subscription_changelist",
        "admin:packages_app_package_changelist",
        "admin:packages_app_credittype_changelist",
        "admin:audit_auditlogentry_changelist",
    ],
)
def test_changelists_show_short_ids_with_the_whole_id_in_a_title(admin_client, moved, changelist):
    html = admin_client.get(reverse(changelist)).content.decode()
    rows = _cells(html)
    # no whole UUID is read in a cell; each is 8 characters and "…", the whole in the title
    assert not re.search(UUID, _shown(rows)), re.search(UUID, _shown(rows)).group()
    short = re.findall(rf'<span class="short-id" title="({UUID})">([0-9a-f]{{8}})…</span>', rows)
    assert short and all(whole.startswith(head) for whole, head in short)


def test_the_short_id_column_links_sorts_and_searches(admin_client, moved):
    contract = Contract.objects.filter(package=moved.target_package).first()
    url = reverse("admin:contracts_app_contract_changelist")
    html = admin_client.get(url, {"q": str(contract.id)}).content.decode()
    change = reverse("admin:contracts_app_contract_change", args=[contract.id])
    assert re.search(
        rf'<a href="{change}[^"]*"><span class="short-id" title="{contract.id}">', _cells(html)
    )
    # the id columns of the items sort (their headers are sort links), by the whole id
    items = reverse("admin:contracts_app_cohortmigrationitem_changelist")
    html = admin_client.get(items).content.decode()
    assert 'class="sortable column-contract_id_short"' in html
    page = admin_client.get(items, {"o": "-2"})  # 0 id, 1 migration, 2 contract: descending
    last = CohortMigrationItem.objects.order_by("-contract_id").first()
    shown = re.findall(rf'title="({UUID})"', _cells(page.content.decode()))
    assert shown[1] == str(last.contract_id)  # (after its migration's id)
