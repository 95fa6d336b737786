import pytest
from django.test import Client

from config.api.models import ApiToken
from tests.factories import api_post, api_post_text, user_with_token

pytestmark = pytest.mark.django_db

LIST_URL = "/v1/credit-types/list"


def _get(client: Client, url: str, token: str | None = None, **headers):
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.get(url, **headers)


def test_no_token_is_401_with_a_message(client):
    response = _get(client, LIST_URL)
    assert response.status_code == 401
    assert response.json()["message"]
    assert response["WWW-Authenticate"] == "Bearer"


def test_wrong_token_is_401(client):
    user_with_token("packages_app.view_credittype")
    response = _get(client, LIST_URL, token="pp_not-a-real-token")
    assert response.status_code == 401
    assert "token" in response.json()["message"].lower()


def test_malformed_authorization_header_is_401(client):
    response = client.get(LIST_URL, HTTP_AUTHORIZATION="Token abc")
    assert response.status_code == 401


def test_valid_token_without_permission_is_403(client):
    _, token = user_with_token()
    response = _get(client, LIST_URL, token=token)
    assert response.status_code == 403
    assert response.json() == {"message": "You do not have permission to perform this action."}


def test_valid_token_with_permission_is_200(client):
    _, token = user_with_token("packages_app.view_credittype")
    response = _get(client, LIST_URL, token=token)
    assert response.status_code == 200
    body = response.json()
    assert body["next_page"] is None
    assert {
        "id": "2714e483-4ff1-48e4-9e25-ac732e8f24f2",
        "name": "USD (cents)",
        "is_currency": True,
    } in body["data"]


def test_x_api_key_header_also_authenticates(client):
    _, token = user_with_token("packages_app.view_credittype")
    assert client.get(LIST_URL, HTTP_X_API_KEY=token).status_code == 200


def test_tokens_are_stored_hashed_not_in_clear(client):
    _, token = user_with_token()
    stored = ApiToken.objects.get()
    assert token not in {stored.key_hash, stored.key_prefix, stored.name}
    assert len(stored.key_hash) == 64 and token[:10] == stored.key_prefix


def test_revoked_token_is_401(client):
    _, token = user_with_token("packages_app.view_credittype")
    from django.utils import timezone

    ApiToken.objects.update(revoked_at=timezone.now())
    assert _get(client, LIST_URL, token=token).status_code == 401


def test_malformed_json_is_400_with_message_not_500(client):
    _, token = user_with_token("packages_app.add_credittype")
    response = api_post_text(client, token, "/v1/credit-types/create", "{not json")
    assert response.status_code == 400
    assert response.json()["message"].startswith("Malformed request body")


def test_validation_error_names_the_field(client):
    _, token = user_with_token("packages_app.add_credittype")
    response = api_post(client, token, "/v1/credit-types/create", {"name": ""})
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "name" and "name" in body["message"] and body["errors"]["name"]


def test_duplicate_is_409_and_tells_the_sdk_not_to_retry(client):
    _, token = user_with_token("packages_app.add_credittype")
    kwargs = {"content_type": "application/json", "HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert (
        client.post("/v1/credit-types/create", data={"name": "tokens"}, **kwargs).status_code == 200
    )
    response = client.post("/v1/credit-types/create", data={"name": "tokens"}, **kwargs)
    assert response.status_code == 409
    assert response["x-should-retry"] == "false"
    assert "tokens" in response.json()["message"]


def test_unknown_api_route_is_json_404(client):
    response = client.post("/v1/does-not-exist", data={}, content_type="application/json")
    assert response.status_code == 404
    assert "message" in response.json()


def test_cursor_pagination_walks_every_row_once(client):
    from packages_app.models import CreditType

    CreditType.objects.bulk_create([CreditType(name=f"unit {i:02d}") for i in range(25)])
    _, token = user_with_token("packages_app.view_credittype")
    seen, cursor, pages = [], None, 0
    while True:
        url = f"{LIST_URL}?limit=10" + (f"&next_page={cursor}" if cursor else "")
        body = _get(client, url, token=token).json()
        seen += [item["id"] for item in body["data"]]
        pages += 1
        cursor = body["next_page"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 26


def test_bad_cursor_and_limit_are_400_naming_the_parameter(client):
    _, token = user_with_token("packages_app.view_credittype")
    assert _get(client, f"{LIST_URL}?next_page=%%%", token=token).json()["field"] == "next_page"
    response = _get(client, f"{LIST_URL}?limit=0", token=token)
    assert response.status_code == 400 and response.json()["field"] == "limit"


def test_openapi_schema_needs_auth_and_is_served_to_a_token_holder(client):
    assert client.get("/openapi.json").status_code == 401
    _, token = user_with_token()
    response = client.get("/openapi.json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert "/v1/credit-types/list" in response.content.decode()


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["database"] == {"engine": "postgresql", "state": "ok"}
    assert body["broker"]["state"] == "ok"


def test_healthz_is_503_when_the_broker_does_not_answer(client, settings):
    from config.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    assert response.json()["broker"]["state"].startswith("error")


def test_nul_characters_are_a_400_naming_where_they_are(client):
    _, token = user_with_token("packages_app.add_credittype")
    response = api_post_text(client, token, "/v1/credit-types/create", '{"name": "a\\u0000b"}')
    assert response.status_code == 400 and response.json()["field"] == "name"


def test_a_forged_cursor_of_the_wrong_type_is_a_400_not_a_database_error(client):
    import base64
    import json

    _, token = user_with_token("packages_app.view_credittype")
    forged = base64.urlsafe_b64encode(json.dumps(["x", "y"]).encode()).decode().rstrip("=")
    response = _get(client, f"{LIST_URL}?next_page={forged}", token=token)
    assert response.status_code == 400 and response.json()["field"] == "next_page"


def test_offsets_past_the_end_of_the_calendar_are_a_400():
    import datetime as dt

    from config.core.errors import ValidationFailed
    from packages_app.time_offsets import add_offset

    start = dt.datetime(9999, 6, 1, tzinfo=dt.UTC)
    with pytest.raises(ValidationFailed) as error:
        add_offset(start, "MONTHS", 12)
    assert error.value.field == "starting_at"
    assert add_offset(start, "MONTHS", 6) == dt.datetime(9999, 12, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize("number", ["1e200000", "-1e999999999", "1e-999999999"])
def test_absurd_numbers_are_a_400_not_an_overflow(client, number):
    _, token = user_with_token("packages_app.add_credittype")
    response = client.post(
        "/v1/credit-types/create",
        data=f'{{"name": "x", "amount": {number}}}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 400 and "out of range" in response.json()["message"]


def test_an_oversized_body_is_a_json_400(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    _, token = user_with_token("packages_app.add_credittype")
    response = client.post(
        "/v1/credit-types/create",
        data={"name": "x" * 5000},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 400 and "message" in response.json()
