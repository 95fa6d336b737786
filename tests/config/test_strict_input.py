"""One strictness everywhere: wrong JSON types are a 400 naming the field (issue 9, fault 6)."""

import pytest

from tests.factories import user_with_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def token():
    return user_with_token(superuser=True)[1]


def _post(client, url, body: str, token: str):
    return client.post(
        url, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


@pytest.mark.parametrize(
    "url",
    [
        "/v1/contract-pricing/products/list",
        "/v1/contract-pricing/rate-cards/list",
        "/v1/packages/list",
        "/v1/customers",
    ],
)
def test_a_null_body_is_not_an_empty_object(client, token, url):
    response = _post(client, url, "null", token)
    assert response.status_code == 400
    assert response.json()["field"] == "body"


@pytest.mark.parametrize("url", ["/v1/customers", "/v1/credit-types/list"])
def test_an_empty_limit_is_a_400_naming_limit(client, token, url):
    response = client.get(f"{url}?limit=", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 400
    assert response.json()["field"] == "limit"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_not_stored_as_text(client, token, constant):
    body = f'{{"name": "Acme", "custom_fields": {{"score": {constant}}}}}'
    response = _post(client, "/v1/customers", body, token)
    assert response.status_code == 400
    assert constant.lstrip("-") in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"name": 5}', "name"),
        ('{"name": true}', "name"),
        ('{"name": "Acme", "external_id": 12}', "external_id"),
        ('{"name": "Acme", "ingest_aliases": ["a", 7]}', "ingest_aliases[1]"),
        ('{"name": "Acme", "custom_fields": {"tier": 3}}', "custom_fields.tier"),
    ],
)
def test_a_number_where_a_string_belongs_is_a_400_naming_the_field(client, token, body, field):
    response = _post(client, "/v1/customers", body, token)
    assert response.status_code == 400, response.json()
    assert response.json()["field"] == field


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/v1/contract-pricing/products/list", '{"archive_filter": 1}', "archive_filter"),
        ("/v1/contract-pricing/rate-cards/create", '{"name": 5}', "name"),
        ("/v1/credit-types/create", '{"name": 5}', "name"),
    ],
)
def test_catalog_and_customers_refuse_the_same_wrong_types(client, token, url, body, field):
    response = _post(client, url, body, token)
    assert response.status_code == 400, response.json()
    assert response.json()["field"] == field


def test_query_strings_still_take_their_text_forms(client, token):
    response = client.get(
        "/v1/customers?only_archived=true&limit=5", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 200, response.json()
