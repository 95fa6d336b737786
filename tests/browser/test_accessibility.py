"""Every page of the workspace, with real data, checked in a real browser at 800 px: axe-core
finds no serious or critical violation, no element id is used twice, nothing scrolls sideways
and no text is smaller than 12 px as rendered (SVG text: its font size times the SVG's scale on
screen).

The pages are the non-API GET routes of the URL confs (`test_every_page_route_is_checked` keeps
the list honest), plus `/api/docs`, the admin index and one admin change form. The data is
seeded once for the module through the services (the demo world of `seed_demo`, contract edits,
a completed and a running cohort migration, a webhook endpoint, the audit trail they leave), and
one logged-in browser context visits every page. The tests do not use pytest-django's
`live_server` fixture (it makes a test transactional, and the world would be flushed after the
first one): the module runs a live server of its own and flushes the database when it ends.
The last tests use the same world for the keyboard: the skip link, the focus after a swap, and
the page words that must not vary (search parameters, delivery methods).

Screenshots of each page go to $SCREENSHOT_DIR when it is set.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections
from django.urls import URLPattern, URLResolver, get_resolver

# `django_db` (not transactional): the world is committed once by the module fixture `site`
# and read by the live server's own connections; a transactional test would flush it.
pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.xdist_group("accessibility")]

WIDTH = 800
MIN_FONT_PX = 12
SHOTS = os.environ.get("SCREENSHOT_DIR")
BLOCKING = ("serious", "critical")

# Parts of third-party widgets axe may skip, each with the rule it breaks and why it cannot be
# fixed from here. Empty: every page is checked whole.
AXE_EXCLUDE: dict[str, list[str]] = {}


@dataclass(frozen=True)
class Page:
    name: str  # the URL name, or a label for the pages outside our URL confs
    path: str  # with {placeholders} filled from the seeded world
    ready: str = "main"  # a selector present once the page is drawn
    status: int = 200


PAGES = [
    Page("login", "/login/", "form"),
    Page("home", "/"),
    Page("packages:package-list", "/packages/"),
    Page("packages:ratecard-list", "/rate-cards/"),
    Page("packages:ratecard-new", "/rate-cards/new/"),
    Page("packages:ratecard-detail", "/rate-cards/{rate_card}/"),
    Page("packages:product-list", "/products/"),
    Page("packages:billable-metric-list", "/billable-metrics/"),
    Page("packages:product-detail", "/products/{product}/"),
    Page("packages:product-edit", "/products/{product}/edit/"),
    Page("packages:product-archive", "/products/{product}/archive/"),
    Page("packages:billable-metric-detail", "/billable-metrics/{metric}/"),
    Page("packages:billable-metric-rename", "/billable-metrics/{metric}/rename/"),
    Page("packages:billable-metric-archive", "/billable-metrics/{metric}/archive/"),
    Page("packages:alias-list", "/aliases/"),
    Page("packages:alias-schedule", "/aliases/schedule/"),
    Page("packages:alias-detail", "/aliases/{alias}/"),
    Page("contracts:package-builder", "/packages/new/"),
    Page("contracts:package-detail", "/packages/{package}/"),
    Page("contracts:package-new-version", "/packages/{package}/new-version/"),
    Page("contracts:package-archive", "/packages/{package}/archive/"),
    Page("contracts:package-forecast", "/packages/{package}/forecast/"),
    Page("contracts:package-cohort", "/packages/{package}/cohort/"),
    Page("contracts:alias-cohort", "/aliases/{alias}/cohort/"),
    Page("contracts:customer-list", "/customers/"),
    Page("contracts:customer-list (search)", "/customers/?q=Demo"),
    Page("contracts:customer-new", "/customers/new/"),
    Page("contracts:customer-detail", "/customers/{customer}/"),
    Page("contracts:contract-detail", "/contracts/{contract}/"),
    Page("contracts:contract-edit-history", "/contracts/{contract}/edits/"),
    Page("contracts:migration-list", "/migrations/"),
    Page("contracts:migration-new", "/migrations/new/"),
    Page("contracts:migration-detail (completed)", "/migrations/{completed}/"),
    Page("contracts:migration-detail (running)", "/migrations/{running}/"),
    Page("contracts:migration-cancel", "/migrations/{running}/cancel/"),
    Page("contracts:migration-revert", "/migrations/{completed}/revert/"),
    Page("contracts:migration-retry", "/migrations/{completed}/retry/"),
    Page("audit:activity", "/activity/"),
    Page("webhooks:webhook-list", "/webhooks/"),
    Page("webhooks:webhook-new", "/webhooks/new/"),
    Page("webhooks:webhook-detail", "/webhooks/{webhook}/"),
    Page("api-docs", "/api/docs", ".swagger-ui .opblock"),
    Page("admin:index", "/admin/", "#content"),
    Page("admin:change form", "/admin/packages_app/package/{package}/change/", "#content"),
    Page("not found (404 page)", "/packages/00000000-0000-0000-0000-000000000000/", status=404),
]

# Routes of the URL confs that are not pages of their own, and why.
NOT_PAGES = {
    "healthz": "JSON probe",
    "metrics": "Prometheus text",
    "logout": "POST only",
    "openapi-schema": "the JSON document /api/docs reads",
    "openapi-schema-yaml": "the YAML document",
    "packages:ratecard-rate-add": "form target of the rate card page (GET draws that page)",
    "packages:ratecard-alias-add": "form target of the rate card page (GET draws that page)",
    "packages:ratecard-rate-change": "form target of a rate's Change… form on the rate card page",
    "contracts:package-builder-preview": "htmx fragment of the builder",
    "contracts:package-version-preview": "htmx fragment of the builder",
    "contracts:package-cohort-csv": "CSV download",
    "contracts:alias-cohort-chart": "htmx fragment of the alias cohort page",
    "contracts:customer-provision": "form target of the customer page (GET draws that page)",
    "contracts:customer-schedule-change": "form target of the customer page",
    "contracts:customer-billing": "form target of the customer page",
    "contracts:customer-billing-archive": "POST only",
    "contracts:contract-edit": "form target of the contract page (GET redirects to it)",
    "contracts:migration-live": "htmx fragment of the migration page",
    "contracts:migration-items-csv": "CSV download",
    "contracts:migration-pause": "a button's POST target on the migration page",
    "contracts:migration-resume": "a button's POST target on the migration page",
    "audit:history": "htmx fragment of the History section of object pages",
    "webhooks:webhook-rotate": "POST only",
    "webhooks:webhook-archive": "POST only",
    "webhooks:webhook-resend": "POST only",
}


def _route_names(resolver: URLResolver, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # the admin is checked through its index and one change form
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= _route_names(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            if re.match(r"\^?v(\d+|\(\?P<version>)", str(entry.pattern)):
                continue  # the API: v1/, v2/, v{version}/
            names.add(f"{namespace}{entry.name}")
    return names


def test_every_page_route_is_checked():
    checked = {page.name.split(" ")[0] for page in PAGES}
    unaccounted = _route_names(get_resolver()) - checked - set(NOT_PAGES)
    assert not unaccounted, (
        f"routes neither checked in PAGES nor explained in NOT_PAGES: {sorted(unaccounted)}"
    )


# --- the seeded world --------------------------------------------------------------------------


def _seed() -> dict[str, str]:
    """The demo world through the services, plus edits, migrations and a webhook endpoint."""
    from config.webhooks.services import endpoint_create
    from contracts_app.models import Contract, ContractEdit
    from contracts_app.services.cohort_migration_batches import migration_batch_run
    from contracts_app.services.cohort_migrations import (
        cohort_migration_create,
        migration_finish_if_done,
        migration_input,
        migration_start,
    )
    from contracts_app.services.contract_edits import contract_edit
    from contracts_app.services.customers import customers_create
    from packages_app.models import AliasName, BillableMetric, Package, Product, RateCard
    from packages_app.services.aliases import alias_assign
    from tests.contracts_app.contract_builders import credit_edit
    from tests.factories import UserFactory

    # The webhook endpoint first: the packages created next are events delivered to it.
    webhook = endpoint_create(url="https://93.184.216.34/hooks", event_types=["package.created"])
    call_command("seed_demo", customers=12, stdout=open(os.devnull, "w"))  # noqa: SIM115
    v1, v2 = Package.objects.order_by("created_at")[:2]
    rate_card = RateCard.objects.get()
    alias_assign(
        kind="rate_card",
        name="Standard rates",
        rate_card=rate_card,
        starting_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    contract = Contract.objects.filter(package=v1).order_by("customer__name").first()
    tokens = Product.objects.filter(type="USAGE").order_by("name").first()
    contract_edit(
        contract=contract,
        data={
            "add_credits": [
                credit_edit(
                    tokens,
                    2500,
                    dt.datetime(2027, 2, 1, tzinfo=dt.UTC),
                    dt.datetime(2027, 3, 1, tzinfo=dt.UTC),
                )
            ],
            "update_contract_name": "Negotiated deal",
        },
        created_by="priya",
        kind=ContractEdit.Kind.EDIT,
    )
    # Two cohort migrations from v1 to v2 over different customers: one run to the end, one
    # started with a single batch done.
    on_v1 = list(
        Contract.objects.filter(package=v1)
        .exclude(pk=contract.pk)
        .order_by("customer__name")
        .values_list("customer_id", flat=True)
    )
    migrations = []
    for customers in (on_v1[:2], on_v1[2:]):
        migration = cohort_migration_create(
            data=migration_input(
                source={"package_id": v1.id},
                target={"package_id": v2.id},
                effective={"type": "AT", "at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)},
                customer_ids=customers,
            ),
            name="Starter Plan v1 → v2",
        )
        assert migration_start(migration_id=migration.id)
        migrations.append(migration)
    completed, running = migrations
    while migration_batch_run(migration_id=completed.id, batch_size=5):
        pass
    migration_finish_if_done(migration_id=completed.id)
    migration_batch_run(migration_id=running.id, batch_size=1)
    customers_create(customers=[{"name": "Umbrella Corp", "external_id": "umbrella"}])
    UserFactory(username="priya", is_superuser=True, is_staff=True)
    return {
        "package": str(v1.id),
        "rate_card": str(rate_card.id),
        "alias": str(AliasName.objects.get(kind="package").id),
        "customer": str(contract.customer_id),
        "contract": str(contract.id),
        "completed": str(completed.id),
        "running": str(running.id),
        "webhook": str(webhook.id),
        "product": str(Product.objects.order_by("name").first().id),
        "metric": str(BillableMetric.objects.order_by("name").first().id),
    }


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    """(base URL, ids): a live server of this module's own over a world seeded once."""
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock():
        server = LiveServer("localhost")
        try:
            ids = _seed()
            yield server.url, ids
        finally:
            server.stop()
            call_command("flush", verbosity=0, interactive=False)
            # Close what the seeding opened besides the main connection (an idle one stayed open,
            # and the test database could not be dropped at the end of the run).
            connections.close_all()


