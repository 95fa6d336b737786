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
