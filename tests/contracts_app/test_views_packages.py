"""The package builder, its live preview, new versions, the package page and archiving."""

import datetime as dt
import re

import pytest

from config.audit.models import AuditLogEntry
from contracts_app.models import ContractTerm
from contracts_app.presenters import package_diff_words
from contracts_app.selectors.contracts import credit_type_names
from contracts_app.services.provisioning import contract_provision
from packages_app.models import AliasAssignment, Package
from packages_app.selectors.package_diff import package_diff, package_diff_names
from packages_app.services.aliases import alias_assign
from tests.contracts_app import contract_builders as build
from tests.contracts_app.contract_builders import eight_terms, recurring_term, subscription_term
from tests.factories import assert_page_needs_login_and

pytestmark = pytest.mark.django_db
JAN31 = dt.datetime(2027, 1, 31, tzinfo=dt.UTC)


@pytest.fixture
def catalog():
    return {
        "card": build.make_rate_card("Standard"),
        "tokens": build.make_product("Input tokens", "USAGE"),
        "seat": build.make_product("Seat", "SUBSCRIPTION"),
    }


def builder_post(catalog, **overrides) -> dict:
    """The builder's POST for a 12-month package with a monthly $10 credit for 3 months and
    a subscription, as the browser sends it."""
    data = {
        "name": "Growth v1",
        "rate_card": str(catalog["card"].id),
        "duration_value": "12",
        "duration_unit": "MONTHS",
        "usage_frequency": "MONTHLY",
        "usage_day": "FIRST_OF_MONTH",
        "uniqueness_key": "ui-test-key",
        "aliases-TOTAL_FORMS": "1",
        "aliases-INITIAL_FORMS": "0",
        "aliases-0-name": "Growth",
        "recurring_credits-TOTAL_FORMS": "1",
        "recurring_credits-INITIAL_FORMS": "0",
        "recurring_credits-0-product": str(catalog["tokens"].id),
        "recurring_credits-0-unit_price": "1000",
        "recurring_credits-0-quantity": "1",
        "recurring_credits-0-frequency": "MONTHLY",
        "recurring_credits-0-start_value": "0",
        "recurring_credits-0-start_unit": "MONTHS",
        "recurring_credits-0-length_value": "3",
        "recurring_credits-0-length_unit": "MONTHS",
        "recurring_credits-0-periods_valid": "1",
        "recurring_credits-0-priority": "1",
        "subscriptions-TOTAL_FORMS": "1",
        "subscriptions-INITIAL_FORMS": "0",
        "subscriptions-0-product": str(catalog["seat"].id),
        "subscriptions-0-billing_frequency": "MONTHLY",
        "subscriptions-0-collection_schedule": "ADVANCE",
        "subscriptions-0-initial_quantity": "1",
        "subscriptions-0-is_prorated": "on",
        "_action": "save",
    }
    for key in (
        "recurring_commits",
        "credits",
        "commits",
        "scheduled_charges",
        "overrides",
    ):
        data[f"{key}-TOTAL_FORMS"] = "0"
        data[f"{key}-INITIAL_FORMS"] = "0"
    data.update(overrides)
    return data


def test_builder_page_renders_every_term_kind_adder_with_a_fixed_query_count(
    pricing_client, catalog, django_assert_max_num_queries
):
    # session, user, rate-card aliases, rate cards, products
    with django_assert_max_num_queries(5):
        response = pricing_client.get("/packages/new/")
    html = response.content.decode()
    assert response.status_code == 200
    for kind in (
        "recurring_credits",
        "recurring_commits",
        "credits",
        "commits",
        "subscriptions",
        "scheduled_charges",
        "overrides",
    ):
        assert f'value="add:{kind}"' in html
    assert 'name="uniqueness_key"' in html and 'value="ui-' in html
    assert 'hx-post="/packages/new/preview/"' in html


