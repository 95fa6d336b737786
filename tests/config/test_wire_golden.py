"""The wire, recorded: every API endpoint's answers to one fixed scenario, compared byte for byte
with a golden file (issue 18: a structural refactor must leave the wire unchanged).

The scenario is built through the API itself (a superuser's token, the Django test client):
credit types, metrics, products, a rate card whose later rate supersedes an earlier one,
packages with every kind of term, an alias with a schedule, customers, contracts provisioned
by id and by alias, a v2 edit, commit/credit edits, an amend, a cohort migration previewed,
created, run in-process, reverted, another cancelled, Solvimon-style schedules, audit logs,
webhooks, and error answers (400 naming a field, 401, 403, 404, 409). Then every route of the API (its
DRF views in the URLconf, `api_routes()`, and every operation of the OpenAPI document) must
have been called at least once: a new endpoint fails the test with its name until the scenario
calls it and the golden file is regenerated. The scenario's dates lie in 2029-2031, after "now".

Batches of cohort migrations run in-process through the engine's services (`run_migration`):
the one place the test reaches past the HTTP surface, to update if those services move.

Each request is one line of `tests/config/wire/golden.jsonl`: method, path, request body,
status, Content-Type (and Location, Allow, WWW-Authenticate when sent), and the response body
as the exact text sent. Bodies over `SIDE_FILE_OVER` characters (the OpenAPI documents) are
kept in `tests/config/wire/bodies/` instead, the line naming the file.

What legitimately changes between runs is normalised, in request and response alike:
- every UUID becomes `<id:N>`, numbered in order of first appearance (so "the contract this
  edit names is the one created at step 12" is still checked); the fixed ids of the product
  (USD cents, the delivery methods) stay as they are;
- instants near the time of the run (created_at, audit times, last_used_at...) become their
  shape, digits replaced (`<now:dddd-dd-ddTdd:dd:dd.ddddddZ>`), so precision and format are still
  compared; the scenario's own dates (2029-2031) are kept;
- paging cursors become `<cursor:N>`, request ids (32 hex digits) `<hex:N>`, numbered like ids;
  API tokens and their shown prefixes `pp_<secret>`, webhook secrets `whsec_<secret>`; the docs page's CSRF token `<csrf>`;
  the process named as the actor of audit entries written outside a request `<process>`;
  timings (healthz's `checked_in_ms`, a migration's `items_per_second`) `"<varies>"`;
- integer ids (users, tokens) are made stable instead: every sequence restarts at 1000000.

Ties in an ordering by random ids would make the recording flaky, so the scenario avoids them
(e.g. rates start on distinct days: rate lists order by starting_at, then id).

Regenerate the golden file (after a deliberate wire change, or a merge that changes the wire):

    WIRE_GOLDEN_UPDATE=1 .venv/bin/pytest -p no:xdist tests/config/test_wire_golden.py -q

then read `git diff tests/config/wire/` before committing it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlencode

import pytest
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from rest_framework.views import APIView

from tests.builders.package_payloads import every_term_body
from tests.factories import user_with_token

pytestmark = pytest.mark.django_db

WIRE_DIR = Path(__file__).parent / "wire"
GOLDEN = WIRE_DIR / "golden.jsonl"
BODIES = WIRE_DIR / "bodies"
UPDATE = os.environ.get("WIRE_GOLDEN_UPDATE") == "1"
SIDE_FILE_OVER = 20_000
REGENERATE = (
    "\n\nIf the change is deliberate, regenerate and review: WIRE_GOLDEN_UPDATE=1 "
    ".venv/bin/pytest -p no:xdist tests/config/test_wire_golden.py -q; git diff tests/config/wire/"
)
RECORDED_HEADERS = ("Content-Type", "Location", "Allow", "WWW-Authenticate")

# Views that are part of the URLconf but not of the API's wire (a person's page, or values that
# change with every scrape); every other DRF view and `API_FUNCTION_VIEWS` must be recorded.
NOT_WIRE = {
    "metrics": "Prometheus counters: values change with every request of the process",
}
API_FUNCTION_VIEWS = {"healthz"}

# Ids fixed by the product, not generated: kept as they are.
USD_CENTS_ID = "2714e483-4ff1-48e4-9e25-ac732e8f24f2"
_DELIVERY_NAMESPACE = uuid.UUID("5d1c1e2a-7b59-4c59-9a59-5f0e1b0c9a11")
FIXED_IDS = {USD_CENTS_ID} | {
    str(uuid.uuid5(_DELIVERY_NAMESPACE, method))
    for method in ("direct_to_billing_provider", "aws_sqs", "tackle", "aws_sns")
}


# --- the routes of the API ------------------------------------------------------------------


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def api_routes() -> dict[str, str]:
    """{"METHOD route": view name} for every API route of the URLconf (DRF views, healthz)."""
    routes: dict[str, str] = {}
    for route, entry in _walk(get_resolver().url_patterns):
        if route.startswith("admin/") or route in NOT_WIRE:
            continue
        view_class = getattr(entry.callback, "cls", None)
        if view_class is not None and issubclass(view_class, APIView):
            methods = [
                m
                for m in view_class.http_method_names
                if m not in ("options", "head") and hasattr(view_class, m)
            ]
        elif entry.callback.__name__ in API_FUNCTION_VIEWS:
            methods = ["get"]
        else:
            continue
        name = view_class.__name__ if view_class else entry.callback.__name__
        for method in methods:
            routes[f"{method.upper()} {route}"] = name
    return routes


def documented_routes(openapi_text: str) -> set[str]:
    """{"METHOD route"} for every operation of the OpenAPI document the API serves."""
    routes = set()
    for path, item in json.loads(openapi_text)["paths"].items():
        concrete = re.sub(r"\{version\}", "1", path)
        concrete = re.sub(r"\{[^}]+\}", "x", concrete)
        route = resolve(concrete).route
        routes |= {
            f"{m.upper()} {route}" for m in item if m in ("get", "post", "put", "patch", "delete")
        }
    return routes


# --- normalisation --------------------------------------------------------------------------

UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
INSTANT_RE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})(?P<rest>[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?)?"
)
CURSOR_RE = re.compile(r'(?P<key>"(?:next_page|cursor|next_cursor)"\s*:\s*)"(?P<value>[^"]+)"')
CURSOR_QUERY_RE = re.compile(r"(?P<key>[?&](?:next_page|cursor)=)(?P<value>[^&]+)")
HEX_ID_RE = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{32}(?![0-9A-Za-z])")  # request ids
TOKEN_RE = re.compile(r"pp_[A-Za-z0-9_\-]{4,}")  # API tokens and their shown prefixes
WEBHOOK_SECRET_RE = re.compile(r"whsec_[A-Za-z0-9+/=]+")
# Audit entries written outside a request name the process (`pytest`, or `-c` under xdist).
PROCESS_ACTOR_RE = re.compile(r'"id":"system:(?P<name>[^"]*)","name":"(?P=name)"')
CSRF_RE = re.compile(r'(?P<key>X-CSRFTOKEN"\] = ")[^"]+')
VOLATILE_NUMBER_RE = re.compile(r'(?P<key>"(?:checked_in_ms|items_per_second)"\s*:\s*)[0-9.]+')
NEAR_NOW = dt.timedelta(days=30)


class Normaliser:
    """One mapping for the whole recording, so equal ids stay equal across requests."""

    def __init__(self):
        self.ids: dict[str, str] = {}
        self.cursors: dict[str, str] = {}
        self.today = timezone.now().date()

    def _id(self, match: re.Match) -> str:
        value = match.group(0).lower()
        if value in FIXED_IDS:
            return match.group(0)
        return self.ids.setdefault(value, f"<id:{len(self.ids) + 1}>")

    def _hex_id(self, match: re.Match) -> str:
        return self.ids.setdefault(match.group(0), f"<hex:{len(self.ids) + 1}>")

    def _cursor(self, match: re.Match) -> str:
        value = unquote(match.group("value"))  # as sent back in a query string
        placeholder = self.cursors.setdefault(value, f"<cursor:{len(self.cursors) + 1}>")
        quote = '"' if match.group(0).endswith('"') else ""
        return f"{match.group('key')}{quote}{placeholder}{quote}"

    def _instant(self, match: re.Match) -> str:
        try:
            day = dt.date.fromisoformat(match.group("date"))
        except ValueError:
            return match.group(0)
        if abs(day - self.today) > NEAR_NOW:
            return match.group(0)  # a date of the scenario
        return "<now:" + re.sub(r"\d", "d", match.group(0)) + ">"

    def __call__(self, text: str) -> str:
        text = CURSOR_RE.sub(self._cursor, text)
        text = CURSOR_QUERY_RE.sub(self._cursor, text)
        text = UUID_RE.sub(self._id, text)
        text = HEX_ID_RE.sub(self._hex_id, text)
        text = INSTANT_RE.sub(self._instant, text)
        text = TOKEN_RE.sub("pp_<secret>", text)
        text = WEBHOOK_SECRET_RE.sub("whsec_<secret>", text)
        text = PROCESS_ACTOR_RE.sub('"id":"system:<process>","name":"<process>"', text)
        text = CSRF_RE.sub(lambda m: m.group("key") + "<csrf>", text)
        return VOLATILE_NUMBER_RE.sub(lambda m: m.group("key") + '"<varies>"', text)


# --- the recorder ---------------------------------------------------------------------------


class Recorder:
    def __init__(self, client, token: str):
        self.client = client
        self.token = token
        self.normalise = Normaliser()
        self.entries: list[dict] = []

    def call(
        self,
        method: str,
        path: str,
        body=None,
        *,
        query: dict | None = None,
        expect: int = 200,
        headers: dict | None = None,
        auth: str | None = "default",
        raw: str | None = None,
    ):
        """One request, recorded; the scenario stops at once if the status is not `expect`.
        Returns the decoded JSON answer (or None)."""
        url = path + ("?" + urlencode(query, doseq=True) if query else "")
        extra = dict(headers or {})
        token = self.token if auth == "default" else auth
        if token is not None:
            extra.setdefault("HTTP_AUTHORIZATION", f"Bearer {token}")
        text = raw if raw is not None else (None if body is None else json.dumps(body))
        if method == "GET":
            response = self.client.get(url, **extra)
        else:
            send = getattr(self.client, method.lower())
            response = send(
                url,
                data=text if text is not None else "",
                content_type="application/json",
                **extra,
            )
        content = response.content.decode()
        try:
            route = resolve(path).route
        except Resolver404:
            route = "<no route>"
        assert response.status_code == expect, (
            f"scenario step {len(self.entries) + 1} {method} {url}: expected {expect}, "
            f"got {response.status_code}: {content[:2000]}"
        )
        entry = {
            "n": len(self.entries) + 1,
            "endpoint": f"{method} {route}",
            "request": f"{method} {self.normalise(url)}",
            "request_body": None if text is None else self.normalise(text),
            "status": response.status_code,
            "headers": {h: self.normalise(response[h]) for h in RECORDED_HEADERS if h in response},
            "body": self.normalise(content),
        }
        self.entries.append(entry)
        try:
            return json.loads(content)
        except ValueError:
            return None

    def post(self, path: str, body=None, **kwargs):
        return self.call("POST", path, {} if body is None else body, **kwargs)

    def get(self, path: str, **kwargs):
        return self.call("GET", path, **kwargs)


def offset(unit: str = "DAYS", value: int = 0) -> dict:
    return {"unit": unit, "value": value}


# --- the scenario ---------------------------------------------------------------------------

PRICING = "/v1/contract-pricing"
MIGRATIONS = "/v1/packages/migrations"


def record_scenario(client) -> list[dict]:
    restart_sequences()
    _, token = user_with_token(superuser=True, username="wire-recorder", never_used=True)
    r = Recorder(client, token)
    scenario(r)
    return r.entries


def restart_sequences() -> None:
    """Integer ids (users, tokens; audit entries show them) drawn from every sequence start at
    one fixed number, whatever ran before in this database. Sequences are not transactional:
    later tests simply get larger ids."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(c.oid, 1000000, false) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'S' AND n.nspname = current_schema()"
        )


