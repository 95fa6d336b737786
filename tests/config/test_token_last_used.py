"""Tokens record when they were last used, at most once a minute each (issue 9, fault 8)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.api.models import ApiToken
from tests.factories import user_with_token

pytestmark = pytest.mark.django_db

URL = "/v1/noop"


def _call(client, raw):
    return client.get(URL, HTTP_AUTHORIZATION=f"Bearer {raw}")


def _token_writes(queries) -> list[str]:
    table = ApiToken._meta.db_table
    return [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and table in q["sql"]]


def test_the_first_use_stamps_last_used_at(client):
    user, raw = user_with_token(never_used=True)
    token = ApiToken.objects.get(user=user)
    assert token.last_used_at is None
    before = timezone.now()

    assert _call(client, raw).status_code == 200

    token.refresh_from_db()
    assert token.last_used_at is not None and token.last_used_at >= before


def test_uses_within_a_minute_write_nothing(client):
    _, raw = user_with_token(never_used=True)
    _call(client, raw)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert _call(client, raw).status_code == 200
    assert _token_writes(queries.captured_queries) == []


def test_a_use_after_a_minute_stamps_it_again_once(client):
    user, raw = user_with_token()
    long_ago = timezone.now() - dt.timedelta(minutes=5)
    ApiToken.objects.filter(user=user).update(last_used_at=long_ago)

    with CaptureQueriesContext(connection) as queries:
        _call(client, raw)
        _call(client, raw)

    assert len(_token_writes(queries.captured_queries)) == 1
    assert ApiToken.objects.get(user=user).last_used_at > long_ago + dt.timedelta(minutes=4)


def test_admin_lists_when_each_token_was_last_used(client):
    admin_user, raw = user_with_token(superuser=True, is_staff=True, never_used=True)
    _call(client, raw)
    client.force_login(admin_user)
    stamp = ApiToken.objects.get(user=admin_user).last_used_at

    page = client.get("/admin/api/apitoken/")

    assert page.status_code == 200
    assert "Last used" in page.content.decode()
    assert stamp.strftime("%Y-%m-%dT%H:%M") in page.content.decode()
