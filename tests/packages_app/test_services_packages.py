"""packages_app.services.packages called directly: storage form, atomicity, archive."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from config.core.errors import Conflict, ValidationFailed
from packages_app.models import AliasAssignment, Package, PackageTerm
from packages_app.services.packages import package_archive, package_create, packages_archive
from tests.builders.catalog import eight_terms

pytestmark = pytest.mark.django_db


def terms(catalog) -> dict:
    return eight_terms(
        str(catalog.rate_card.id),
        str(catalog.commit_product.id),
        str(catalog.usage_product.id),
        str(catalog.subscription_product.id),
    )


def test_terms_land_in_one_row_each_with_kind_ordinal_and_product(catalog):
    package = package_create(created_by="svc", name="P", **terms(catalog))

    rows = list(PackageTerm.objects.filter(package=package).order_by("kind", "ordinal"))
    assert [(row.kind, row.ordinal) for row in rows] == [
        ("commit", 0),
        ("commit", 1),
        ("credit", 0),
        ("override", 0),
        ("recurring_commit", 0),
        ("recurring_credit", 0),
        ("scheduled_charge", 0),
        ("subscription", 0),
    ]
    assert {row.kind: row.product_id for row in rows}["override"] is None
    assert {row.kind: row.product_id for row in rows}["subscription"] == (
        catalog.subscription_product.id
    )
    assert all(str(row.id) == row.body["id"] for row in rows)


def test_amounts_stay_exact_decimals_in_storage(catalog):
    body = terms(catalog)
    body["commits"][0]["access_schedule"]["schedule_items"][0]["amount"] = Decimal(
        "0.100000000000000000001"
    )
    package = package_create(created_by="svc", name="P", **body)

    commit = PackageTerm.objects.get(package=package, kind="commit", ordinal=0)
    amount = commit.body["access_schedule"]["schedule_items"][0]["amount"]
    assert amount == Decimal("0.100000000000000000001")


def test_defaults_are_stored_when_not_sent():
    package = package_create(created_by="svc", name="P")
    package.refresh_from_db()
    assert package.settings == {
        "usage_statement_schedule": {"frequency": "MONTHLY", "day": "FIRST_OF_MONTH"}
    }
    assert package.created_by == "svc" and package.uniqueness_key is None


def test_conflict_on_reused_key_leaves_the_first_package_alone(catalog):
    first = package_create(created_by="svc", name="one", uniqueness_key="k")
    with pytest.raises(Conflict):
        package_create(
            created_by="svc",
            name="two",
            uniqueness_key="k",
            aliases=[{"name": "x"}],
            **terms(catalog),
        )
    assert list(Package.objects.all()) == [first]
    assert not PackageTerm.objects.exists() and not AliasAssignment.objects.exists()


def test_failing_alias_rolls_the_whole_package_back(catalog):
    # given: an alias window that ends before it starts (caught only by the alias service)
    start = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    aliases = [{"name": "ok", "starting_at": start}, {"name": "bad", "ending_before": start}]

    # when
    with pytest.raises(ValidationFailed) as caught:
        package_create(created_by="svc", name="P", aliases=aliases, **terms(catalog))

    # then
    assert caught.value.field == "aliases[1].ending_before"
    assert not Package.objects.exists()
    assert not PackageTerm.objects.exists() and not AliasAssignment.objects.exists()


def test_archive_sets_the_time_once():
    package = package_create(created_by="svc", name="P")
    first = package_archive(package=package).archived_at
    again = package_archive(package=Package.objects.get(id=package.id)).archived_at
    assert first is not None and again == first


def test_bulk_archive_counts_only_newly_archived():
    packages = [package_create(created_by="svc", name=f"P{i}") for i in range(3)]
    package_archive(package=packages[0])
    assert packages_archive(packages=Package.objects.all()) == 2
    assert Package.objects.not_archived().count() == 0