def scenario(r: Recorder) -> None:
    usd = USD_CENTS_ID
    # Plumbing.
    r.get("/healthz")
    r.get("/v1/noop")
    r.post("/v1/noop", {})
    r.get("/openapi.json")
    r.get("/openapi.yaml")
    r.get("/api/docs")

    # Credit types.
    tokens = r.post("/v1/credit-types/create", {"name": "Wire tokens"})["data"]["id"]
    spare = r.post("/v1/credit-types/create", {"name": "Wire spare"})["data"]["id"]
    r.post("/v1/credit-types/create", {"name": "Wire tokens"}, expect=409)
    r.post("/v1/credit-types/archive", {"id": spare})
    r.get("/v1/credit-types/list")
    r.get("/v1/credit-types/list", query={"include_archived": "true", "limit": 2})

    # Billable metrics.
    calls_metric = r.post(
        "/v1/billable-metrics/create",
        {
            "name": "Wire API calls",
            "aggregation_type": "SUM",
            "aggregation_key": "calls",
            "event_type_filter": {"in_values": ["api"]},
            "property_filters": [
                {"name": "calls", "exists": True},
                {"name": "region", "in_values": ["eu", "us"]},
            ],
            "group_keys": [["region"]],
            "custom_fields": {"team": "wire"},
        },
    )["data"]["id"]
    old_metric = r.post(
        "/v1/billable-metrics/create", {"name": "Wire old", "aggregation_type": "COUNT"}
    )["data"]["id"]
    r.post(
        "/v1/billable-metrics/create", {"name": "Wire bad", "aggregation_type": "SUM"}, expect=400
    )
    r.call("PUT", f"/v1/billable-metrics/{old_metric}", {"name": "Wire older"})
    r.post("/v1/billable-metrics/archive", {"id": old_metric})
    r.get(f"/v1/billable-metrics/{calls_metric}")
    r.get(f"/v1/billable-metrics/{uuid.UUID(int=1)}", expect=404)
    r.get("/v1/billable-metrics")
    r.get("/v1/billable-metrics", query={"include_archived": "true"})

    # Products.
    products = f"{PRICING}/products"
    usage = r.post(
        f"{products}/create",
        {
            "name": "Wire usage",
            "type": "USAGE",
            "billable_metric_id": calls_metric,
            "tags": ["api"],
            "pricing_group_key": ["region"],
            "quantity_conversion": {"conversion_factor": 1000, "operation": "DIVIDE"},
            "quantity_rounding": {"decimal_places": 2, "rounding_method": "ROUND_UP"},
            "custom_fields": {"sku": "u-1"},
        },
    )["data"]["id"]
    fixed = r.post(f"{products}/create", {"name": "Wire commit", "type": "FIXED"})["data"]["id"]
    seats = r.post(f"{products}/create", {"name": "Wire seats", "type": "SUBSCRIPTION"})["data"][
        "id"
    ]
    composite = r.post(
        f"{products}/create",
        {"name": "Wire bundle", "type": "COMPOSITE", "composite_tags": ["api"]},
    )["data"]["id"]
    r.post(f"{products}/create", {"name": "Wire nothing", "type": "GADGET"}, expect=400)
    r.post(
        f"{products}/update",
        {"product_id": fixed, "starting_at": "2029-01-01T00:00:00Z", "name": "Wire prepaid"},
    )
    r.post(f"{products}/archive", {"product_id": composite})
    r.post(f"{products}/get", {"id": usage})
    r.post(f"{products}/get", {"id": str(uuid.UUID(int=2))}, expect=404)
    r.post(f"{products}/list", {})
    first = r.post(f"{products}/list", {"archive_filter": "ALL"}, query={"limit": 2})
    r.post(
        f"{products}/list",
        {"archive_filter": "ALL"},
        query={"limit": 2, "next_page": first["next_page"]},
    )

    # A rate card; a later rate supersedes an earlier one.
    cards = f"{PRICING}/rate-cards"
    card = r.post(
        f"{cards}/create",
        {
            "name": "Wire rates",
            "description": "List prices",
            "fiat_credit_type_id": usd,
            "credit_type_conversions": [
                {"custom_credit_type_id": tokens, "fiat_per_custom_credit": 2}
            ],
            "custom_fields": {"region": "eu"},
            "aliases": [{"name": "wire-rates", "starting_at": "2029-01-01T00:00:00Z"}],
        },
    )["data"]["id"]
    spare_card = r.post(f"{cards}/create", {"name": "Wire spare rates"})["data"]["id"]
    r.post(
        f"{cards}/addRate",
        {
            "rate_card_id": card,
            "product_id": usage,
            "entitled": True,
            "rate_type": "FLAT",
            "price": 0.5,
            "starting_at": "2029-01-01T00:00:00Z",
            "pricing_group_values": {"region": "eu"},
        },
    )
    r.post(
        f"{cards}/addRate",
        {
            "rate_card_id": card,
            "product_id": usage,
            "entitled": True,
            "rate_type": "FLAT",
            "price": 0.45,
            "starting_at": "2030-01-01T00:00:00Z",
            "pricing_group_values": {"region": "eu"},
        },
    )
    r.post(
        f"{cards}/addRates",
        {
            "rate_card_id": card,
            "rates": [
                {
                    "product_id": usage,
                    "entitled": True,
                    "rate_type": "TIERED",
                    "starting_at": "2029-02-01T00:00:00Z",
                    "ending_before": "2031-01-01T00:00:00Z",
                    "pricing_group_values": {"region": "us"},
                    "tiers": [{"price": 3, "size": 100}, {"price": 1.5}],
                    "commit_rate": {"rate_type": "FLAT", "price": 2},
                },
                {
                    "product_id": seats,
                    "entitled": True,
                    "rate_type": "SUBSCRIPTION",
                    "starting_at": "2029-03-01T00:00:00Z",
                    "price": 1000,
                    "quantity": 1,
                    "is_prorated": True,
                    "billing_frequency": "MONTHLY",
                },
                {
                    "product_id": fixed,
                    "entitled": False,
                    "rate_type": "FLAT",
                    "starting_at": "2029-04-01T00:00:00Z",
                    "price": 7,
                    "credit_type_id": tokens,
                },
            ],
        },
    )
    r.post(
        f"{cards}/addRate",
        {"rate_card_id": card, "product_id": usage, "entitled": True, "rate_type": "FLAT"},
        expect=400,
    )
    r.post(
        f"{cards}/update",
        {
            "rate_card_id": card,
            "description": "List prices (2029)",
            "aliases": [{"name": "wire-rates", "starting_at": "2029-01-01T00:00:00Z"}],
        },
    )
    r.post(f"{cards}/archive", {"id": spare_card})
    r.post(f"{cards}/get", {"id": card})
    r.post(f"{cards}/list", {})
    r.post(f"{cards}/list", {"archive_filter": "ARCHIVED"})
    r.post(f"{cards}/getRates", {"rate_card_id": card, "at": "2029-06-01T00:00:00Z"})
    r.post(
        f"{cards}/getRates",
        {
            "rate_card_id": card,
            "at": "2030-06-01T00:00:00Z",
            "selectors": [{"product_id": usage, "partial_pricing_group_values": {"region": "eu"}}],
        },
    )
    r.post(
        f"{cards}/getRateSchedule",
        {"rate_card_id": card, "starting_at": "2029-01-01T00:00:00Z"},
        query={"limit": 3},
    )
    r.post(
        f"{cards}/getRateSchedule",
        {
            "rate_card_id": card,
            "starting_at": "2029-01-01T00:00:00Z",
            "ending_before": "2031-01-01T00:00:00Z",
            "selectors": [{"product_id": usage}],
        },
    )

    # Packages: one with every kind of term, a second version, one archived.
    full = every_term_package(card, usage=usage, fixed=fixed, seats=seats, tokens=tokens)
    v1 = r.post("/v1/packages/create", full)["data"]["id"]
    r.post("/v1/packages/create", full, expect=409)
    r.post("/v1/packages/create", {**full, "uniqueness_key": None, "name": ""}, expect=400)
    v2_body = second_version(usage=usage, fixed=fixed)
    v2 = r.post("/v1/packages/create", v2_body)["data"]["id"]
    old = r.post("/v1/packages/create", {"name": "Wire retired", "rate_card_id": card})["data"][
        "id"
    ]
    r.post("/v1/packages/archive", {"package_id": old})
    r.post("/v1/packages/get", {"package_id": v1})
    r.post("/v1/packages/get", {"package_id": str(uuid.UUID(int=3))}, expect=404)
    r.post("/v1/packages/list", {})
    first = r.post("/v1/packages/list", {"archive_filter": "ALL"}, query={"limit": 2})
    r.post(
        "/v1/packages/list",
        {"archive_filter": "ALL"},
        query={"limit": 2, "next_page": first["next_page"]},
    )

    # The alias "wire-plan": v1 now, v2 from mid-2030.
    r.post(
        "/v1/packages/aliases/schedule",
        {"package_id": v1, "name": "wire-plan", "starting_at": "2029-01-01T00:00:00Z"},
    )
    r.post(
        "/v1/packages/aliases/schedule",
        {"package_id": v2, "name": "wire-plan", "starting_at": "2030-07-01T00:00:00Z"},
    )
    r.post(
        "/v1/packages/aliases/schedule",
        {
            "package_id": v2,
            "name": "wire-plan",
            "starting_at": "2030-07-01T00:00:00Z",
            "ending_before": "2030-01-01T00:00:00Z",
        },
        expect=400,
    )
    r.post("/v1/packages/aliases/list", {})
    r.post("/v1/packages/aliases/list", {"include_superseded": True}, query={"limit": 1})

    # A preview of what a package provisions.
    r.post(
        "/v1/packages/preview",
        {"package_id": v1, "starting_at": "2030-01-01T00:00:00Z"},
    )
    r.post("/v1/packages/preview", {**v2_body, "starting_at": "2030-01-01T00:00:00Z"})

    # Customers.
    stripe = {
        "billing_provider": "stripe",
        "delivery_method": "direct_to_billing_provider",
        "configuration": {
            "stripe_customer_id": "cus_wire",
            "stripe_collection_method": "send_invoice",
        },
    }
    acme = r.post(
        "/v1/customers",
        {
            "name": "Wire Acme",
            "external_id": "wire-acme",
            "ingest_aliases": ["acme", "acme@example.com"],
            "custom_fields": {"tier": "gold"},
            "billing_config": {
                "billing_provider_customer_id": "cus_wire",
                "billing_provider_type": "stripe",
                "stripe_collection_method": "send_invoice",
            },
            "customer_billing_provider_configurations": [stripe],
        },
    )["data"]["id"]
    globex = r.post("/v1/customers", {"name": "Wire Globex"})["data"]["id"]
    initech = r.post(
        "/v1/customers",
        {"name": "Wire Initech", "customer_billing_provider_configurations": [stripe]},
    )["data"]["id"]
    gone = r.post("/v1/customers", {"name": "Wire Gone"})["data"]["id"]
    r.post("/v1/customers", {"name": "Wire Dup", "external_id": "wire-acme"}, expect=409)
    r.post("/v1/customers", {"name": ""}, expect=400)
    r.post(f"/v1/customers/{globex}/setName", {"name": "Wire Globex Corp"})
    r.post(f"/v1/customers/{globex}/setIngestAliases", {"ingest_aliases": ["globex"]})
    r.post(
        f"/v1/customers/{globex}/updateConfig",
        {"leave_stripe_invoices_in_draft": True, "salesforce_account_id": "sf-1"},
    )
    r.post(
        "/v1/setCustomerBillingProviderConfigurations",
        {"data": [{**stripe, "customer_id": globex}]},
    )
    configurations = r.post(
        "/v1/getCustomerBillingProviderConfigurations", {"customer_id": globex}
    )["data"]
    r.post(
        "/v1/archiveCustomerBillingProviderConfigurations",
        {
            "customer_id": globex,
            "customer_billing_provider_configuration_ids": [configurations[0]["id"]],
        },
    )
    r.post(
        "/v1/setCustomerBillingProviderConfigurations",
        {"data": [{**stripe, "customer_id": globex}]},
    )
    r.post(
        "/v1/getCustomerBillingProviderConfigurations",
        {"customer_id": globex, "include_archived": True},
    )
    r.post("/v1/customers/archive", {"id": gone})
    r.get(f"/v1/customers/{acme}")
    r.get(f"/v1/customers/{uuid.UUID(int=4)}", expect=404)
    r.get("/v1/customers")
    r.get("/v1/customers", query={"only_archived": "true"})
    r.get("/v1/customers", query={"ingest_alias": "globex", "limit": 1})

    # Forecasts of what a customer on a package would be billed.
    r.post(
        "/v1/packages/forecast",
        {
            "package_id": v1,
            "starting_at": "2030-01-31T00:00:00Z",
            "months": 4,
            "usage": [{"product_id": usage, "quantity_per_month": 1500}],
            "customer_id": acme,
        },
    )
    r.post(
        "/v1/packages/forecast",
        {"package_alias": "wire-plan", "starting_at": "2030-08-01T00:00:00Z", "months": 2},
    )
    r.post(
        "/v1/packages/forecast",
        {"package_id": v1, "starting_at": "2030-01-01T00:00:00Z", "months": 37},
        expect=400,
    )

    # Contracts: by package id and by alias; a 409 for a reused uniqueness key.
    by_id = r.post(
        "/v1/contracts/create",
        {
            "customer_id": acme,
            "package_id": v1,
            "starting_at": "2030-01-01T00:00:00Z",
            "uniqueness_key": "wire-acme-1",
            "custom_fields": {"crm": "42"},
        },
    )["data"]["id"]
    r.post(
        "/v1/contracts/create",
        {
            "customer_id": acme,
            "package_id": v1,
            "starting_at": "2030-01-01T00:00:00Z",
            "uniqueness_key": "wire-acme-1",
        },
        expect=409,
    )
    r.post(
        "/v1/contracts/create",
        {"customer_id": acme, "package_id": v1, "starting_at": "yesterday"},
        expect=400,
    )
    by_alias = r.post(
        "/v1/contracts/create",
        {
            "customer_id": globex,
            "package_alias": "wire-plan",
            "starting_at": "2030-02-01T00:00:00Z",
        },
    )["data"]["id"]
    negotiated = r.post(
        "/v1/contracts/create",
        {
            "customer_id": initech,
            "starting_at": "2030-01-01T00:00:00Z",
            "ending_before": "2031-01-01T00:00:00Z",
            "name": "Wire negotiated",
            "rate_card_id": card,
            "credits": [
                {
                    "product_id": fixed,
                    "access_schedule": {
                        "schedule_items": [
                            {
                                "amount": 100,
                                "starting_at": "2030-01-01T00:00:00Z",
                                "ending_before": "2030-07-01T00:00:00Z",
                            }
                        ]
                    },
                }
            ],
        },
    )["data"]["id"]
    acme_ids = {"customer_id": acme, "contract_id": by_id}
    r.post("/v1/contracts/get", acme_ids)
    r.post(
        "/v1/contracts/get", {"customer_id": acme, "contract_id": str(uuid.UUID(int=5))}, expect=404
    )
    r.post("/v2/contracts/get", {"customer_id": globex, "contract_id": by_alias})

    # A v2 edit, commit and credit edits, an amend.
    current = r.post("/v2/contracts/get", acme_ids)["data"]
    edited = r.post(
        "/v2/contracts/edit",
        {
            **acme_ids,
            "add_credits": [
                {
                    "product_id": fixed,
                    "name": "Goodwill credit",
                    "access_schedule": {
                        "schedule_items": [
                            {
                                "amount": 500,
                                "starting_at": "2030-02-01T00:00:00Z",
                                "ending_before": "2030-05-01T00:00:00Z",
                            }
                        ]
                    },
                }
            ],
            "add_overrides": [
                {
                    "starting_at": "2030-03-01T00:00:00Z",
                    "ending_before": "2030-06-01T00:00:00Z",
                    "type": "MULTIPLIER",
                    "multiplier": 0.8,
                    "product_id": usage,
                }
            ],
            "add_discounts": [
                {
                    "product_id": fixed,
                    "schedule": {
                        "schedule_items": [{"timestamp": "2030-02-01T00:00:00Z", "amount": 100}]
                    },
                }
            ],
            "archive_commits": [{"id": current["commits"][-1]["id"]}],
            "update_contract_name": "Wire Acme (negotiated)",
            "update_net_payment_terms_days": 45,
            "uniqueness_key": "wire-edit-1",
        },
    )
    assert edited["data"]["id"] == by_id
    r.post(
        "/v2/contracts/edit",
        {**acme_ids, "update_net_payment_terms_days": 60, "uniqueness_key": "wire-edit-1"},
        expect=409,
    )
    r.post("/v2/contracts/edit", {**acme_ids, "archive_commits": [{"id": "nope"}]}, expect=400)
    commit = current["commits"][0]
    r.post(
        "/v2/contracts/commits/edit",
        {
            "customer_id": acme,
            "commit_id": commit["id"],
            "name": "Edited commit",
            "access_schedule": {
                "update_schedule_items": [
                    {"id": commit["access_schedule"]["schedule_items"][0]["id"], "amount": 1234}
                ]
            },
        },
    )
    r.post(
        "/v2/contracts/credits/edit",
        {"customer_id": acme, "credit_id": current["credits"][0]["id"], "priority": 7},
    )
    r.post(
        "/v1/contracts/amend",
        {
            **acme_ids,
            "starting_at": "2030-03-01T00:00:00Z",
            "credits": [
                {
                    "product_id": fixed,
                    "name": "Amended credit",
                    "access_schedule": {
                        "schedule_items": [
                            {
                                "amount": 75,
                                "starting_at": "2030-03-01T00:00:00Z",
                                "ending_before": "2030-04-01T00:00:00Z",
                            }
                        ]
                    },
                }
            ],
            "scheduled_charges": [
                {
                    "product_id": fixed,
                    "schedule": {
                        "schedule_items": [{"timestamp": "2030-03-01T00:00:00Z", "amount": 999}]
                    },
                }
            ],
            "salesforce_opportunity_id": "opp-wire",
        },
    )
    r.post("/v2/contracts/getEditHistory", acme_ids)
    r.post("/v1/contracts/get", {**acme_ids, "include_balance": True})
    r.post("/v2/contracts/get", {**acme_ids, "as_of_date": "2030-04-15T00:00:00Z"}, expect=400)
    r.post("/v1/contracts/list", {"customer_id": acme})
    r.post("/v2/contracts/list", {"customer_id": acme, "covering_date": "2030-06-01T00:00:00Z"})
    r.post(
        "/v1/contracts/updateEndDate",
        {
            "customer_id": initech,
            "contract_id": negotiated,
            "ending_before": "2030-12-01T00:00:00Z",
        },
    )
    r.post(
        "/v1/contracts/archive",
        {"customer_id": initech, "contract_id": negotiated, "void_invoices": False},
    )
    r.post("/v1/contracts/list", {"customer_id": initech, "include_archived": True})
    r.post("/v1/packages/listContractsOnPackage", {"package_id": v1})
    r.post(
        "/v1/packages/listContractsOnPackage",
        {"package_id": v1, "covering_date": "2030-03-01T00:00:00Z", "include_archived": True},
        query={"limit": 1},
    )

    # Cohort migration v1 → v2: preview, create, run in-process, read, revert; one cancelled.
    move = {
        "source": {"package_id": v1},
        "target": {"package_id": v2},
        "effective": {"type": "AT", "at": "2030-09-01T00:00:00Z"},
    }
    r.post(f"{MIGRATIONS}/preview", move)
    r.post(f"{MIGRATIONS}/preview", {**move, "customer_ids": [acme]})
    r.post(f"{MIGRATIONS}/preview", {**move, "effective": {"type": "SOON"}}, expect=400)
    migration = r.post(
        f"{MIGRATIONS}/create", {**move, "name": "Wire v1 → v2", "uniqueness_key": "wire-move"}
    )["data"]["id"]
    r.post(f"{MIGRATIONS}/create", {**move, "uniqueness_key": "wire-move"}, expect=409)
    run_migration(migration)
    r.post(f"{MIGRATIONS}/get", {"migration_id": migration})
    # Items are listed in id order and their ids are random: each call asks for one item by
    # status, so the recording does not depend on which id came first.
    r.post(f"{MIGRATIONS}/listItems", {"migration_id": migration, "status": "SKIPPED"})
    r.post(f"{MIGRATIONS}/listItems", {"migration_id": migration, "status": "MIGRATED", "limit": 1})
    r.post("/v2/contracts/list", {"customer_id": acme})
    r.post("/v1/contracts/get", acme_ids)
    r.post(f"{MIGRATIONS}/revert", {"migration_id": migration})
    run_migration(migration, revert=True)
    r.post(f"{MIGRATIONS}/get", {"migration_id": migration})
    later = r.post(
        f"{MIGRATIONS}/create",
        {**move, "effective": {"type": "AT", "at": "2030-10-01T00:00:00Z"}, "name": "Wire later"},
    )["data"]["id"]
    r.post(f"{MIGRATIONS}/cancel", {"migration_id": later})
    r.post(f"{MIGRATIONS}/cancel", {"migration_id": str(uuid.UUID(int=6))}, expect=404)
    # A staged rollout (issue 22): a canary of 1 pauses; pause, resume, retryFailed, cancel, and
    # a revert of what has not taken effect, of one customer.
    staged = r.post(
        f"{MIGRATIONS}/create", {**move, "name": "Wire canary", "canary": {"count": 1}}
    )["data"]["id"]
    r.post(f"{MIGRATIONS}/create", {**move, "canary": {"count": 0}}, expect=400)
    run_migration(staged)
    r.post(f"{MIGRATIONS}/get", {"migration_id": staged})
    r.post(f"{MIGRATIONS}/pause", {"migration_id": staged}, expect=400)
    r.post(f"{MIGRATIONS}/retryFailed", {"migration_id": staged}, expect=400)
    r.post(f"{MIGRATIONS}/resume", {"migration_id": staged})
    r.post(f"{MIGRATIONS}/pause", {"migration_id": staged})
    r.post(f"{MIGRATIONS}/cancel", {"migration_id": staged})
    r.post(
        f"{MIGRATIONS}/revert",
        {"migration_id": staged, "scope": "SOME"},
        expect=400,
    )
    r.post(
        f"{MIGRATIONS}/revert",
        {"migration_id": staged, "customer_ids": [str(uuid.UUID(int=7))]},
        expect=400,
    )
    r.post(f"{MIGRATIONS}/revert", {"migration_id": staged, "scope": "NOT_IN_EFFECT"})
    run_migration(staged, revert=True)
    r.post(f"{MIGRATIONS}/get", {"migration_id": staged})
    r.post(f"{MIGRATIONS}/list", {})
    r.post(f"{MIGRATIONS}/list", {"package_id": v1, "limit": 1})

    # Solvimon-style subscriptions and schedules on the plan "wire-plan".
    subscription = r.post(
        "/v1/pricing-plan-subscriptions",
        {"customer_id": initech, "reference": "wire-sub", "name": "Wire subscription"},
        expect=201,
    )["id"]
    r.get(f"/v1/pricing-plan-subscriptions/{subscription}")
    r.get("/v1/pricing-plan-subscriptions", query={"customer_id": initech})
    r.get("/v2/pricing-plan-subscriptions", expect=404)
    latest = {"pricing_plan_reference": "wire-plan", "type": "LATEST"}
    schedule = r.post(
        "/v1/pricing-plan-schedules",
        {
            "pricing_plan_subscription_id": subscription,
            "start_at": "2030-02-01T00:00:00Z",
            "pricing_plan_version_selector": {**latest, "type": "VERSION", "version": 1},
        },
        expect=201,
    )["id"]
    r.post(
        "/v1/pricing-plan-schedules",
        {"pricing_plan_subscription_id": subscription, "start_at": "2030-02-01T00:00:00Z"},
        expect=400,
    )
    r.get(f"/v1/pricing-plan-schedules/{schedule}")
    r.get("/v1/pricing-plan-schedules", query={"pricing_plan_subscription_id": subscription})
    r.post(
        f"/v1/pricing-plan-schedules/{schedule}/migrate",
        {"start_at": "2030-08-01T00:00:00Z", "pricing_plan_version_selector": latest},
        expect=201,
    )
    r.get("/v1/pricing-plan-schedules/not-a-schedule", expect=404)

    # Audit logs.
    first = r.get("/v1/auditLogs", query={"limit": 5})
    r.get("/v1/auditLogs", query={"limit": 5, "next_page": first["next_page"]})
    r.get("/v1/auditLogs", query={"resource_type": "contract", "resource_id": by_id})
    r.get("/v1/auditLogs", query={"sort": "date_desc", "limit": 3})

    # Webhooks (nothing is delivered: the test's transaction never commits).
    hooks = "/v1/webhooks"
    hook = r.post(
        f"{hooks}/create",
        {
            "url": "https://93.184.216.34/wire-hooks",
            "events": ["contract.created", "package.created"],
            "description": "Wire receiver",
        },
    )["data"]["id"]
    spare_hook = r.post(
        f"{hooks}/create",
        {"url": "https://93.184.216.34/wire-spare", "events": ["package.created"]},
    )["data"]["id"]
    r.post(f"{hooks}/create", {"url": "ftp://93.184.216.34/h", "events": []}, expect=400)
    r.post(f"{hooks}/rotateSecret", {"webhook_id": hook})
    r.post(f"{hooks}/archive", {"webhook_id": spare_hook})
    r.post(f"{hooks}/list", {})
    r.post(f"{hooks}/list", {"archive_filter": "ARCHIVED"})
    r.post(f"{hooks}/deliveries/list", {"webhook_id": hook})
    r.post(
        f"{hooks}/deliveries/resend",
        {"webhook_id": hook, "event_id": str(uuid.UUID(int=7))},
        expect=404,
    )

    # Authentication and routing errors.
    r.post("/v1/packages/list", {}, auth=None, expect=401)
    r.post("/v1/packages/list", {}, auth="not-a-token", expect=401)
    _, reader = user_with_token(username="wire-reader")
    r.post("/v1/packages/create", {"name": "x"}, auth=reader, expect=403)
    r.post("/v1/nothing-here", {}, expect=404)
    r.post("/v1/packages/list", raw="{not json", expect=400)


