import pytest

from tests.builders.catalog import make_catalog
from tests.factories import user_with_token


@pytest.fixture
def catalog():
    """A rate card, three products and a custom credit type (tests/builders/catalog.py)."""
    return make_catalog()


@pytest.fixture
def token():
    """A superuser's API token; a module that needs narrower permissions defines its own."""
    return user_with_token(superuser=True)[1]
