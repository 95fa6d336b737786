"""The browser pages for a package and its cohort (htmx partials, keyset "Load more")."""

import datetime as dt

import pytest

from contracts_app.services.provisioning import contract_provision
from packages_app.services.aliases import alias_assign
from tests.contracts_app import contract_builders as build
from tests.contracts_app.contract_builders import eight_terms
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
JAN = dt.datetime(2027, 1, 31, tzinfo=dt.UTC)


@pytest.fixture
def package_with_cohort():
    package = build.make_package(name="Starter Plan v1", terms=eight_terms(build.make_product()))
    alias_assign(kind="package", name="Starter Plan", package=package, starting_at=JAN)
    for i in range(60):
        contract_provision(
            customer=build.make_customer(f"Customer {i:02d}"), starting_at=JAN, package=package
        )
    return package


def test_cohort_pages_with_load_more_until_every_contract_was_shown(
    pricing_client, package_with_cohort, django_assert_max_num_queries
):
    url = f"/packages/{package_with_cohort.id}/cohort/?starting_at=2027-01-01"
    with django_assert_max_num_queries(8):
        first = pricing_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert first.count("Customer ") == 50 and "Load more" in first
    after = first.split("after=")[1].split('"')[0]
    rest = pricing_client.get(f"{url}&after={after}", HTTP_HX_REQUEST="true").content.decode()
    assert rest.count("Customer ") == 10 and "Load more" not in rest
    assert "<html" not in rest  # the htmx branch renders only the rows partial


def test_cohort_page_works_without_htmx_and_needs_permission(client, package_with_cohort):
    url = f"/packages/{package_with_cohort.id}/cohort/"
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(UserFactory(username="nobody"))
    assert client.get(url).status_code == 403
    client.force_login(UserFactory(username="boss", is_superuser=True))
    page = client.get(url)
    assert page.status_code == 200 and "<html" in page.content.decode()