def every_term_package(card: str, *, usage: str, fixed: str, seats: str, tokens: str) -> dict:
    body = every_term_body(
        rate_card_id=card,
        fixed=fixed,
        usage=usage,
        seats=seats,
        tokens=tokens,
        usd=USD_CENTS_ID,
        name="Wire Standard v1",
        contract_name="Wire contract",
        alias="wire-standard",
        alias_starting_at="2029-01-01T00:00:00.000Z",
        uniqueness_key="wire-standard-v1",
    )
    body["commits"].append(
        {
            "type": "POSTPAID",
            "product_id": fixed,
            "name": "Postpaid minimum",
            "access_schedule": {
                "schedule_items": [
                    {"amount": 5000, "starting_at_offset": offset(), "duration": offset("YEARS", 1)}
                ]
            },
            "invoice_schedule": {
                "schedule_items": [
                    {"date_offset": offset("MONTHS", 12), "quantity": 1, "unit_price": 5000}
                ]
            },
        }
    )
    body["recurring_credits"][0]["recurrence_frequency"] = "QUARTERLY"
    body["subscriptions"][0]["subscription_rate"]["billing_frequency"] = "MONTHLY"
    body["overrides"][2] = {
        "starting_at_offset": offset(),
        "type": "MULTIPLIER",
        "priority": 3,
        "multiplier": 0.95,
        "override_specifiers": [{"product_id": fixed}],
    }
    del body["spend_threshold_configuration"]["payment_gate_config"]["precalculated_tax_config"]
    del body["prepaid_balance_threshold_configuration"]["threshold_balance_specifiers"]
    return body


