from __future__ import annotations

import time

from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import JsonResponse
from django.utils.translation import get_language
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularSwaggerView,
    SpectacularYAMLAPIView,
)
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from config.celery import app as celery_app
from config.redis_clients import health_check_client


def _database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # any failure means "down"; the reason is reported
        return f"error: {exc.__class__.__name__}"


def _broker_state() -> str:
    # A client of its own with a ~1 s timeout and no retries, not kombu's connection: kombu
    # retries, and a paused broker accepts the connection and then never answers a PING.
    client = health_check_client(celery_app.conf.broker_url)
    try:
        client.ping()
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"
    finally:
        client.close()


@require_GET
def healthz(request):
    """Liveness for load balancers and `make run`: no auth, no secrets, just states."""
    started = time.monotonic()
    broker_state = _broker_state()
    checks = {
        "database": {"engine": connection.vendor, "state": _database_state()},
        "broker": {
            "transport": celery_app.conf.broker_url.split(":", 1)[0],
            "state": broker_state,
            "checked_in_ms": round((time.monotonic() - started) * 1000),
        },
    }
    healthy = all(check["state"] == "ok" for check in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503
    )


@extend_schema(exclude=True)  # internal: not part of the public API
class NoopView(APIView):
    """Authenticated no-op: the floor that benchmarks compare real endpoints against."""

    def get(self, request):
        return Response({"data": {"ok": True}})

    def post(self, request):
        return Response({"data": {"ok": True}})


def api_not_found(request, exception=None):
    return JsonResponse({"message": f"No route for {request.method} {request.path}"}, status=404)


class ApiDocsView(SpectacularSwaggerView):
    """The Swagger UI; a person who is not logged in is sent to the login page, not a bare 401."""

    template_name = "api/docs.html"  # drf-spectacular's page with a language and readable colours

    def handle_exception(self, exc):
        if (
            isinstance(exc, exceptions.NotAuthenticated)
            and "HTTP_AUTHORIZATION" not in self.request.META
        ):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


# The generated OpenAPI document, per (urlconf, version, language): generating it takes seconds
# and it only changes with the code, so each process builds it once.
_generated_schemas: dict[tuple, dict] = {}


def forget_generated_schemas() -> None:
    _generated_schemas.clear()


class SchemaGeneratedOncePerProcess:
    """For drf-spectacular's schema views: build the public document on the first request and
    serve that one afterwards. A non-public document depends on the user, so it is not kept."""

    def _get_schema_response(self, request):
        if not self.serve_public:
            return super()._get_schema_response(request)
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (self.urlconf, version, get_language())
        if key not in _generated_schemas:
            generator = self.generator_class(
                urlconf=self.urlconf, api_version=version, patterns=self.patterns
            )
            _generated_schemas[key] = generator.get_schema(request=request, public=True)
        return Response(
            data=_generated_schemas[key],
            headers={
                "Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'
            },
        )


class FirstRendererNegotiation(BaseContentNegotiation):
    """The view's first renderer whatever the Accept header says."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class OpenApiJsonView(SchemaGeneratedOncePerProcess, SpectacularJSONAPIView):
    """`/openapi.json`: JSON for any Accept header (browsers send text/html, curl sends none);
    YAML has its own path."""

    content_negotiation_class = FirstRendererNegotiation


class OpenApiYamlView(SchemaGeneratedOncePerProcess, SpectacularYAMLAPIView):
    """`/openapi.yaml`: the same document as YAML."""
