"""The Makefile's own checks, run through the real `make` as a user would meet them."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import BASE_DIR

MAKE = shutil.which("make")
SETPRIV = shutil.which("setpriv")


def _make_browser_without_chromium(**env: str) -> subprocess.CompletedProcess:
    """`make browser` as a user who is not root, on a PATH without chromium (or apt-get)."""
    with tempfile.TemporaryDirectory() as bin_dir:
        os.chmod(bin_dir, 0o755)  # readable by the unprivileged user below
        os.symlink(shutil.which("id"), Path(bin_dir) / "id")
        command = [MAKE, "--no-print-directory", "-s", "browser"]
        if os.getuid() == 0:
            # root would install chromium: drop to `nobody`, as a developer's account would be
            command = [SETPRIV, "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        return subprocess.run(
            command,
            cwd=BASE_DIR,
            env={"PATH": bin_dir, "HOME": "/tmp", **env},
            capture_output=True,
            text=True,
            timeout=60,
        )


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
def test_make_test_without_chromium_stops_and_names_the_package():
    if os.getuid() == 0 and SETPRIV is None:
        pytest.skip("running as root without setpriv to become another user")
    # given a user who is not root and has no chromium
    result = _make_browser_without_chromium()
    # then make stops (before any test runs) and says which package to install, and how
    assert result.returncode != 0, result.stdout + result.stderr
    assert "`chromium` package" in result.stderr
    assert "sudo apt-get install chromium" in result.stderr
    assert "SKIP_BROWSER_TESTS=1" in result.stderr


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
def test_skipping_the_browser_tests_is_an_explicit_choice_that_is_announced():
    if os.getuid() == 0 and SETPRIV is None:
        pytest.skip("running as root without setpriv to become another user")
    result = _make_browser_without_chromium(SKIP_BROWSER_TESTS="1")
    assert result.returncode == 0, result.stderr
    assert "browser tests (tests/browser) will be skipped" in result.stdout