def second_version(*, usage: str, fixed: str) -> dict:
    return {
        "name": "Wire Standard v2",
        "rate_card_alias": "wire-rates",
        "billing_provider": "stripe",
        "delivery_method": "direct_to_billing_provider",
        "duration": offset("YEARS", 1),
        "usage_statement_schedule": {"frequency": "MONTHLY"},
        "commits": [
            {
                "type": "PREPAID",
                "product_id": fixed,
                "name": "Annual prepaid",
                "access_schedule": {
                    "schedule_items": [
                        {
                            "amount": 4000,
                            "starting_at_offset": offset(),
                            "duration": offset("YEARS", 1),
                        }
                    ]
                },
                "invoice_schedule": {
                    "schedule_items": [{"date_offset": offset(), "quantity": 1, "unit_price": 4000}]
                },
            }
        ],
        "overrides": [
            {
                "starting_at_offset": offset(),
                "type": "MULTIPLIER",
                "priority": 1,
                "multiplier": 0.9,
                "override_specifiers": [{"product_id": usage}],
            }
        ],
    }


def run_migration(migration_id: str, revert: bool = False) -> None:
    """Run a migration's batches in-process, as the worker would (nothing is queued: the test's
    transaction never commits)."""
    from contracts_app.services.cohort_migration_batches import (
        migration_batch_run,
        migration_revert_batch_run,
    )
    from contracts_app.services.cohort_migrations import (
        migration_finish_if_done,
        migration_start,
    )

    if not revert:
        assert migration_start(migration_id=migration_id)
    step = migration_revert_batch_run if revert else migration_batch_run
    while step(migration_id=migration_id, batch_size=5):
        pass
    migration_finish_if_done(migration_id=migration_id)


