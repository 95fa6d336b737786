"""History and /activity/ speak the pages' words for the values the API spells as enums
(issue 20 item 6): a migration's statuses ("scheduled → running", not "SCHEDULED → RUNNING"),
its timing ("at 2027-03-01", not "Type: AT"), edited contracts ("skipped", not "SKIP"), its
staged rollout and a revert's scope; a rate card's ended rates ("Ended rates", not
"end_rates"). Every entry is written by the services, as in production."""

import datetime as dt
import re

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from config.audit import presenters
from config.audit.context import audit_actor
from contracts_app.services.cohort_migrations import (
    RevertScope,
    cohort_migration_resume,
    cohort_migration_revert,
)
from packages_app.describe import BILLING_PROVIDER_NAMES, DELIVERY_METHOD_NAMES
from packages_app.services.rate_cards import rate_end
from tests.builders.migrations import create_migration
from tests.builders.pages import flat_rate
from tests.contracts_app.cohort_builders import bulk_cohort, run_to_end, two_packages
from tests.contracts_app.contract_builders import make_product, make_rate_card
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
# The effective date is ahead of today whenever the suite runs, so the moves stay revertible.
MOVE = (timezone.now() + dt.timedelta(days=90)).replace(hour=0, minute=0, second=0, microsecond=0)
API_WORDS = re.compile(
    r"\b(SCHEDULED|RUNNING|PAUSED|COMPLETED|REVERTING|SKIP|MIGRATE|NOT_IN_EFFECT|AT|"
    r"NEXT_BILLING_PERIOD|CANARY_DONE|CANARY_EMPTY|end_rates|edited_contracts|rate_ids)\b"
)


@pytest.fixture
def reader(client):
    client.force_login(UserFactory(is_superuser=True))
    return client


def _visible(html: str) -> str:
    """The text a person reads (tags and attributes dropped, spaces collapsed)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_staged_migration_history_speaks_the_pages_words(reader):
    # given a staged rollout: a canary of 2 moves and pauses, is resumed, completes, and the
    # moves that have not taken effect are reverted
    source, target = two_packages()
    bulk_cohort(source, 5, start=START)
    migration = create_migration(
        source,
        target,
        effective={"type": "AT", "at": MOVE},
        name="Starter v1 → v2",
        canary={"count": 2},
    )
    assert run_to_end(migration).status == "PAUSED"
    cohort_migration_resume(migration=migration)
    assert run_to_end(migration).status == "COMPLETED"
    cohort_migration_revert(migration=migration, scope=RevertScope.NOT_IN_EFFECT)

    html = reader.get(f"/activity/history/cohort_migration/{migration.id}/").content.decode()
    text = _visible(html)

    # then every status, the timing, the edited-contracts choice, the canary and the revert's
    # scope read as the job's page says them
    assert "scheduled → running" in text
    assert "paused → running" in text
    assert "completed → reverting" in text
    assert f"Moves at {MOVE:%Y-%m-%d}" in text
    assert "Edited contracts skipped (they stay on their edited contracts)" in text
    assert "Staged rollout the first 2 contracts move first, then the job pauses" in text
    assert "Reverts only the moves that have not taken effect; 5 to revert" in text
    # what the job did, from the entries' own descriptions
    assert "Planned 5 contracts to move, 0 skipped" in text
    assert "The canary moved; paused until resumed" in text
    for action in ("Started", "Paused", "Resumed", "Finished", "Revert started"):
        assert f" {action} " in text, action
    assert not API_WORDS.search(text), API_WORDS.search(text).group()

    # and /activity/ lists the same entries in the same words
    activity = _visible(reader.get("/activity/?resource_type=cohort_migration").content.decode())
    assert "scheduled → running" in activity and f"Moves at {MOVE:%Y-%m-%d}" in activity
    assert not API_WORDS.search(activity), API_WORDS.search(activity).group()


def test_a_rate_ended_is_said_so_with_the_rate_named(reader):
    card, product = make_rate_card("Standard rates"), make_product("API calls")
    jan = (timezone.now() + dt.timedelta(days=40)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    rate = flat_rate(card, product, 10, jan)
    rate_end(rate_card_id=card.id, rate_id=rate.id, ending_before=jan + dt.timedelta(days=30))

    text = _visible(reader.get(f"/activity/history/rate_card/{card.id}/").content.decode())
    assert "Ended rates" in text
    assert f"Rates ended API calls from {jan:%Y-%m-%d}" in text
    assert f"Ended from {jan + dt.timedelta(days=30):%Y-%m-%d}" in text
    # the rate added first still reads "Rates added"; the end is not called that
    assert text.count("Rates added") == 1
    assert not API_WORDS.search(text), API_WORDS.search(text).group()


def test_who_created_a_job_is_said_from_its_audit_entry(reader):
    from config.api.services import api_token_create

    source, target = two_packages()
    # from the command line
    with transaction.atomic(), audit_actor(name="manage.py cohort_migration"):
        by_cli = create_migration(source, target, start=False, name="from the CLI")
    # through the API, with a named token
    user = UserFactory(username="ci-user", is_superuser=True)
    _, raw = api_token_create(user=user, name="Nightly rollout")
    response = Client().post(
        "/v1/packages/migrations/create",
        {
            "source": {"package_id": str(source.id)},
            "target": {"package_id": str(target.id)},
            "effective": {"type": "AT", "at": MOVE.strftime("%Y-%m-%dT%H:%M:%SZ")},
            "name": "through the API",
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert response.status_code == 200, response.content
    by_api = response.json()["data"]["id"]

    cli_page = _visible(reader.get(f"/migrations/{by_cli.id}/").content.decode())
    api_page = _visible(reader.get(f"/migrations/{by_api}/").content.decode())
    assert "by the command line (manage.py cohort_migration)" in cli_page
    assert "by ci-user through the API (token “Nightly rollout”)" in api_page
    assert "by —" not in cli_page and "by —" not in api_page


def test_billing_words_are_the_apps_own_not_a_copy(monkeypatch):
    """The History spells billing providers and delivery methods as the pages do, from the
    catalog's one mapping (registered in its AppConfig.ready()): a name added there reads the
    same in the History, and config.audit keeps no copy to fall behind."""
    monkeypatch.setitem(BILLING_PROVIDER_NAMES, "chargebee", "Chargebee")
    monkeypatch.setitem(DELIVERY_METHOD_NAMES, "aws_eventbridge", "AWS EventBridge")
    assert presenters.value_words("billing_provider", "chargebee") == "Chargebee"
    assert presenters.value_words("delivery_method", "aws_eventbridge") == "AWS EventBridge"
    assert presenters.value_words("billing_provider", "aws_marketplace") == "AWS Marketplace"
