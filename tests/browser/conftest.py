"""Browser tests: Debian's chromium driven by Playwright (no downloaded browser builds)."""

import datetime as dt
import os
import shutil

import pytest

from tests.builders.pricing import starter_plan_upgrade

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Playwright's sync API runs an event loop in the test thread; the ORM calls the test makes
# for its set-up are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if os.environ.get("SKIP_BROWSER_TESTS"):
        pytest.skip("SKIP_BROWSER_TESTS is set")
    if CHROMIUM is None:
        # Failing, not skipping: a suite that passes without its browser tests looks green.
        pytest.fail(
            "chromium is not installed: install Debian/Ubuntu's `chromium` package (`sudo "
            "apt-get install chromium`; `make test` as root installs it), or set "
            "SKIP_BROWSER_TESTS=1 to skip the browser tests on purpose",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def starter_upgrade():
    """(card, v1, v2, tokens): Starter Plan v1 and v2 (tests/builders/pricing.py), three
    customers on v1 since 2026-06-01 (12-month contracts, running now)."""
    return starter_plan_upgrade(customers_since=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