# --- storage and comparison -----------------------------------------------------------------


def dump(entries: list[dict]) -> None:
    """The golden file; a large body goes to a side file named by its endpoint and how many
    requests to that endpoint came before (so adding a step elsewhere renames nothing)."""
    WIRE_DIR.mkdir(exist_ok=True)
    if BODIES.exists():
        for old in BODIES.iterdir():
            old.unlink()
    seen: Counter[str] = Counter()
    lines = []
    for entry in entries:
        entry = dict(entry)
        seen[entry["endpoint"]] += 1
        if len(entry["body"]) > SIDE_FILE_OVER:
            BODIES.mkdir(exist_ok=True)
            slug = re.sub(r"[^A-Za-z0-9]+", "-", entry["endpoint"]).strip("-")
            name = f"{slug}-{seen[entry['endpoint']]}.txt"
            (BODIES / name).write_bytes(entry["body"].encode("utf-8"))
            entry["body"] = None
            entry["body_file"] = name
        lines.append(json.dumps(entry, ensure_ascii=False))
    GOLDEN.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))


def load() -> list[dict]:
    entries = []
    for line in GOLDEN.read_bytes().decode("utf-8").split("\n")[:-1]:
        entry = json.loads(line)
        name = entry.pop("body_file", None)
        if name is not None:
            entry["body"] = (BODIES / name).read_bytes().decode("utf-8")
        entries.append(entry)
    return entries


