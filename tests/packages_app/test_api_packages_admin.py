"""Package and alias-name admin: read-only, archive action, fixed queries per changelist page."""

from __future__ import annotations

import datetime as dt

import pytest

from packages_app.models import AliasName, Package
from packages_app.services.packages import package_create
from tests.builders.catalog import eight_terms_on
from tests.builders.queries import queries_of_get
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
T1 = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def create_eight_term_package(catalog, name: str, **fields) -> Package:
    """Through package_create (audit, aliases and all), unlike the contract builders' make_package."""
    terms = eight_terms_on(catalog)
    return package_create(created_by="admin-test", name=name, **{**terms, **fields})


@pytest.mark.parametrize(
    ("url", "alias_names", "starting_at", "listed"),
    [
        ("/admin/packages_app/package/", 15, T0, "p14"),
        ("/admin/packages_app/aliasname/", 4, T1, "a3"),
    ],
    ids=["package-changelist", "alias-name-changelist-names-reassigned"],
)
def test_changelist_costs_the_same_for_one_row_or_many(
    admin_client, catalog, url, alias_names, starting_at, listed
):
    create_eight_term_package(catalog, "first", aliases=[{"name": "a", "starting_at": T0}])
    one = queries_of_get(admin_client, url)
    for index in range(15):
        aliases = [{"name": f"a{index % alias_names}", "starting_at": starting_at}]
        create_eight_term_package(catalog, f"p{index}", aliases=aliases)
    many = queries_of_get(admin_client, url)
    assert one == many
    assert listed in admin_client.get(url).content.decode()


def test_package_page_is_read_only_with_terms_and_aliases_inline(admin_client, catalog):
    # given
    package = create_eight_term_package(
        catalog, "Starter", aliases=[{"name": "starter", "starting_at": T0}]
    )

    # when
    page = admin_client.get(f"/admin/packages_app/package/{package.id}/change/")

    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert "Recurring Commit" in html and "starter" in html
    assert 'name="_save"' not in html  # nothing to save: immutable
    assert admin_client.get("/admin/packages_app/package/add/").status_code == 403
    delete = admin_client.post(f"/admin/packages_app/package/{package.id}/delete/")
    assert delete.status_code == 403
    assert Package.objects.filter(id=package.id).exists()


def test_archive_action_archives_selected_packages_once(admin_client, catalog):
    # given
    keep, old, older = (
        create_eight_term_package(catalog, name) for name in ("keep", "old", "older")
    )

    # when
    response = admin_client.post(
        "/admin/packages_app/package/",
        {"action": "archive_selected", "_selected_action": [str(old.id), str(older.id)]},
        follow=True,
    )

    # then
    assert response.status_code == 200
    assert "Archived 2 packages." in response.content.decode()
    archived = set(Package.objects.archived().values_list("name", flat=True))
    assert archived == {"old", "older"}
    keep.refresh_from_db()
    assert keep.archived_at is None


def test_archive_action_needs_the_change_permission(client, catalog):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_package"))
    client.force_login(viewer)
    package = create_eight_term_package(catalog, "p")

    page = client.get("/admin/packages_app/package/")
    assert page.status_code == 200
    assert "archive_selected" not in page.content.decode()
    client.post(
        "/admin/packages_app/package/",
        {"action": "archive_selected", "_selected_action": [str(package.id)]},
    )
    package.refresh_from_db()
    assert package.archived_at is None


def test_search_and_filters(admin_client, catalog):
    create_eight_term_package(
        catalog, "Alpha", uniqueness_key="key-alpha", billing_provider="stripe"
    )
    beta = create_eight_term_package(catalog, "Beta")
    Package.objects.filter(id=beta.id).update(archived_at=T1)
    url = "/admin/packages_app/package/"

    def names(query: str) -> set[str]:
        response = admin_client.get(f"{url}?{query}")
        assert response.status_code == 200
        return {p.name for p in response.context["cl"].result_list}

    assert names("q=key-alpha") == {"Alpha"}
    assert names(f"q={str(beta.id)[:8]}") == {"Beta"}
    assert names("q=alp") == {"Alpha"}
    assert names("archived=yes") == {"Beta"}
    assert names("archived=no") == {"Alpha"}
    assert names("billing_provider=stripe") == {"Alpha"}


def test_alias_name_page_shows_superseded_intervals(admin_client, catalog):
    # given: the second package covers the first one's whole interval
    first = create_eight_term_package(catalog, "first", aliases=[{"name": "s", "starting_at": T1}])
    create_eight_term_package(catalog, "second", aliases=[{"name": "s", "starting_at": T0}])
    alias_name = AliasName.objects.get(name="s")

    # when
    html = admin_client.get(f"/admin/packages_app/aliasname/{alias_name.id}/change/").content

    # then: both intervals listed, the superseded one with its timestamp
    text = html.decode()
    assert "first" in text and "second" in text
    assert alias_name.assignments.filter(package=first, superseded_at__isnull=False).exists()