@pytest.fixture(scope="module")
def signed_in(site, browser):
    """One browser context at 800 px, logged in once."""
    from tests.builders.browser import submit_login

    base, _ids = site
    context = browser.new_context(viewport={"width": WIDTH, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{base}/login/")
    login_report = _report(page)  # the login page, seen before logging in
    submit_login(page)
    page.wait_for_url(f"{base}/")
    yield page, login_report
    page.goto("about:blank")  # no request of a page (polls, lazy sections) still in flight
    context.close()


# --- the checks ----------------------------------------------------------------------------------

_LAYOUT_SCRIPT = """() => {
  const ids = {};
  for (const el of document.querySelectorAll('[id]')) ids[el.id] = (ids[el.id] || 0) + 1;
  const duplicates = Object.entries(ids).filter(([, n]) => n > 1).map(([id, n]) => `${id} x${n}`);
  const small = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    // SVG text is drawn in the SVG's units: its size on screen is its font size times the
    // scale from those units to the screen (a 960-unit chart shown 672 px wide draws its
    // 12 px text at 8.4 px).
    let size = parseFloat(style.fontSize);
    const toScreen = typeof el.getScreenCTM === 'function' ? el.getScreenCTM() : null;
    if (toScreen) size *= Math.sqrt(Math.abs(toScreen.a * toScreen.d - toScreen.b * toScreen.c));
    size = Math.round(size * 10) / 10;
    if (size < MIN_PX) {
      const where = el.closest('[id]');
      small.add(`${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string'
        ? '.' + el.className.trim().split(/\\s+/).join('.') : ''}${where ? ' in #' + where.id : ''}`
        + ` (${size}px): ${node.textContent.trim().slice(0, 30)}`);
    }
  }
  const wide = [];
  if (document.documentElement.scrollWidth > WIDTH_PX) {
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right > WIDTH_PX + 1 && el.parentElement
          && el.parentElement.getBoundingClientRect().right <= WIDTH_PX + 1) {
        wide.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}`
          + `${typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : ''}`
          + ` right=${Math.round(r.right)}`);
      }
    }
  }
  return {
    lang: document.documentElement.lang,
    duplicates,
    small: [...small].slice(0, 15),
    scrollWidth: document.documentElement.scrollWidth,
    wide: wide.slice(0, 10),
  };
}""".replace("MIN_PX", str(MIN_FONT_PX)).replace("WIDTH_PX", str(WIDTH))


def _report(page) -> dict:
    from axe_playwright_python.sync_playwright import Axe

    layout = page.evaluate(_LAYOUT_SCRIPT)
    context = {"exclude": [[selector] for selector in AXE_EXCLUDE]} if AXE_EXCLUDE else None
    results = Axe().run(page, context=context)
    layout["axe"] = [
        f"{violation['id']} ({violation['impact']}) x{len(violation['nodes'])}: "
        + "; ".join(str(node["target"][0]) for node in violation["nodes"][:3])
        + f"\n      first: {violation['nodes'][0]['html'][:160]}"
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]
    return layout


@pytest.mark.parametrize("spec", PAGES, ids=[page.name for page in PAGES])
def test_page_is_accessible_at_800px(site, signed_in, spec):
    base, ids = site
    page, login_report = signed_in
    if spec.name == "login":
        report = login_report
    else:
        response = page.goto(base + spec.path.format(**ids))
        assert response.status == spec.status, f"{spec.path} answered {response.status}"
        assert "/login/" not in page.url, f"{spec.path} sent the signed-in user to {page.url}"
        page.wait_for_selector(spec.ready, state="attached")
        report = _report(page)
    if SHOTS and spec.name != "login":
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        name = spec.name.replace(":", "-").replace(" ", "_").replace("(", "").replace(")", "")
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)

    problems = {
        "axe serious/critical": report["axe"],
        "duplicate ids": report["duplicates"],
        f"text under {MIN_FONT_PX}px": report["small"],
        f"scrollWidth {report['scrollWidth']} > {WIDTH}": report["wide"]
        if report["scrollWidth"] > WIDTH
        else [],
        "html lang": [] if report["lang"] else ["<html> has no lang"],
    }
    found = {kind: items for kind, items in problems.items() if items}
    assert not found, "\n".join(
        f"{kind}:\n  " + "\n  ".join(items) for kind, items in found.items()
    )


# --- the keyboard, and words that must not vary -----------------------------------------------

_FOCUSED = (
    "() => { const el = document.activeElement; return el ? el.outerHTML.slice(0, 200) : ''; }"
)


def test_skip_link_is_the_first_tab_stop_and_moves_to_the_content(site, signed_in):
    base, _ids = site
    page, _ = signed_in
    page.goto(f"{base}/packages/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")  # the next stop is inside the content, not the header
    assert page.evaluate("!!document.activeElement.closest('main')")


def test_builder_add_term_moves_focus_to_the_new_row(site, signed_in):
    base, _ids = site
    page, _ = signed_in
    page.goto(f"{base}/packages/new/")
    for count in (1, 2):
        page.click("button:text-is('+ Recurring credit')")
        page.wait_for_function(
            f"document.querySelectorAll('#builder-fields .kind-recurring_credits:not([hidden])')"
            f".length === {count}"
        )
        page.wait_for_function("document.activeElement.tagName === 'H2'")
        assert page.evaluate("document.activeElement.textContent.trim()") == (
            f"Recurring credit {count}"
        ), page.evaluate(_FOCUSED)
    # with term rows the headings still go h1 > h2 (axe's heading-order, a moderate rule the
    # page checks above do not fail on)
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": ["heading-order"]})
    assert results.response["violations"] == []


def test_focus_moves_to_the_result_after_a_swap(site, signed_in):
    base, ids = site
    page, _ = signed_in
    page.goto(f"{base}/customers/{ids['customer']}/")
    page.select_option("#id_package", ids["package"])
    page.fill("#id_starting_at", "2028-01-01")
    page.click("#provision-form button[value=preview]")
    page.wait_for_selector("#provision-form .result h3")
    page.wait_for_function("document.activeElement.closest('#provision-form .result') !== null")
    assert page.evaluate("document.activeElement.tagName") == "H3", page.evaluate(_FOCUSED)


@pytest.mark.parametrize(
    ("path", "field", "submit"),
    [
        ("/customers/?q=Demo", "#q", None),  # searches as one types
        ("/packages/{package}/cohort/?q=Demo", "form.filters [name=q]", "form.filters button"),
    ],
    ids=["customer search", "cohort filters"],
)
def test_search_sends_its_q_parameter_once(site, signed_in, path, field, submit):
    base, ids = site
    page, _ = signed_in
    page.goto(base + path.format(**ids))
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))
    with page.expect_response(lambda response: "q=Umbrella" in response.url):
        page.fill(field, "Umbrella")
        if submit:
            page.click(submit)
    searches = [url for url in sent if "q=Umbrella" in url]
    assert searches and all(url.count("q=") == 1 for url in searches), searches
    page.wait_for_function("location.search.includes('Umbrella')")
    assert page.url.count("q=") == 1, page.url


def test_delivery_methods_have_one_spelling(site, signed_in):
    base, ids = site
    page, _ = signed_in
    page.goto(f"{base}/customers/{ids['customer']}/")
    shown = page.inner_text("tr:has(> td:text-is('Stripe')) > td:nth-child(2)").strip()
    in_customer_form = page.text_content(
        "select[name=delivery_method] option[value=direct_to_billing_provider]"
    )
    page.goto(f"{base}/packages/new/")
    in_builder = page.text_content(
        "select[name=delivery_method] option[value=direct_to_billing_provider]"
    )
    assert shown == in_customer_form == in_builder == "Direct to billing provider"
