"""Tells drf-spectacular how our token authentication looks in the OpenAPI document."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "config.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "`Authorization: Bearer <token>` (or `X-API-KEY: <token>`); "
            "create one with `manage.py create_api_token`.",
        }
