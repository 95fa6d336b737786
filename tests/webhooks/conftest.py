from __future__ import annotations

import pytest

from tests.factories import api_post, user_with_token
from tests.webhooks.receiver import start_receiver


@pytest.fixture
def receiver_for():
    servers = []

    def make(statuses=None):
        receiver, server = start_receiver(statuses)
        servers.append(server)
        return receiver

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def api(client):
    """POST a JSON body as a user holding every permission; the response's JSON and status."""
    _, token = user_with_token(superuser=True)

    def post(path: str, body: dict, query: str = ""):
        response = api_post(client, token, f"{path}{query}", body)
        return response.status_code, response.json()

    return post