def _readable(text: str | None) -> list[str]:
    if text is None:
        return ["<no body>"]
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False).splitlines()
    except ValueError:
        return text.splitlines()


def describe_mismatch(expected: dict, got: dict) -> str:
    name = f"#{got['n']} {got['request']} ({got['endpoint']})"
    out = [f"wire changed at {name}:"]
    for key in ("endpoint", "request", "request_body", "status", "headers"):
        if expected.get(key) != got.get(key):
            out.append(
                f"  {key}: golden {expected.get(key)!r}\n  {' ' * len(key)}  now    {got.get(key)!r}"
            )
    if expected["body"] != got["body"]:
        diff = list(
            difflib.unified_diff(
                _readable(expected["body"]),
                _readable(got["body"]),
                "golden",
                "now",
                lineterm="",
                n=2,
            )
        )
        if diff:
            out.append("  body (pretty-printed for reading):")
            out.extend("    " + line for line in diff[:80])
            if len(diff) > 80:
                out.append(f"    ... {len(diff) - 80} more lines")
        else:
            out.append("  body: same JSON, different bytes (spacing, key order or escapes):")
            matcher = difflib.SequenceMatcher(None, expected["body"], got["body"], autojunk=False)
            for tag, i1, i2, j1, j2 in matcher.get_opcodes()[:10]:
                if tag != "equal":
                    out.append(
                        f"    {tag} golden[{i1}:{i2}]={expected['body'][i1:i2]!r} "
                        f"now[{j1}:{j2}]={got['body'][j1:j2]!r}"
                    )
    return "\n".join(out)