def test_add_a_row_returns_only_the_fields_partial_with_defaults(pricing_client, catalog):
    data = builder_post(catalog, _action="add:recurring_credits")
    response = pricing_client.post("/packages/new/", data, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="builder-fields">')
    assert "<html" not in html
    assert 'id="id_recurring_credits-1-product"' in html
    assert re.search(r'name="recurring_credits-1-priority"[^>]*value="1"', html)
    assert "builderChanged" in response["HX-Trigger-After-Settle"]
    assert Package.objects.count() == 0


def test_remove_a_row_ticks_its_delete_box_and_hides_it(pricing_client, catalog):
    data = builder_post(catalog, _action="remove:subscriptions-0")
    html = pricing_client.post("/packages/new/", data, HTTP_HX_REQUEST="true").content.decode()
    assert re.search(r'class="term-row kind-subscriptions" hidden id="subscriptions-0"', html)
    assert 'name="subscriptions-0-DELETE" value="True"' in html


def test_save_creates_the_package_through_the_api_service_and_a_double_submit_makes_one(
    pricing_client, catalog
):
    data = builder_post(catalog)
    first = pricing_client.post("/packages/new/", data)
    second = pricing_client.post("/packages/new/", data)
    package = Package.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/packages/{package.id}/"
    assert package.name == "Growth v1" and package.duration_value == 12
    kinds = sorted(term.kind for term in package.terms.all())
    assert kinds == ["recurring_credit", "subscription"]
    credit = package.terms.get(kind="recurring_credit").body
    assert credit["access_amount"]["unit_price"] == 1000
    assert credit["duration"] == {"unit": "MONTHS", "value": 3}
    assert AliasAssignment.objects.get().package_id == package.id


def test_service_errors_appear_beside_the_input_their_path_names(pricing_client, catalog):
    # No quantity: the API's serializer refuses `recurring_credits[0].access_amount.quantity`.
    data = builder_post(catalog, **{"recurring_credits-0-quantity": ""})
    response = pricing_client.post("/packages/new/", data)
    html = response.content.decode()
    assert response.status_code == 200
    assert Package.objects.count() == 0
    quantity = re.search(
        r'id="id_recurring_credits-0-quantity"[^>]*>\s*<span class="error"[^>]*>([^<]+)<', html
    )
    assert quantity and "subscription_config" in quantity.group(1)


def test_an_unknown_product_is_named_on_its_row(pricing_client, catalog):
    data = builder_post(catalog, **{"subscriptions-0-product": str(catalog["card"].id)})
    html = pricing_client.post("/packages/new/", data).content.decode()
    assert Package.objects.count() == 0
    error = re.search(
        r'id="id_subscriptions-0-product"[^>]*>.*?</select>\s*<span class="error"[^>]*>([^<]+)<',
        html,
        re.S,
    )
    assert error and "not found" in error.group(1)


def test_preview_materialises_with_the_provisioning_code_and_writes_nothing(
    pricing_client, catalog, django_assert_max_num_queries
):
    data = builder_post(catalog, preview_start="2027-01-31")
    response = pricing_client.post("/packages/new/preview/", data, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert Package.objects.count() == 0 and AliasAssignment.objects.count() == 0
    assert AuditLogEntry.objects.count() == 0  # the audit trail saw nothing either
    assert "2027-01-31 → 2028-01-31" in html
    periods = re.findall(r"<td>period (\d)</td><td>([\d-]+)</td><td>([\d-]+)</td>", html)
    assert periods == [
        ("1", "2027-01-31", "2027-02-28"),
        ("2", "2027-02-28", "2027-03-31"),
        ("3", "2027-03-31", "2027-04-30"),
    ]
    assert '<svg role="img"' in html
    # The same dates as the contract provisioning then writes.
    pricing_client.post("/packages/new/", builder_post(catalog))
    contract = contract_provision(
        customer=build.make_customer(), starting_at=JAN31, package=Package.objects.get()
    )
    generated = ContractTerm.objects.filter(contract=contract, generated_from__isnull=False)
    assert sorted(
        (t.starting_at.date().isoformat(), t.ending_before.date().isoformat()) for t in generated
    ) == [(start, end) for _, start, end in periods]
    # Whatever the rows: the form's choices (5), then inside a transaction that is rolled back
    # the create's own checks and inserts, a stand-in customer, the provisioning's writes (and
    # their audit entries and webhook events, rolled back with them) and the contract read
    # back; credit type names (savepoints count: the test runs in one); the subscriptions'
    # rates on the card (the no-price warning, 1); the forecast beside it (issue 21): the rate
    # card's rates and the credit types' names (2).
    data.update(
        {
            "recurring_credits-TOTAL_FORMS": "3",
            **{
                f"recurring_credits-{i}-{k}": data[f"recurring_credits-0-{k}"]
                for i in (1, 2)
                for k in (
                    "product",
                    "unit_price",
                    "quantity",
                    "frequency",
                    "start_value",
                    "start_unit",
                    "length_value",
                    "length_unit",
                    "periods_valid",
                    "priority",
                )
            },
        }
    )
    with django_assert_max_num_queries(35):
        response = pricing_client.post("/packages/new/preview/", data, HTTP_HX_REQUEST="true")
    assert response.content.decode().count("<td>period 3</td>") == 3


def test_preview_of_an_invalid_form_lists_what_to_fix_with_200(pricing_client, catalog):
    data = builder_post(catalog, name="")
    response = pricing_client.post("/packages/new/preview/", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "to see the preview" in response.content.decode()


def test_new_version_is_prefilled_takes_over_the_alias_and_shows_the_diff(pricing_client, catalog):
    tokens = catalog["tokens"]
    source = build.make_package(
        name="Starter v1",
        rate_card=catalog["card"],
        terms=[recurring_term(tokens), subscription_term(catalog["seat"])],
    )
    alias_assign(kind="package", name="Starter", package=source, starting_at=JAN31)
    page = pricing_client.get(f"/packages/{source.id}/new-version/").content.decode()
    assert 'value="Starter v1 (new version)"' in page
    assert 'name="recurring_credits-TOTAL_FORMS" value="1"' in page

    data = builder_post(catalog, name="Starter v2", **{"aliases-0-name": ""})
    preview = pricing_client.post(
        f"/packages/{source.id}/new-version/preview/", data, HTTP_HX_REQUEST="true"
    ).content.decode()
    # the same kinds on the same products, other amounts: changed, not added and removed
    assert 'class="changed"' in preview and "changes:" in preview

    data["version-take_over_aliases_from"] = "2027-06-01T00:00"
    response = pricing_client.post(f"/packages/{source.id}/new-version/", data)
    new = Package.objects.get(name="Starter v2")
    assert response["Location"] == f"/packages/{new.id}/"
    schedule = list(
        AliasAssignment.objects.in_force()
        .filter(alias_name__name="Starter")
        .order_by("starting_at")
        .values_list("package_id", "starting_at", "ending_before")
    )
    june = dt.datetime(2027, 6, 1, tzinfo=dt.UTC)
    assert schedule == [(source.id, JAN31, june), (new.id, june, None)]


def test_the_new_version_preview_shows_the_migration_previews_diff(pricing_client, catalog):
    # given a saved version, and a new one built on the page with other amounts
    source = build.make_package(
        name="Starter v1",
        rate_card=catalog["card"],
        terms=[recurring_term(catalog["tokens"]), subscription_term(catalog["seat"])],
    )
    data = builder_post(catalog, name="Starter v2", **{"aliases-0-name": ""})
    # when the page previews it, then saves it
    shown = pricing_client.post(
        f"/packages/{source.id}/new-version/preview/", data, HTTP_HX_REQUEST="true"
    ).context["diff"]
    pricing_client.post(f"/packages/{source.id}/new-version/", data)
    # then the page showed what a migration between the two versions shows
    new = Package.objects.get(name="Starter v2")
    diff = package_diff(source=source, target=new)
    assert shown == package_diff_words(
        diff, **package_diff_names(diff), credit_type_names=credit_type_names()
    )
    assert shown["changed"]


def test_package_page_words_timelines_and_cohort_in_constant_queries(
    pricing_client, django_assert_max_num_queries
):
    product = build.make_product("Input tokens", "USAGE")
    package = build.make_package(name="Starter Plan v1", terms=eight_terms(product))
    alias_assign(kind="package", name="Starter Plan", package=package, starting_at=JAN31)
    for i in range(5):
        contract_provision(
            customer=build.make_customer(f"C{i}"), starting_at=JAN31, package=package
        )
    # session, user, package, terms, aliases, credit types, alias schedule, cohort counts
    # + the cohort chart: its sizes (one query) and the migrations it marks
    with django_assert_max_num_queries(11):
        response = pricing_client.get(f"/packages/{package.id}/?start=2027-01-31")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Starter Plan" in html and "scheduled from 2027-01-31" in html  # not "in force"
    assert 'data-count="cohort-now">' in html
    assert html.count('class="tl-bar') > 8
    assert "2027-01-31" in html
    partial = pricing_client.get(
        f"/packages/{package.id}/?start=2027-02-28",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="package-preview",
    ).content.decode()
    assert partial.lstrip().startswith('<div id="package-preview">') and "2027-02-28" in partial


def test_archive_asks_first_naming_the_consequences(pricing_client):
    package = build.make_package(name="Old plan")
    alias_assign(kind="package", name="Old", package=package, starting_at=JAN31)
    contract_provision(
        customer=build.make_customer(),
        starting_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        package=package,
    )
    page = pricing_client.get(f"/packages/{package.id}/archive/").content.decode()
    assert "cannot be undone" in page and "<strong>1</strong>" in page and "“Old”" in page
    package.refresh_from_db()
    assert package.archived_at is None
    pricing_client.post(f"/packages/{package.id}/archive/")
    package.refresh_from_db()
    assert package.archived_at is not None


@pytest.mark.parametrize(
    ("url", "permission"),
    [
        ("/packages/new/", "add_package"),
        ("/packages/{id}/", "view_package"),
        ("/packages/{id}/new-version/", "add_package"),
        ("/packages/{id}/archive/", "change_package"),
    ],
)
def test_pages_need_login_and_their_permission(client, url, permission):
    package = build.make_package(name="P")
    url = url.format(id=package.id)
    assert_page_needs_login_and(client, url, permission)


def test_new_version_says_what_the_builder_cannot_carry_over(pricing_client):
    package = build.make_package(
        name="Rich", terms=eight_terms(build.make_product("Tokens", "USAGE"))
    )
    html = pricing_client.get(f"/packages/{package.id}/new-version/").content.decode()
    assert "not carried into the new version" in html and "spend tracker" in html
