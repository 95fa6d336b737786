"""Browser-test helpers shared by tests/browser/ (a helper module, not a test module): sign in
through the login form, full-page screenshots where $SCREENSHOT_DIR says (else a git-ignored
folder of the module), the checks that nothing scrolls sideways, and the package on an alias
that the contract pages are looked at with."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from packages_app.models import Package
from packages_app.services.aliases import alias_assign
from tests.contracts_app import contract_builders as build
from tests.factories import PASSWORD, UserFactory

REPOSITORY = Path(__file__).parents[2]
WIDE = 1400  # px: the width every browser test looks at first
HEIGHT = 900


def screenshot_dir(default: str) -> Path:
    """$SCREENSHOT_DIR when it is set, else `default` under the repository (git-ignored)."""
    return Path(os.environ.get("SCREENSHOT_DIR") or REPOSITORY / default)


def assert_fits(page, width: int, name: str = "the page") -> None:
    """Nothing in the page's content scrolls sideways at `width` px (the shared header is not
    any one page's)."""
    scroll = page.evaluate("document.querySelector('main').scrollWidth")
    assert scroll <= width, f"{name} at {width} px is {scroll} px wide"


def assert_inside(page, element_id: str, what: str) -> None:
    """The content of the element `element_id` fits its own box (nothing in it scrolls
    sideways); `what` names it in the failure."""
    box = page.evaluate(
        "(id) => { const e = document.getElementById(id); return [e.scrollWidth, e.clientWidth]; }",
        element_id,
    )
    assert box[0] <= box[1], f"{what} overflows: {box}"


@dataclass(frozen=True)
class Screenshots:
    """`shot(page, name)`: a full-page screenshot into `folder`, named `<prefix><name>.png` at
    the page's current size, or at each of `widths` (`<name>-<width>.png`, then back to the
    first width), each checked with `assert_fits` when `fits`."""

    folder: Path
    widths: tuple[int, ...] = ()
    fits: bool = False
    prefix: str = ""

    def __call__(self, page, name: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if not self.widths:
            page.screenshot(path=str(self.folder / f"{self.prefix}{name}.png"), full_page=True)
            return
        for width in self.widths:
            page.set_viewport_size({"width": width, "height": HEIGHT})
            page.screenshot(path=str(self.folder / f"{name}-{width}.png"), full_page=True)
            if self.fits:
                assert_fits(page, width, name)
        page.set_viewport_size({"width": self.widths[0], "height": HEIGHT})


def submit_login(page, username: str = "priya", button: str = "button[type=submit]") -> None:
    """Fill and submit the login form already on the page (the site's or the admin's)."""
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click(button)


def sign_in(page, base: str, username: str = "priya", *, width: int | None = None) -> None:
    """Log an existing user in through the site's login page (at `width` px when given); lands
    on the home page."""
    if width:
        page.set_viewport_size({"width": width, "height": HEIGHT})
    page.goto(f"{base}/login/")
    submit_login(page, username)
    page.wait_for_url(f"{base}/")


def login(page, base: str, username: str = "priya", *, width: int | None = None, **user) -> None:
    """A superuser `username` (with the `user` fields given), logged in through the login page
    (at `width` px when given)."""
    UserFactory(username=username, is_superuser=True, **user)
    sign_in(page, base, username, width=width)


def starter_on_alias(starting_at, *, override: bool = False) -> Package:
    """The package "Starter v1": 12 months, a credit of input tokens (and an override of their
    rate when `override`); the alias "Starter Plan" points at it from `starting_at`."""
    build.ensure_usd_cents()
    tokens = build.make_product("Input tokens", "USAGE")
    terms = [build.credit_term(tokens), *([build.override_term(tokens)] if override else [])]
    package = build.make_package(
        name="Starter v1", duration_unit="MONTHS", duration_value=12, terms=terms
    )
    alias_assign(kind="package", name="Starter Plan", package=package, starting_at=starting_at)
    return package