# --- the normalisation, alone ---------------------------------------------------------------


def test_ids_are_numbered_by_first_appearance_and_fixed_ids_kept():
    normalise = Normaliser()
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    assert normalise(f'{{"id":"{a}","of":"{b}"}}') == '{"id":"<id:1>","of":"<id:2>"}'
    assert normalise(f"/v1/customers/{b.upper()}?x={a}") == "/v1/customers/<id:2>?x=<id:1>"
    assert normalise(f'"{USD_CENTS_ID}"') == f'"{USD_CENTS_ID}"'
    assert normalise('"request":{"id":"' + uuid.uuid4().hex + '"}') == '"request":{"id":"<hex:3>"}'


def test_instants_of_the_run_keep_their_shape_and_scenario_dates_stay():
    normalise = Normaliser()
    now = timezone.now()
    written = now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    assert normalise(f'"created_at":"{written}"') == '"created_at":"<now:dddd-dd-ddTdd:dd:dd.dddZ>"'
    assert normalise(f'"at":"{now.isoformat()}"') == '"at":"<now:dddd-dd-ddTdd:dd:dd.dddddd+dd:dd>"'
    assert (
        normalise('"starting_at":"2030-01-01T00:00:00Z"') == '"starting_at":"2030-01-01T00:00:00Z"'
    )


