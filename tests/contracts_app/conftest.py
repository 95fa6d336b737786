import pytest

from tests.factories import UserFactory


@pytest.fixture
def staff_client(client):
    """A browser session of a superuser (the cohort pages' tests)."""
    client.force_login(UserFactory(username="pricing", is_superuser=True))
    return client


@pytest.fixture
def in_process_batches(django_capture_on_commit_callbacks):
    """What the services queue on commit is not sent: the tests run the batches in-process."""
    with django_capture_on_commit_callbacks(execute=False):
        yield
