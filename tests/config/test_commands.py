import io
import os
import time

import pytest
from django.core.management import CommandError, call_command

from config.api.models import ApiToken

pytestmark = pytest.mark.django_db


def _create_token(*args: str) -> str:
    out = io.StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip().splitlines()[-1]


def test_create_api_token_prints_a_working_token_alone_on_the_last_line(client):
    token = _create_token("ci-bot", "--create-user", "--permission", "packages_app.view_credittype")
    assert token.startswith("pp_") and " " not in token
    assert (
        client.get("/v1/credit-types/list", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    )
    assert (
        client.post(
            "/v1/credit-types/create",
            {"name": "x"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        ).status_code
        == 403
    )
    assert not ApiToken.objects.filter(key_hash=token).exists()


def test_all_permissions_makes_a_superuser_token(client):
    token = _create_token("admin-bot", "--create-user", "--all-permissions")
    response = client.post(
        "/v1/credit-types/create",
        {"name": "tokens"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200


def test_unknown_user_or_permission_is_refused():
    with pytest.raises(CommandError, match="create-user"):
        _create_token("ghost")
    with pytest.raises(CommandError, match="Unknown permission"):
        _create_token("ghost", "--create-user", "--permission", "nope.nothing")


def test_ensure_admin_creates_the_first_administrator_once(monkeypatch, settings, tmp_path):
    from django.contrib.auth import get_user_model

    monkeypatch.setenv("ADMIN_USERNAME", "root")
    monkeypatch.setenv("ADMIN_PASSWORD", "s3cret-enough")
    out = io.StringIO()
    call_command("ensure_admin", stdout=out)
    call_command("ensure_admin", stdout=out)
    admins = get_user_model().objects.filter(is_superuser=True)
    assert [a.username for a in admins] == ["root"] and admins[0].check_password("s3cret-enough")
    assert out.getvalue().count("Created administrator") == 1


def test_api_docs_page_is_served_from_vendored_assets(admin_client):
    html = admin_client.get("/api/docs").content.decode()
    assert "swagger-ui" in html and "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower()


def test_prepare_to_serve_does_every_set_up_step_in_one_process_and_skips_what_is_done(
    monkeypatch, settings, tmp_path
):
    from django.contrib.auth import get_user_model

    # given a migrated database with no users, and static sources never collected
    sources = tmp_path / "sources"
    (sources / "css").mkdir(parents=True)
    (sources / "css" / "extra.css").write_text("body { color: black; }\n")
    settings.STATICFILES_DIRS = [*settings.STATICFILES_DIRS, sources]
    settings.STATIC_ROOT = tmp_path / "collected"
    monkeypatch.setenv("ADMIN_PASSWORD", "s3cret-enough")

    def prepare() -> str:
        out = io.StringIO()
        call_command("prepare_to_serve", "--no-seed", stdout=out)
        return out.getvalue()

    # when `make run` prepares the first time
    first = prepare()
    # then it says what it does, collects the static files and creates the administrator
    assert "[setup] database schema is up to date" in first
    assert "[setup] collecting static files" in first
    assert (settings.STATIC_ROOT / "css" / "extra.css").exists()
    assert "Created administrator" in first
    assert get_user_model().objects.filter(is_superuser=True).count() == 1
    assert "[setup] ready in" in first
    # when it prepares again with nothing changed, nothing is collected or created again
    second = prepare()
    assert "[setup] static files are up to date" in second
    assert "collecting" not in second and "Created administrator" not in second
    # when a source file changes, the static files are collected again
    edited = sources / "css" / "extra.css"
    edited.write_text("body { color: navy; }\n")
    later = time.time() + 5  # collectstatic compares whole seconds
    os.utime(edited, (later, later))
    assert "[setup] collecting static files" in prepare()
    assert "navy" in (settings.STATIC_ROOT / "css" / "extra.css").read_text()
