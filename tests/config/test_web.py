import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_login_page_renders(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content and b'name="password"' in response.content


def test_home_redirects_anonymous_users_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_logging_in_shows_home_with_real_counts(client, django_assert_max_num_queries):
    from packages_app.models import RateCard

    RateCard.objects.create(name="Standard")
    UserFactory(username="pat")
    response = client.post(
        "/login/", {"username": "pat", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    # session + user, then the dashboard: 4 counts, alias changes, recent packages and contracts,
    # migrations running or scheduled (their progress too when there are any)
    with django_assert_max_num_queries(10):
        home = client.get("/")
    html = home.content.decode()
    assert home.status_code == 200
    assert 'data-count="rate_cards">1<' in html
    for nav in ("Packages", "Rate cards", "Customers", "Migrations", "Log out"):
        assert nav in html


def test_list_pages_need_permission(client):
    user = UserFactory(username="viewer")
    client.force_login(user)
    assert client.get("/packages/").status_code == 403
    user.is_superuser = True
    user.save()
    assert client.get("/packages/").status_code == 200


def test_admin_is_mounted(client):
    assert client.get("/admin/").status_code == 302


def test_favicon_is_served_to_anyone(client):
    from config.draw_favicon import OUTPUT, ico_bytes

    # given a browser that is not logged in asking for the site's icon, as every browser does
    response = client.get("/favicon.ico")
    # then it gets our icon (an ICO holding a 32x32 PNG), not a 404 or the login page
    assert response.status_code == 200
    assert response["Content-Type"] in {"image/x-icon", "image/vnd.microsoft.icon"}
    body = b"".join(response.streaming_content)
    assert body[:4] == b"\x00\x00\x01\x00" and body[22:26] == b"\x89PNG"
    # and the committed file is what config/draw_favicon.py draws
    assert body == OUTPUT.read_bytes() == ico_bytes()


# --- "fragment or full page?" (config.web.htmx_partial) ---------------------------------------
# A boosted link or form navigates: htmx swaps the whole body, so the response must be the whole
# page. Before the toolkit, five of the pages' htmx branches ignored HX-Boosted and sent a
# fragment (a page without its layout).

BOOSTED = {"HTTP_HX_REQUEST": "true", "HTTP_HX_BOOSTED": "true"}
FRAGMENT = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def world(client):
    from contracts_app.services.provisioning import contract_provision
    from tests.contracts_app.contract_builders import (
        at,
        credit_term,
        make_customer,
        make_package,
        make_product,
        make_rate_card,
    )

    client.force_login(UserFactory(username="pricing", is_superuser=True))
    tokens = make_product("Input tokens", "USAGE")
    package = make_package(name="Starter v1", terms=[credit_term(tokens)])
    customer = make_customer("Initech")
    contract = contract_provision(customer=customer, starting_at=at(2027, 1, 1), package=package)
    return {"customer": customer, "contract": contract, "rate_card": make_rate_card()}


def _requests(world):
    customer, contract, card = world["customer"], world["contract"], world["rate_card"]
    return [
        ("post", f"/customers/{customer.id}/provision/", {"_action": "preview"}, None),
        ("post", f"/contracts/{contract.id}/edits/credit/", {}, None),
        ("get", f"/contracts/{contract.id}/edits/", {"after": "x"}, None),
        ("get", f"/rate-cards/{card.id}/", {"at": "2027-01-01"}, "rates-at"),
        ("get", "/aliases/", {"q": "x"}, "alias-table"),
        ("get", "/products/", {"q": "x"}, "catalog-table"),
        # a grouped transaction expanded in place on /activity/ (its rows only, for htmx)
        ("get", "/activity/", {"xact": "1"}, "group-1"),
    ]


CASES = ["provision", "contract edit", "edit history", "rates at", "aliases", "products"]
CASES += ["activity group"]


@pytest.mark.parametrize(
    ("kind", "whole_page"),
    [(BOOSTED, True), (FRAGMENT, False)],
    ids=["boosted-gets-the-whole-page", "htmx-gets-the-fragment"],
)
@pytest.mark.parametrize("case", range(len(CASES)), ids=CASES)
def test_boosted_requests_get_the_whole_page_and_htmx_ones_the_fragment(
    client, world, case, kind, whole_page
):
    for method, url, data, target in _requests(world)[case : case + 1]:
        headers = {**kind, **({"HTTP_HX_TARGET": target} if target else {})}
        response = getattr(client, method)(url, data, **headers)
        assert response.status_code == 200, url
        sent = "the whole page" if b"<html" in response.content else "a fragment"
        assert (sent == "the whole page") == whole_page, f"{method} {url} sent {sent}"


def test_more_query_keeps_the_filters_and_the_cursor_and_is_empty_on_the_last_page():
    from config.web import more_query

    params = {"status": "RUNNING", "package": "", "other": "not kept"}
    assert more_query(params, ("status", "package"), "c1") == "status=RUNNING&after=c1"
    assert more_query(params, ("status", "package"), None) == ""


def test_keyset_page_walks_on_and_starts_over_on_a_forged_cursor():
    from config.web import keyset_page
    from packages_app.models import RateCard

    for name in ("a", "b", "c"):
        RateCard.objects.create(name=name)
    cards = RateCard.objects.all()
    first = keyset_page(cards, None, limit=2)
    second = keyset_page(cards, first.next_cursor, limit=2)
    forged = keyset_page(cards, "not-a-cursor", limit=2)
    assert len(first.items) == 2 and len(second.items) == 1 and second.next_cursor is None
    assert [card.pk for card in forged.items] == [card.pk for card in first.items]


def test_a_function_page_asks_for_login_then_for_its_permission(client):
    from django.contrib.auth.models import Permission

    url = "/aliases/1/cohort/chart/"  # page_view("packages_app.view_aliasassignment")
    assert client.get(url)["Location"].startswith("/login/")
    user = UserFactory(username="guest")
    client.force_login(user)
    assert client.get(url).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_aliasassignment"))
    assert client.get(url).status_code == 404  # past both guards: no such alias


# --- convention over configuration (config.web.views) -----------------------------------------
# A page on a model declares only what differs from the names the model gives: the permission
# (view / add / change), the detail page's URL kwarg, context name and template, the list
# template, the create permission and the page a write goes back to.

# Every class page's permission, as each declared it before the toolkit derived them.
PAGE_PERMISSIONS = {
    "contracts:alias-cohort": "contracts_app.view_contract",
    "contracts:contract-detail": "contracts_app.view_contract",
    "contracts:contract-edit": "contracts_app.change_contract",
    "contracts:contract-edit-history": "contracts_app.view_contract",
    "contracts:customer-billing": "contracts_app.add_billingproviderconfiguration",
    "contracts:customer-detail": "contracts_app.view_customer",
    "contracts:customer-list": "contracts_app.view_customer",
    "contracts:customer-new": "contracts_app.add_customer",
    "contracts:customer-provision": "contracts_app.add_contract",
    "contracts:customer-schedule-change": "contracts_app.add_contract",
    "contracts:migration-detail": "contracts_app.view_cohortmigration",
    "contracts:migration-list": "contracts_app.view_cohortmigration",
    "contracts:migration-new": "contracts_app.add_cohortmigration",
    "contracts:package-archive": "packages_app.change_package",
    "contracts:package-builder": "packages_app.add_package",
    "contracts:package-cohort": "contracts_app.view_contract",
    "contracts:package-detail": "packages_app.view_package",
    "contracts:package-new-version": "packages_app.add_package",
    "packages:alias-detail": "packages_app.view_aliasassignment",
    "packages:alias-schedule": "packages_app.add_aliasassignment",
    "packages:billable-metric-archive": "packages_app.change_billablemetric",
    "packages:billable-metric-detail": "packages_app.view_billablemetric",
    "packages:billable-metric-list": "packages_app.view_billablemetric",
    "packages:billable-metric-rename": "packages_app.change_billablemetric",
    "packages:package-list": "packages_app.view_package",
    "packages:product-archive": "packages_app.change_product",
    "packages:product-detail": "packages_app.view_product",
    "packages:product-edit": "packages_app.change_product",
    "packages:product-list": "packages_app.view_product",
    "packages:ratecard-alias-add": "packages_app.change_ratecard",
    "packages:ratecard-detail": "packages_app.view_ratecard",
    "packages:ratecard-list": "packages_app.view_ratecard",
    "packages:ratecard-new": "packages_app.add_ratecard",
    "packages:ratecard-rate-add": "packages_app.add_rate",
    "packages:ratecard-rate-change": "packages_app.add_rate",
    "webhooks:webhook-archive": "webhooks.change_webhookendpoint",
    "webhooks:webhook-detail": "webhooks.view_webhookendpoint",
    "webhooks:webhook-list": "webhooks.view_webhookendpoint",
    "webhooks:webhook-new": "webhooks.add_webhookendpoint",
    "webhooks:webhook-resend": "webhooks.change_webhookendpoint",
    "webhooks:webhook-rotate": "webhooks.change_webhookendpoint",
}


def _class_pages():
    from django.urls import URLResolver, get_resolver

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, inner)
            elif getattr(pattern.callback, "view_class", None) is not None:
                yield f"{namespace}{pattern.name}", pattern.callback

    pages = dict(walk(get_resolver().url_patterns))
    return {name: pages[name] for name in PAGE_PERMISSIONS}


def test_every_class_page_asks_for_the_permission_it_always_did():
    for name, callback in _class_pages().items():
        view = callback.view_class(**callback.view_initkwargs)
        assert view.get_permission_required() == (PAGE_PERMISSIONS[name],), name


def test_the_names_follow_the_model_in_snake_case():
    from config.web.views import model_name, model_permission
    from packages_app.models import AliasName, BillableMetric, RateCard

    assert model_name(RateCard) == "rate_card"
    assert model_name(BillableMetric) == "billable_metric"
    assert model_name(AliasName) == "alias_name"
    assert model_permission(RateCard, "add") == "packages_app.add_ratecard"


def test_a_detail_page_derives_its_kwarg_context_name_template_and_permission():
    from packages_app.views import BillableMetricDetailView, RateCardDetailView

    page = RateCardDetailView()
    assert page.pk_url_kwarg == "rate_card_id"
    assert page.context_object_name == "rate_card"
    assert page.template_name == "packages_app/rate_card_detail.html"
    assert page.get_permission_required() == ("packages_app.view_ratecard",)
    # a declared name wins over the derived one
    assert BillableMetricDetailView().context_object_name == "metric"


def test_edits_and_actions_need_the_change_permission_and_creates_the_add_one():
    from contracts_app.views_migrations import MigrationNewView
    from packages_app.views import ProductArchiveView, ProductEditView

    assert ProductEditView().get_permission_required() == ("packages_app.change_product",)
    assert ProductArchiveView().get_permission_required() == ("packages_app.change_product",)
    # a create's model is its conflict_model when it names no other
    assert MigrationNewView().get_permission_required() == ("contracts_app.add_cohortmigration",)


def test_a_write_goes_back_to_the_model_page_of_the_url_namespace(rf):
    from django.urls import resolve

    from config.web.views import detail_url_name
    from packages_app.models import BillableMetric, Package

    request = rf.post("/products/00000000-0000-0000-0000-000000000000/edit/")
    request.resolver_match = resolve(request.path)
    assert detail_url_name(request, BillableMetric) == "packages:billable-metric-detail"
    request = rf.post("/packages/new/")
    request.resolver_match = resolve(request.path)
    assert detail_url_name(request, Package) == "contracts:package-detail"


def test_list_pages_derive_the_create_permission_and_the_list_template(client, rf):
    from django.contrib.auth.models import Permission

    from contracts_app.views import CustomerListView, CustomerNewView
    from packages_app.views import ProductListView, RateCardListView

    page = ProductListView()
    page.setup(rf.get("/products/"))
    assert page.add_permission == "packages_app.add_product"
    assert page.template_name == "packages_app/product_list.html"
    page = CustomerNewView()
    page.setup(rf.get("/customers/new/"))
    assert page.template_name == "contracts_app/customer_new.html"
    assert page.get_permission_required() == ("contracts_app.add_customer",)
    page = RateCardListView()
    page.setup(rf.get("/rate-cards/"))
    assert page.get_template_names() == ["packages_app/rate_card_list.html"]
    page = CustomerListView()
    page.setup(rf.get("/customers/"))
    assert page.get_template_names() == ["contracts_app/customer_list.html"]
    # the rate card list offers "New rate card" only to those who may add one
    user = UserFactory(username="reader")
    user.user_permissions.add(Permission.objects.get(codename="view_ratecard"))
    client.force_login(user)
    assert b"New rate card" not in client.get("/rate-cards/").content
    user.user_permissions.add(Permission.objects.get(codename="add_ratecard"))
    user = type(user).objects.get(pk=user.pk)  # a fresh permission cache
    client.force_login(user)
    assert b"New rate card" in client.get("/rate-cards/").content


def test_a_form_that_lives_on_its_page_sends_a_get_there_at_its_anchor(client, world):
    customer, contract = world["customer"], world["contract"]
    response = client.get(f"/customers/{customer.id}/provision/")
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{customer.id}/"
    response = client.get(f"/contracts/{contract.id}/edits/credit/")
    assert response.status_code == 302
    assert response["Location"] == f"/contracts/{contract.id}/#edit-credit"
    assert client.get(f"/contracts/{contract.id}/edits/nonsense/").status_code == 404


def test_list_pages_take_their_title_and_create_label_from_the_model(client, world):
    content = client.get("/rate-cards/").content.decode()
    assert "<h1>Rate cards</h1>" in content and ">New rate card</a>" in content
    content = client.get("/customers/").content.decode()
    assert "<h1>Customers</h1>" in content and ">New customer</a>" in content
