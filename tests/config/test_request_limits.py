"""Documented limits are the enforced ones (issue 17 defect 7).

A list the schema documents up to 100,000 ids is accepted at 100,000 and refused at 100,001 with a
400 naming the field and the limit, never with an internal setting's name; other endpoints keep a
small body limit. `/openapi.json` is JSON whatever the Accept header.
"""

from __future__ import annotations

import json
import uuid

import pytest

from contracts_app.services.cohort_migrations import MAX_CUSTOMER_IDS
from tests.contracts_app.cohort_builders import two_packages
from tests.factories import user_with_token

pytestmark = pytest.mark.django_db

PREVIEW = "/v1/packages/migrations/preview"


def _post(client, path: str, token: str, body: str):
    return client.post(
        path, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def _preview_body(count: int, field: str = "customer_ids") -> str:
    source, target = two_packages()
    return json.dumps(
        {
            "source": {"package_id": str(source.id)},
            "target": {"package_id": str(target.id)},
            "effective": {"type": "AT", "at": "2030-02-10T00:00:00Z"},
            field: [str(uuid.uuid4()) for _ in range(count)],
        }
    )


@pytest.fixture
def token():
    return user_with_token("contracts_app.view_cohortmigration")[1]


def test_the_documented_number_of_customer_ids_is_accepted(client, token):
    body = _preview_body(MAX_CUSTOMER_IDS)
    assert len(body) > 2.5 * 1024 * 1024  # over Django's default body limit

    response = _post(client, PREVIEW, token, body)

    assert response.status_code == 200, response.content[:300]


@pytest.mark.parametrize("field", ["customer_ids", "exclude_customer_ids"])
def test_one_id_over_the_limit_is_a_400_naming_the_field_and_the_limit(client, token, field):
    response = _post(client, PREVIEW, token, _preview_body(MAX_CUSTOMER_IDS + 1, field))

    assert response.status_code == 400
    error = response.json()
    assert field in json.dumps(error) and "100000" in json.dumps(error), error
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" not in json.dumps(error)


def test_other_endpoints_keep_a_small_body_limit(client):
    _, token = user_with_token("packages_app.add_credittype")
    body = json.dumps({"name": "x" * (4 * 1024 * 1024)})

    response = _post(client, "/v1/credit-types/create", token, body)

    assert response.status_code == 413
    message = response.json()["message"]
    assert "limit" in message and "DATA_UPLOAD_MAX_MEMORY_SIZE" not in message


@pytest.mark.parametrize(
    "accept", ["text/html", "text/html,application/xhtml+xml,*/*;q=0.8", "application/xml", ""]
)
def test_openapi_json_is_json_whatever_the_accept_header(client, accept):
    _, token = user_with_token()
    response = client.get("/openapi.json", HTTP_ACCEPT=accept, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/")
    assert "json" in response["Content-Type"]
    assert response.json()["openapi"].startswith("3.")
