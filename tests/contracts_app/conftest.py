import pytest

from tests.factories import UserFactory


@pytest.fixture
def staff_client(client):
    """A browser session of a superuser (the cohort pages' tests)."""
    client.force_login(UserFactory(username="pricing", is_superuser=True))
    return client
