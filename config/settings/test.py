from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["*"]
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Live-server threads open their own connections; persistent ones outlive the test DB.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# A `replica` alias on the test database itself (TEST MIRROR), so the router can be shown to
# pick it; off unless a test sets READ_REPLICA_ALIAS (config.db_router).
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
READ_REPLICA_ALIAS = None
# Tests send webhooks to receivers on 127.0.0.1 (production settings refuse them).
WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
