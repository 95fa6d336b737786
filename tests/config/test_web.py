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
