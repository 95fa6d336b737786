"""In the browser: the timelines (contract, provision preview, package page) and the cohort chart
are readable: no two labels overlap (each <text>'s box, pairwise), none is cut at the chart's
edges, none is drawn under 12 px on screen at 1400 or 800 px (font size times the SVG's scale),
recurring amounts are shown whole, and a "now" line is drawn; the cohort chart's default
window is around today, so a new package whose contracts start next month shows them.

Screenshots go to $SCREENSHOT_DIR, else var/screens/timeline_charts/ (git-ignored).
"""

import datetime as dt
import re

import pytest

from contracts_app.services.provisioning import contract_provision
from packages_app.services.aliases import alias_assign
from tests.builders.browser import Screenshots, login, screenshot_dir
from tests.contracts_app import contract_builders as build

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
shot = Screenshots(screenshot_dir("var/screens/timeline_charts"))
CUT_AMOUNT = re.compile(r"\$[\d.,]*…")

# Every <text> of an SVG with its box (user units); each pair that intersects; texts outside
# the viewBox.
TEXT_BOXES = """(svg) => {
  const view = svg.viewBox.baseVal;
  const boxes = [...svg.querySelectorAll('text')]
    .map(t => ({t, text: (t.childNodes[0] && t.childNodes[0].nodeValue || '').trim()}))
    .filter(({text}) => text)
    .map(({t, text}) => { const b = t.getBBox(); return {text, x: b.x, y: b.y, w: b.width, h: b.height}; });
  const overlaps = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (a.x < b.x + b.w - 0.5 && b.x < a.x + a.w - 0.5 && a.y < b.y + b.h - 0.5 && b.y < a.y + a.h - 0.5)
      overlaps.push([a.text, b.text]);
  }
  const outside = boxes.filter(b => b.x < -0.5 || b.x + b.w > view.width + 0.5 || b.y < -0.5)
    .map(b => b.text);
  // the size each text is drawn at on screen: its font size times the SVG's scale
  const small = [...svg.querySelectorAll('text')].map(t => {
    const m = t.getScreenCTM();
    const px = parseFloat(getComputedStyle(t).fontSize) * Math.sqrt(Math.abs(m.a * m.d - m.b * m.c));
    return [(t.childNodes[0] && t.childNodes[0].nodeValue || '').trim(), Math.round(px * 10) / 10];
  }).filter(([text, px]) => text && px < 12).map(([text, px]) => `${text} (${px}px)`);
  return {texts: boxes.map(b => b.text), overlaps, outside, small};
}"""


def readable(page, selector: str) -> list[str]:
    """Asserts every SVG under `selector` has no overlapping and no cut-off label; its texts."""
    svgs = page.locator(f"{selector} svg")
    assert svgs.count() > 0, f"no chart under {selector}"
    texts = []
    for index in range(svgs.count()):
        found = svgs.nth(index).evaluate(TEXT_BOXES)
        assert found["overlaps"] == [], f"labels overlap in {selector}: {found['overlaps']}"
        assert found["outside"] == [], f"labels cut off in {selector}: {found['outside']}"
        assert found["small"] == [], f"text drawn under 12 px in {selector}: {found['small']}"
        texts += found["texts"]
    cut = [text for text in texts if CUT_AMOUNT.search(text)]
    assert cut == [], f"amounts cut short: {cut}"
    return texts


def test_timelines_and_the_cohort_chart_are_readable(live_server, page):
    build.ensure_usd_cents()
    now = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    started = now - dt.timedelta(days=40)
    fee = build.make_product("Platform fee")
    tokens = build.make_product("Input tokens for the larger models", "USAGE")
    package = build.make_package(
        name="Scale annual with monthly token credits",
        duration_unit="MONTHS",
        duration_value=12,
        terms=[
            build.recurring_term(tokens, duration=build.offset("MONTHS", 12), unit_price=1000),
            build.commit_term(fee),
            build.override_term(tokens),
        ],
    )
    alias_assign(
        kind="package", name="Scale Plan", package=package, starting_at=started - dt.timedelta(1)
    )
    customer = build.make_customer("Initech")
    contract = contract_provision(customer=customer, starting_at=started, package=package)
    for i in range(3):  # a cohort starting next month: inside the default window
        contract_provision(
            customer=build.make_customer(f"Later {i}"),
            starting_at=now + dt.timedelta(days=30),
            package=package,
        )
    login(page, live_server.url)

    for width in (1400, 800):
        page.set_viewport_size({"width": width, "height": 900})
        # the contract page: recurring amounts whole, a "now" line
        page.goto(f"{live_server.url}/contracts/{contract.id}/")
        texts = readable(page, "#contract-body figure.timeline")
        assert "$10.00 each period, 12 periods" in texts
        assert "now" in texts and "start" in texts
        shot(page, f"contract-timeline-{width}")

        # the provision preview on the customer page
        page.goto(f"{live_server.url}/customers/{customer.id}/")
        readable(page, "figure.timeline:has(#subscriptions-tl-title)")
        # its bars link to the contracts: a group of links, not an image holding links
        assert page.locator("svg[role=img] a").count() == 0
        page.select_option("#provision-form select[name=package_alias]", label="Scale Plan")
        page.fill("#provision-form input[name=starting_at]", now.strftime("%Y-%m-%d"))
        page.click("#provision-form button[value=preview]")
        page.wait_for_selector("#provision-form .result")
        readable(page, "#provision-form .result figure.timeline")
        shot(page, f"provision-preview-{width}")

        # the package page's cohort chart: default window around today, marks readable
        page.goto(f"{live_server.url}/packages/{package.id}/")
        chart = page.locator("#cohort-chart")
        assert "No contracts" not in chart.inner_text()
        texts = readable(page, "#cohort-chart figure")
        assert "now" in texts
        assert any(text.startswith("Scale Plan") for text in texts), texts
        # the alias timeline and the contract-start timeline of the same page
        readable(page, "figure.timeline:has(#alias-tl-title)")
        readable(page, "figure.timeline:has(#package-tl-title)")
        page.wait_for_selector("#forecast svg")  # loaded after the page
        readable(page, "#forecast figure")
        shot(page, f"package-cohort-{width}")
