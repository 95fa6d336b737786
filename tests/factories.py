from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from config.api.services import api_token_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


def user_with_token(*permissions: str, superuser: bool = False, **user_fields) -> tuple:
    """A user holding `permissions` ("app_label.codename") and a fresh API token for it."""
    user = UserFactory(is_superuser=superuser, **user_fields)
    for dotted in permissions:
        app_label, codename = dotted.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    _, raw = api_token_create(user=user)
    return user, raw
