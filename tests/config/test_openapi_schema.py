"""The OpenAPI document: served as JSON (and YAML), complete for every operation, and its docs
page behind the login."""

from __future__ import annotations

import json

import pytest

from tests.factories import user_with_token

METHODS = ("get", "put", "post", "patch", "delete")
ERROR_CODES = ("400", "401", "403", "404", "409")
SOLVIMON_PREFIX = "/v1/pricing-plan-"

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema() -> dict:
    """The document /openapi.json serves, generated once for the module (needs no database)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def json_schema(part: dict) -> dict | None:
    return part.get("content", {}).get("application/json", {}).get("schema")


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def test_openapi_json_is_json_without_an_accept_header(client):
    # given a client that sends no Accept header (curl, schemathesis)
    _, token = user_with_token()
    # when it fetches /openapi.json
    response = client.get("/openapi.json", HTTP_AUTHORIZATION=f"Bearer {token}")
    # then the answer is JSON
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    assert response.json()["openapi"].startswith("3.")


def test_openapi_yaml_is_offered_on_its_own_path(client):
    _, token = user_with_token()
    response = client.get("/openapi.yaml", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert response.content.decode().startswith("openapi: 3.")


def test_every_operation_documents_its_bodies_and_its_errors(schema):
    missing: list[str] = []
    for path, method, operation in operations(schema):
        name = f"{method.upper()} {path}"
        if not operation.get("operationId"):
            missing.append(f"{name}: operationId")
        if method in ("post", "put", "patch"):
            body = json_schema(operation.get("requestBody", {}))
            described = body and resolve(schema, body)
            if not described or not (described.get("properties") or described.get("oneOf")):
                missing.append(f"{name}: request body schema")
        successes = [code for code in operation["responses"] if code.startswith("2")]
        if len(successes) != 1:
            missing.append(f"{name}: one success response")
        for code in successes:
            body = json_schema(operation["responses"][code])
            if not body or not resolve(schema, body).get("properties"):
                missing.append(f"{name}: {code} response schema")
        for code in ERROR_CODES:
            if path.startswith(SOLVIMON_PREFIX):
                error_shape = "SolvimonError"
            else:
                error_shape = "InvalidRequestError" if code == "400" else "Error"
            body = json_schema(operation["responses"].get(code, {})) or {}
            if body.get("$ref") != f"#/components/schemas/{error_shape}":
                missing.append(f"{name}: {code} response with the {error_shape} shape")
        if "x-should-retry" not in operation["responses"].get("409", {}).get("headers", {}):
            missing.append(f"{name}: 409 x-should-retry header")
    assert missing == []


def test_no_operation_falls_back_to_a_free_form_body(schema):
    # drf-spectacular's fallback for an undeclared answer: an object of any shape
    text = str(schema)
    assert "Unspecified response body" not in text
    assert "Unspecified request body" not in text


def test_the_error_shapes_are_those_the_exception_handler_renders(schema):
    components = schema["components"]["schemas"]
    assert components["Error"]["required"] == ["message"]
    assert set(components["Error"]["properties"]) == {"message", "field"}
    assert components["InvalidRequestError"]["required"] == ["message"]
    assert set(components["InvalidRequestError"]["properties"]) == {"message", "field", "errors"}
    assert sorted(components["SolvimonError"]["required"]) == ["code", "field", "message", "type"]


def test_the_pricing_plan_routes_read_v1_as_the_readme_says(client):
    # given the document /api/docs shows
    _, token = user_with_token()
    schema = client.get("/openapi.json", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    # then the Solvimon-style routes read /v1/..., as people call them, with no version to fill in
    assert not [path for path in schema["paths"] if "{version}" in path]
    solvimon = [(p, m, o) for p, m, o in operations(schema) if p.startswith(SOLVIMON_PREFIX)]
    assert len(solvimon) == 7
    assert "/v1/pricing-plan-schedules/{schedule_id}/migrate" in schema["paths"]
    for path, method, operation in solvimon:
        names = [p["name"] for p in operation.get("parameters", [])]
        assert "version" not in names, (method, path)


def test_the_schema_is_generated_once_per_process(client, monkeypatch):
    from drf_spectacular.generators import SchemaGenerator

    from config.api.views import forget_generated_schemas

    # given a process that has not generated the document yet
    forget_generated_schemas()
    generated = []
    generate = SchemaGenerator.get_schema

    def counting_get_schema(self, *args, **kwargs):
        generated.append(1)
        return generate(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counting_get_schema)
    _, token = user_with_token()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    # when the docs page loads it twice, and the YAML is asked for too
    first = client.get("/openapi.json", **auth)
    second = client.get("/openapi.json", **auth)
    yaml = client.get("/openapi.yaml", **auth)
    # then it was generated once, and every answer is the whole document
    assert generated == [1]
    assert first.status_code == second.status_code == yaml.status_code == 200
    assert first.content == second.content
    assert len(first.json()["paths"]) > 40
    assert b"/v1/pricing-plan-schedules" in yaml.content


def test_the_internal_noop_is_not_in_the_public_schema(schema, client):
    assert "/v1/noop" not in schema["paths"]
    # but it still answers (benchmarks use it as their floor)
    _, token = user_with_token()
    assert client.get("/v1/noop", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_the_schema_lists_every_api_route(schema):
    # 48 operations less the two of /v1/noop, plus GET /v1/auditLogs, plus the 10 contract-edit
    # and customer calls (v2 contracts edit/get/list/getEditHistory, commits and credits edit,
    # v1 contracts/amend, customers setName/setIngestAliases/updateConfig), the workspace's
    # packages/preview, packages/forecast, packages/aliases/schedule and packages/aliases/list,
    # and the ten of /v1/packages/migrations/* (pause, resume and retryFailed: issue 22), and
    # the six of /v1/webhooks/*
    assert len(list(operations(schema))) == 77


def test_logged_out_docs_send_a_person_to_the_login_page(client):
    response = client.get("/api/docs")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/api/docs"


def test_docs_answer_a_bad_token_with_401_not_a_login_page(client):
    response = client.get("/api/docs", HTTP_AUTHORIZATION="Bearer nope")
    assert response.status_code == 401


def test_logged_in_docs_show_the_swagger_ui(admin_client):
    response = admin_client.get("/api/docs")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content


def test_operations_are_grouped_by_resource(schema):
    tags = {(m, p): o["tags"] for p, m, o in operations(schema)}
    assert tags[("post", "/v1/contracts/create")] == ["contracts"]
    assert tags[("post", "/v1/contract-pricing/rate-cards/addRate")] == ["rate-cards"]
    assert tags[("post", "/v1/setCustomerBillingProviderConfigurations")] == ["customers"]
    assert tags[("get", "/v1/pricing-plan-schedules/{schedule_id}")] == ["pricing-plan-schedules"]
