"""How the OpenAPI document describes our API (drf-spectacular).

Every operation names its request and response serializers with `extend_schema`; this module adds
what is the same everywhere: the error responses (400/401/403/404/409, in the shape of the view's
`error_style`), the `{"data": ...}` envelopes, the cursor parameters and the bearer scheme.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers


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


# --- the error shapes config.api.errors.api_exception_handler renders ------------------------


class ErrorSerializer(serializers.Serializer):
    """Metronome-style error: a message, and the field at fault when there is one."""

    message = serializers.CharField()
    field = serializers.CharField(
        required=False, help_text="The first field at fault, as a path: `commits[0].product_id`"
    )


class InvalidRequestErrorSerializer(ErrorSerializer):
    """A 400: the message, and for invalid input every field at fault."""

    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Every field at fault → its messages",
    )


class SolvimonErrorSerializer(serializers.Serializer):
    """Solvimon-style error, on the pricing-plan routes."""

    type = serializers.CharField(help_text="INVALID_REQUEST, UNAUTHORIZED, NOT_FOUND, ...")
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(allow_null=True)


ERROR_RESPONSES = {
    "400": "Invalid input: the body, a parameter or a business rule; names the field",
    "401": "No valid API token",
    "403": "The token's user lacks the permission this operation needs",
    "404": "An object the request names does not exist",
    "409": "Conflict: a reused uniqueness_key or an overlap; carries `x-should-retry: false`",
}


# Rooms reuse short names (`CommitInput` is a package term and a contract term): each room's
# components carry its prefix so no two serializers share a component.
COMPONENT_PREFIXES = {
    "packages_app.api.package_serializers": "Package",
    "contracts_app.api.contract_serializers": "Contract",
    "contracts_app.api.customers": "Customer",
    "contracts_app.api.schedule_serializers": "PricingPlan",
    "contracts_app.api.contract_edit_serializers": "ContractEdit",
    "contracts_app.api.customer_edits": "CustomerEdit",
    "packages_app.api.billable_metrics": "BillableMetric",
    "packages_app.api.rate_cards": "RateCard",
}


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus the error answers every one of our operations can give."""

    def get_serializer_name(self, serializer, direction):
        name = super().get_serializer_name(serializer, direction)
        prefix = COMPONENT_PREFIXES.get(type(serializer).__module__, "")
        return name if name.startswith(prefix) else prefix + name

    def get_tags(self):
        """One tag per resource (`packages`, `rate-cards`, `pricing-plan-schedules`, ...), not
        the path's version segment."""
        segments = [
            segment
            for segment in self.path.strip("/").split("/")[1:]
            if segment != "contract-pricing" and not segment.startswith("{")
        ]
        resource = segments[0]
        if resource.endswith("CustomerBillingProviderConfigurations"):
            resource = "customers"
        return [resource]

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        if str(status_code) == "409":
            # config.api.errors: Metronome's SDK retries a 409 unless told not to.
            headers["x-should-retry"] = {
                "schema": {"type": "string", "enum": ["false"]},
                "description": "Retrying cannot succeed",
            }
        return headers

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        solvimon = getattr(self.view, "error_style", None) == "solvimon"
        for code, description in ERROR_RESPONSES.items():
            if solvimon:
                error = SolvimonErrorSerializer
            else:
                error = InvalidRequestErrorSerializer if code == "400" else ErrorSerializer
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(error, description=description), code, direction=direction
                )
        return responses


# --- shared request and response pieces -------------------------------------------------------


class IdOutput(serializers.Serializer):
    id = serializers.UUIDField()


class NamedRefOutput(serializers.Serializer):
    """`{id, name}` of a product or credit type a term points at."""

    id = serializers.CharField()
    name = serializers.CharField(allow_blank=True)


_ENVELOPES: dict[str, type[serializers.Serializer]] = {}


def _envelope(name: str, fields: dict) -> type[serializers.Serializer]:
    # One class per name, so each envelope is one component of the document.
    if name not in _ENVELOPES:
        _ENVELOPES[name] = type(name, (serializers.Serializer,), fields)
    return _ENVELOPES[name]


def data_of(item: type[serializers.Serializer], *, many: bool = False):
    """`{"data": item}` (or `{"data": [item, ...]}`)."""
    base = item.__name__.removesuffix("Output")
    name = f"{base}ListData" if many else f"{base}Data"
    return _envelope(name, {"data": item(many=many)})


def page_of(item: type[serializers.Serializer], *, cursor: str = "next_page"):
    """`{"data": [item, ...], "next_page": cursor or null}` (contracts/list names it `cursor`)."""
    base = item.__name__.removesuffix("Output")
    fields = {
        "data": item(many=True),
        cursor: serializers.CharField(
            allow_null=True, help_text="Cursor of the next page; null on the last page"
        ),
    }
    return _envelope(f"{base}Page", fields)


ID_DATA = data_of(IdOutput)


def page_parameters(*, maximum: int = 100, default: int = 10) -> list[OpenApiParameter]:
    """`limit` and `next_page` in the query string (config.api.views_base.query_page)."""
    return [
        OpenApiParameter(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": maximum},
            description=f"Page size, 1..{maximum} (default {default})",
        ),
        OpenApiParameter("next_page", str, description="Cursor from the previous page"),
    ]


PAGE_PARAMETERS = page_parameters()


def query_flag(name: str, description: str) -> OpenApiParameter:
    """A `true`/`false` query parameter (packages_app.api.billable_metrics.query_bool)."""
    return OpenApiParameter(
        name, {"type": "string", "enum": ["true", "false"]}, description=description
    )


def pin_single_version_paths(result, generator, request, public):
    """drf-spectacular post-processing hook: `/v{version}/x` becomes `/v1/x` where `version` is
    a path parameter with exactly one allowed value (the routes' own declared enum), so the docs
    show the paths people call, as the README does."""
    paths = {}
    for path, item in result.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            parameters = operation.get("parameters", [])
            versions = [p for p in parameters if p.get("in") == "path" and p["name"] == "version"]
            if len(versions) == 1 and len(versions[0].get("schema", {}).get("enum", [])) == 1:
                path = path.replace("{version}", str(versions[0]["schema"]["enum"][0]))
                operation["parameters"] = [p for p in parameters if p is not versions[0]]
        paths[path] = item
    result["paths"] = paths
    return result