def test_a_cursor_answered_and_sent_back_is_one_placeholder():
    normalise = Normaliser()
    assert normalise('{"data":[],"next_page":"eyJrIjoxfQ=="}') == (
        '{"data":[],"next_page":"<cursor:1>"}'
    )
    assert normalise("/v1/packages/list?limit=2&next_page=eyJrIjoxfQ%3D%3D") == (
        "/v1/packages/list?limit=2&next_page=<cursor:1>"
    )
    assert normalise('{"next_page":null}') == '{"next_page":null}'


# --- the test -------------------------------------------------------------------------------


def test_every_endpoint_answers_the_fixed_scenario_as_recorded(client):
    entries = record_scenario(client)

    called = {entry["endpoint"] for entry in entries}
    (schema,) = [e["body"] for e in entries if e["endpoint"] == "GET openapi.json"]
    missing = sorted((set(api_routes()) | documented_routes(schema)) - called)
    if missing:
        pytest.fail(
            "endpoints the wire recording does not call (add them to the scenario in "
            f"{Path(__file__).name}, then regenerate): " + ", ".join(missing) + REGENERATE,
            pytrace=False,
        )

    if UPDATE:
        dump(entries)
        return
    assert GOLDEN.exists(), f"no golden file: run with WIRE_GOLDEN_UPDATE=1 to create {GOLDEN}"
    golden = load()
    problems = [
        describe_mismatch(expected, got)
        for expected, got in zip(golden, entries, strict=False)
        if expected != got
    ]
    if len(golden) != len(entries):
        extra = entries[len(golden) :] or golden[len(entries) :]
        side = "now" if len(entries) > len(golden) else "golden"
        problems.append(
            f"{len(golden)} requests in the golden file, {len(entries)} now; first extra "
            f"({side}): #{extra[0]['n']} {extra[0]['request']}"
        )
    if problems:
        more = f"\n\n... and {len(problems) - 5} more requests differ" if len(problems) > 5 else ""
        pytest.fail("\n\n".join(problems[:5]) + more + REGENERATE, pytrace=False)
