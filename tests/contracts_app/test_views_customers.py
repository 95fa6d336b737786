"""Customer pages: search, create, billing configurations, provisioning (previewed, then
confirmed once), schedule changes, and the contract page."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Permission

from config.audit.models import AuditLogEntry
from contracts_app.models import BillingProviderConfiguration, Contract, Customer
from contracts_app.services.provisioning import contract_provision
from packages_app.services.aliases import alias_assign
from tests.contracts_app import contract_builders as build
from tests.contracts_app.contract_builders import recurring_term, subscription_term
from tests.factories import UserFactory, assert_page_needs_login_and

pytestmark = pytest.mark.django_db
JAN31 = dt.datetime(2027, 1, 31, tzinfo=dt.UTC)


@pytest.fixture
def starter():
    tokens = build.make_product("Input tokens", "USAGE")
    package = build.make_package(
        name="Starter v1",
        terms=[
            recurring_term(tokens),
            subscription_term(build.make_product("Seat", "SUBSCRIPTION")),
        ],
    )
    alias_assign(kind="package", name="Starter", package=package, starting_at=JAN31)
    return package


def test_customer_list_searches_name_external_id_and_ingest_alias(
    pricing_client, django_assert_max_num_queries
):
    build.make_customer("Acme Corp", external_id="acme-1", ingest_aliases=["acme@example.com"])
    build.make_customer("Globex")
    for query, expected in (("acme", 1), ("acme-1", 1), ("acme@example.com", 1), ("zzz", 0)):
        with django_assert_max_num_queries(5):  # + the package filter's choices
            html = pricing_client.get("/customers/", {"q": query}).content.decode()
        assert html.count("/customers/") - html.count('href="/customers/new/"') >= expected
        assert ("Acme Corp" in html) == bool(expected)
    assert "Nothing matches" in pricing_client.get("/customers/?q=zzz").content.decode()
    partial = pricing_client.get("/customers/?q=glob", HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="object-table">') and "Globex" in partial


def test_customer_list_paginates(pricing_client):
    Customer.objects.bulk_create([Customer(name=f"C{i:03d}") for i in range(120)])
    html = pricing_client.get("/customers/?page=3").content.decode()
    assert "Page 3 of 3" in html and "← Previous" in html


def test_create_customer_through_the_api_service_with_errors_on_the_inputs(pricing_client):
    build.make_customer("Taken", external_id="dup")
    response = pricing_client.post("/customers/new/", {"name": "New", "external_id": "dup"})
    html = response.content.decode()
    assert response.status_code == 200 and Customer.objects.count() == 1
    assert re.search(r'id="id_external_id"[^>]*>\s*<span class="error"', html)
    response = pricing_client.post(
        "/customers/new/", {"name": "New", "ingest_aliases": "a@x.io, b@x.io"}
    )
    customer = Customer.objects.get(name="New")
    assert response["Location"] == f"/customers/{customer.id}/"
    assert customer.ingest_aliases == ["a@x.io", "b@x.io"]


def test_customer_page_in_constant_queries(pricing_client, starter, django_assert_max_num_queries):
    customer = build.make_customer()
    build.make_billing_configuration(customer, configuration={"stripe_customer_id": "cus_1"})

    def count():
        with django_assert_max_num_queries(10) as captured:
            response = pricing_client.get(f"/customers/{customer.id}/")
        assert response.status_code == 200
        return len(captured)

    empty = count()
    for month in range(1, 4):
        contract_provision(
            customer=customer,
            starting_at=dt.datetime(2027, month, 1, tzinfo=dt.UTC),
            ending_before=dt.datetime(2027, month + 1, 1, tzinfo=dt.UTC),
            package=starter,
        )
    assert count() == empty
    html = pricing_client.get(f"/customers/{customer.id}/").content.decode()
    assert "stripe_customer_id: cus_1" in html and html.count('class="tl-bar') >= 3


def test_provision_preview_writes_nothing_then_confirm_creates_one_contract(
    pricing_client, starter
):
    customer = build.make_customer()
    data = {
        "package_alias": "Starter",
        "starting_at": "2027-01-31",
        "uniqueness_key": "ui-provision-1",
        "_action": "preview",
    }
    url = f"/customers/{customer.id}/provision/"
    preview = pricing_client.post(url, data, HTTP_HX_REQUEST="true").content.decode()
    assert Contract.objects.count() == 0
    assert preview.lstrip().startswith('<form id="provision-form"')
    assert "Starter v1" in preview and "2027-01-31 → 2027-02-28" in preview.replace(
        "</td><td>", " → "
    )
    data["_action"] = "confirm"
    first = pricing_client.post(url, data)
    second = pricing_client.post(url, data)
    contract = Contract.objects.get()
    assert first["Location"] == second["Location"] == f"/contracts/{contract.id}/"
    assert contract.package_id == starter.id and contract.starting_at == JAN31
    # the browser write is in the audit trail, attributed to its user (the preview is not)
    entries = AuditLogEntry.objects.filter(resource_type="contract")
    assert [(e.resource_id, e.actor_user.username) for e in entries] == [
        (str(contract.id), "pricing")
    ]


def test_provision_errors_name_the_input(pricing_client, starter):
    starter.billing_provider = "stripe"
    starter.save()
    customer = build.make_customer()
    html = pricing_client.post(
        f"/customers/{customer.id}/provision/",
        {"package": str(starter.id), "starting_at": "2027-01-31", "_action": "preview"},
    ).content.decode()
    assert "no active billing provider configuration" in html
    html = pricing_client.post(
        f"/customers/{customer.id}/provision/",
        {"package_alias": "Starter", "starting_at": "2020-01-01", "_action": "preview"},
    ).content.decode()
    assert re.search(r'id="id_package_alias"[^>]*>.*?</select>\s*<span class="error"', html, re.S)
    assert Contract.objects.count() == 0


def test_billing_configuration_add_and_archive(pricing_client):
    customer = build.make_customer()
    url = f"/customers/{customer.id}/billing/"
    pricing_client.post(
        url,
        {
            "billing_provider": "stripe",
            "delivery_method": "direct_to_billing_provider",
            "account_key": "stripe_customer_id",
            "account_value": "cus_9",
        },
    )
    config = BillingProviderConfiguration.objects.get()
    assert config.configuration == {"stripe_customer_id": "cus_9"}
    # the same again is refused by the service, shown on the form
    html = pricing_client.post(
        url,
        {
            "billing_provider": "stripe",
            "delivery_method": "direct_to_billing_provider",
            "account_key": "stripe_customer_id",
            "account_value": "cus_9",
        },
    ).content.decode()
    assert BillingProviderConfiguration.objects.count() == 1 and 'class="error' in html
    pricing_client.post(f"/customers/{customer.id}/billing/{config.id}/archive/")
    config.refresh_from_db()
    assert config.archived_at is not None


def test_schedule_a_change_ends_the_current_contract_and_starts_the_next(pricing_client, starter):
    customer = build.make_customer()
    current = contract_provision(customer=customer, starting_at=JAN31, package=starter)
    v2 = build.make_package(name="Starter v2")
    data = {
        "subscription": str(current.subscription_id),
        "package": str(v2.id),
        "starting_at": "2027-06-01",
        "_action": "preview",
    }
    url = f"/customers/{customer.id}/schedule-change/"
    preview = pricing_client.post(url, data, HTTP_HX_REQUEST="true").content.decode()
    current.refresh_from_db()
    assert current.ending_before is None and Contract.objects.count() == 1
    assert "Next contract: Starter v2" in preview
    data["_action"] = "confirm"
    pricing_client.post(url, data)
    pricing_client.post(url, data)
    current.refresh_from_db()
    june = dt.datetime(2027, 6, 1, tzinfo=dt.UTC)
    assert current.ending_before == june
    following = Contract.objects.get(package=v2)
    assert following.starting_at == june and following.subscription_id == current.subscription_id


def test_contract_page_shows_terms_with_absolute_dates(
    pricing_client, starter, django_assert_max_num_queries
):
    contract = contract_provision(
        customer=build.make_customer(), starting_at=JAN31, package=starter
    )
    # + the edit history page and the edit forms' product choices (test_contract_edit_pages)
    with django_assert_max_num_queries(8):
        response = pricing_client.get(f"/contracts/{contract.id}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Starter v1" in html and "first of its subscription" in html
    assert "<td>period 2</td><td>2027-02-28</td><td>2027-03-31</td>" in html


def test_dashboard_shows_counts_upcoming_alias_changes_and_recent_work(
    pricing_client, starter, django_assert_max_num_queries
):
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
    alias_assign(
        kind="package", name="Starter", package=build.make_package(name="v2"), starting_at=soon
    )
    contract_provision(customer=build.make_customer("Initech"), starting_at=JAN31, package=starter)
    with django_assert_max_num_queries(10):  # + migrations running or scheduled
        html = pricing_client.get("/").content.decode()
    assert "Initech" in html and "Starter v1" in html and soon.strftime("%Y-%m-%d") in html


@pytest.mark.parametrize(
    ("url", "permission"),
    [
        ("/customers/", "view_customer"),
        ("/customers/new/", "add_customer"),
        ("/customers/{customer}/", "view_customer"),
        ("/contracts/{contract}/", "view_contract"),
    ],
)
def test_pages_need_login_and_their_permission(client, starter, url, permission):
    customer = build.make_customer()
    contract = contract_provision(customer=customer, starting_at=JAN31, package=starter)
    url = url.format(customer=customer.id, contract=contract.id)
    assert_page_needs_login_and(client, url, permission)


def test_provisioning_needs_add_contract(client, starter):
    customer = build.make_customer()
    user = UserFactory(username="viewer")
    user.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client.force_login(user)
    assert 'id="provision-form"' not in client.get(f"/customers/{customer.id}/").content.decode()
    response = client.post(
        f"/customers/{customer.id}/provision/",
        {"package_alias": "Starter", "starting_at": "2027-01-31", "_action": "confirm"},
    )
    assert response.status_code == 403 and Contract.objects.count() == 0
