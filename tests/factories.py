from __future__ import annotations

import json

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from config.api.models import ApiToken
from config.api.services import api_token_create

PASSWORD = "correct horse battery staple"  # every test user's, typed into the login forms


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)


def user_with_permissions(*permissions: str, **user_fields):
    """A user holding `permissions` ("app_label.codename")."""
    user = UserFactory(**user_fields)
    for dotted in permissions:
        app_label, codename = dotted.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def user_with_token(
    *permissions: str, superuser: bool = False, never_used: bool = False, **user_fields
) -> tuple:
    """A user holding `permissions` ("app_label.codename") and an API token for it.

    The token counts as used a moment ago (unless `never_used`): tokens in use stamp
    `last_used_at` at most once a minute, so pinned query counts measure the steady state,
    not the one extra write of a token's first request in a minute.
    """
    user = user_with_permissions(*permissions, is_superuser=superuser, **user_fields)
    token, raw = api_token_create(user=user)
    if not never_used:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return user, raw


def api_post(client, token: str, path: str, body):
    """POST `body` as JSON to the API with `token` as the bearer; the response."""
    return api_post_text(client, token, path, json.dumps(body))


def api_post_text(client, token: str, path: str, text: str):
    """POST `text` as it is (JSON or not) to the API with `token` as the bearer; the response."""
    return client.post(
        path, data=text, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def assert_page_needs_login_and(client, url: str, codename: str) -> None:
    """`url` sends a visitor to the login page, answers 403 to a user without the permission
    `codename` and 200 once the user holds it."""
    assert client.get(url)["Location"].startswith("/login/")
    user = UserFactory(username="nobody")
    client.force_login(user)
    assert client.get(url).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename=codename))
    assert client.get(url).status_code == 200
