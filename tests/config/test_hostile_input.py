"""Hostile bodies and cursors are a 400 with the {"message"} shape, never a 500 (issue 9)."""

import base64

import pytest

from tests.contracts_app.contract_builders import make_customer
from tests.factories import user_with_token

pytestmark = pytest.mark.django_db


def _post(client, url, body: str, token: str):
    return client.post(
        url, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def _nested_cursor(depth: int) -> str:
    return base64.urlsafe_b64encode(("[" * depth + "]" * depth).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "body",
    [
        "[" * 10000,  # unterminated: the decoder itself recurses
        "[" * 950 + "]" * 950,  # valid JSON, deeper than anything we accept
        '{"name": ' + '{"a": ' * 900 + "1" + "}" * 900 + "}",
    ],
    ids=["unterminated", "deep-list", "deep-object"],
)
def test_deeply_nested_json_is_a_400_not_a_recursion_error(client, body):
    _, token = user_with_token(superuser=True)
    response = _post(client, "/v1/packages/create", body, token)
    assert response.status_code == 400
    assert "nest" in response.json()["message"]


@pytest.mark.parametrize("depth", [40, 400, 5000])
def test_deeply_nested_cursors_are_a_400_naming_the_cursor(client, depth):
    _, token = user_with_token(superuser=True)
    cursor = _nested_cursor(depth)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    customers = client.get(f"/v1/customers?next_page={cursor}", **auth)
    packages = _post(client, f"/v1/packages/list?next_page={cursor}", "{}", token)
    customer_id = make_customer().id
    contracts = _post(
        client,
        "/v1/contracts/list",
        f'{{"customer_id": "{customer_id}", "cursor": "{cursor}"}}',
        token,
    )

    assert customers.status_code == 400 and customers.json()["field"] == "next_page"
    assert packages.status_code == 400 and packages.json()["field"] == "next_page"
    assert contracts.status_code == 400 and contracts.json()["field"] == "cursor"
