"""Schemathesis against a live server: every documented operation, valid and invalid input.

The run is bounded in time (FUZZ_SECONDS) and seeded, so it is repeatable; the catalog holds one
object of each kind first, so list and get answers carry real objects and are checked against
their documented schemas too.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from schemathesis.specs.openapi.checks import response_schema_conformance

from contracts_app.selectors.contracts import package_with_terms_get
from contracts_app.services.provisioning import contract_provision
from packages_app.services.aliases import alias_assign
from tests.builders.pages import flat_rate
from tests.contracts_app import contract_builders as build
from tests.contracts_app.contract_builders import eight_terms
from tests.factories import user_with_token

# Its own xdist group: the run keeps one core busy for its whole budget.
pytestmark = pytest.mark.xdist_group("fuzz")

# The whole test takes about a minute: FUZZ_SECONDS of requests, plus seeding and start-up.
FUZZ_SECONDS = int(os.environ.get("FUZZ_SECONDS", "45"))
# `fuzzing` cycles through every operation with random valid and invalid input until the time is
# spent. `coverage` (the boundary cases of every schema, in a fixed order) needs about two minutes
# to get through all operations, so it runs when asked: FUZZ_PHASES=coverage,fuzzing FUZZ_SECONDS=240
PHASES = tuple(os.environ.get("FUZZ_PHASES", "fuzzing").split(","))
FUZZ_SEED = 20261130
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
# Probing each path with methods it does not route (405s) is left out.
CONFIG = """
[phases.coverage]
unexpected-methods = []
"""


@dataclass(frozen=True)
class Catalog:
    """One object of each kind, written through the services and the API, and a token."""

    token: str
    ids: dict[str, str]


def seed_catalog(live_url: str) -> Catalog:
    _, token = user_with_token(superuser=True)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    product = build.make_product("API calls", type="USAGE")
    rate_card = build.make_rate_card()
    flat_rate(rate_card, product, 100, start)
    package = build.make_package(terms=eight_terms(product), rate_card=rate_card)
    alias_assign(kind="package", name="Starter", package=package, starting_at=start)
    customer = build.make_customer()
    build.make_billing_configuration(customer)
    package, terms = package_with_terms_get(package_id=package.id)
    contract = contract_provision(
        customer=customer, starting_at=start, package=package, package_terms=terms
    )
    subscription = _post(live_url, token, "/v1/pricing-plan-subscriptions", customer_id=customer.id)
    schedule = _post(
        live_url,
        token,
        "/v1/pricing-plan-schedules",
        pricing_plan_subscription_id=subscription["id"],
        pricing_plan_version_id=str(package.id),
        start_at="2025-01-01T00:00:00Z",
    )
    ids = {
        "product": product.id,
        "billable_metric": product.billable_metric_id,
        "rate_card": rate_card.id,
        "package": package.id,
        "customer": customer.id,
        "contract": contract.id,
        "subscription": subscription["id"],
        "schedule": schedule["id"],
    }
    return Catalog(token=token, ids={key: str(value) for key, value in ids.items()})


@pytest.fixture
def catalog(live_server, transactional_db) -> Catalog:
    return seed_catalog(live_server.url)


def _post(live_url: str, token: str, path: str, **body) -> dict:
    request = urllib.request.Request(
        live_url + path,
        data=json.dumps(body, default=str).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def _schema(live_url: str, token: str) -> bytes:
    request = urllib.request.Request(
        live_url + "/openapi.json", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def _reads(ids: dict[str, str]) -> list[tuple[str, str, dict]]:
    """(method, path, request parts) of every read, naming the seeded objects."""
    at = {"at": "2024-06-01T00:00:00Z"}
    customer, contract = {"customer_id": ids["customer"]}, {"contract_id": ids["contract"]}

    def get_one(collection: str, kind: str) -> tuple[str, str, dict]:
        """The GET of the seeded object of `kind`, by its `{kind}_id` in the path."""
        return "GET", f"{collection}/{{{kind}_id}}", {"path_parameters": {f"{kind}_id": ids[kind]}}

    return [
        ("GET", "/v1/credit-types/list", {}),
        ("GET", "/v1/billable-metrics", {}),
        get_one("/v1/billable-metrics", "billable_metric"),
        ("POST", "/v1/contract-pricing/products/get", {"body": {"id": ids["product"]}}),
        ("POST", "/v1/contract-pricing/products/list", {"body": {}}),
        ("POST", "/v1/contract-pricing/rate-cards/get", {"body": {"id": ids["rate_card"]}}),
        ("POST", "/v1/contract-pricing/rate-cards/list", {"body": {}}),
        (
            "POST",
            "/v1/contract-pricing/rate-cards/getRates",
            {"body": {"rate_card_id": ids["rate_card"], **at}},
        ),
        (
            "POST",
            "/v1/contract-pricing/rate-cards/getRateSchedule",
            {"body": {"rate_card_id": ids["rate_card"], "starting_at": at["at"]}},
        ),
        ("POST", "/v1/packages/get", {"body": {"package_id": ids["package"]}}),
        ("POST", "/v1/packages/list", {"body": {}}),
        (
            "POST",
            "/v1/packages/listContractsOnPackage",
            {"body": {"package_id": ids["package"]}},
        ),
        ("GET", "/v1/customers", {}),
        get_one("/v1/customers", "customer"),
        ("POST", "/v1/getCustomerBillingProviderConfigurations", {"body": customer}),
        ("POST", "/v1/contracts/get", {"body": {**customer, **contract}}),
        ("POST", "/v1/contracts/list", {"body": customer}),
        ("GET", "/v1/pricing-plan-subscriptions", {}),
        get_one("/v1/pricing-plan-subscriptions", "subscription"),
        ("GET", "/v1/pricing-plan-schedules", {}),
        get_one("/v1/pricing-plan-schedules", "schedule"),
    ]


def test_every_read_of_a_real_object_matches_its_documented_schema(live_server, catalog):
    # given the served schema and a catalog with one object of each kind
    schema = schemathesis.openapi.from_dict(json.loads(_schema(live_server.url, catalog.token)))
    headers = {"Authorization": f"Bearer {catalog.token}"}
    for method, path, parts in _reads(catalog.ids):
        case = schema[path][method].Case(**parts)
        # when the object is read
        response = case.call(base_url=live_server.url, headers=headers)
        # then the answer is a success with at least one object, shaped as documented
        assert response.status_code == 200, (path, response.text[:500])
        body = response.json()
        data = body.get("data", body)
        assert data, (path, body)
        case.validate_response(response, checks=[response_schema_conformance], headers=headers)


def test_fuzzing_finds_no_server_error_and_no_answer_off_the_schema(
    live_server, catalog, tmp_path: Path
):
    # given a superuser's token, a catalog with one object of each kind, and the served schema
    schema_file = tmp_path / "openapi.json"
    schema_file.write_bytes(_schema(live_server.url, catalog.token))
    config_file = tmp_path / "schemathesis.toml"
    config_file.write_text(CONFIG)

    # when schemathesis sends valid and invalid requests to every operation (each phase asked
    # for gets an equal share of the time)
    figures = {}
    for phase in PHASES:
        report = tmp_path / f"{phase}.json"
        run = _schemathesis(
            live_server.url, catalog.token, schema_file, config_file, phase=phase, report=report
        )
        figures[phase] = _figures(report)
        print(phase, figures[phase])  # the run's figures, shown with `pytest -s`

        # then no server error and no answer the schema does not describe
        assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
        assert figures[phase]["failures"] == 0 and figures[phase]["errors"] == 0, figures
        assert figures[phase]["operations_tested"] >= 40, figures
    assert sum(f["cases"] for f in figures.values()) >= 100, figures


def _schemathesis(
    live_url: str, token: str, schema_file: Path, config_file: Path, *, phase: str, report: Path
) -> subprocess.CompletedProcess:
    seconds = FUZZ_SECONDS // len(PHASES)
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file",
            str(config_file),
            "run",
            str(schema_file),
            "--url",
            live_url,
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            ",".join(CHECKS),
            "--mode",
            "all",
            "--phases",
            phase,
            "--seed",
            str(FUZZ_SEED),
            "--max-time",
            str(seconds),
            "--workers",
            "2",
            "--request-timeout",
            "20",
            "--suppress-health-check",
            "all",
            "--no-color",
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ],
        cwd=report.parent,  # its cache directory goes there, not into the checkout
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=False,
    )


def _figures(report: Path) -> dict:
    data = json.loads(report.read_text()) if report.exists() else {}
    return {
        "operations_tested": data.get("operations", {}).get("tested", 0),
        "cases": data.get("test_cases", {}).get("generated", 0),
        "failures": len(data.get("failures", [])),
        "errors": len(data.get("errors", [])),
        "stop_reason": data.get("stop_reason"),
        "seconds": round(data.get("running_time", 0), 1),
    }
