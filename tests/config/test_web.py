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
