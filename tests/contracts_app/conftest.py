import pytest
from django.test import Client

# `workers`: real Celery workers on a bulk queue of the test's own (the worker tests' fixture)
from tests.builders.migrations import workers  # noqa: F401
from tests.contracts_app.contract_builders import make_billed_package, make_customer, make_product
from tests.factories import api_post, user_with_token


@pytest.fixture
def post():
    """POST a JSON body as a superuser's API token: `post(path, body, query="?x=1")` (a client
    of its own, apart from any browser session of the test)."""
    _, token = user_with_token(superuser=True)
    client = Client()

    def send(path: str, body: dict, query: str = ""):
        return api_post(client, token, f"{path}{query}", body)

    return send


@pytest.fixture
def in_process_batches(django_capture_on_commit_callbacks):
    """What the services queue on commit is not sent: the tests run the batches in-process."""
    with django_capture_on_commit_callbacks(execute=False):
        yield


# The live-server (SDK) tests' catalog: a module that needs another customer or package defines
# its own fixture of the same name.


@pytest.fixture
def product(transactional_db):
    return make_product()


@pytest.fixture
def customer(transactional_db):
    return make_customer()


@pytest.fixture
def package(product):
    return make_billed_package(product)
