"""CI: install and boot the whole product on a second Python with the embedded defaults.

`make run PYTHON=<that python>` in its own venv and ./var, then: /healthz answers 200, a customer
is provisioned onto a package through the API, and Ctrl-C (SIGINT to the process group) leaves
no process of it running. Standard library only; prints its timings.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
WANTED = os.environ.get("BOOT_CHECK_PYTHON_VERSION", "3.13")


def find_python() -> str | None:
    """`pythonX.Y` if it runs (pyenv shims may not), else a pyenv-installed one."""
    name = f"python{WANTED}"
    if shutil.which(name) and subprocess.run([name, "-c", ""], capture_output=True).returncode == 0:
        return name
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    found = sorted(glob.glob(f"{root}/versions/{WANTED}.*/bin/{name}"))
    return found[-1] if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(url: str, token: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        url + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def leftovers(markers: list[str]) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    me = str(os.getpid())
    return [
        line.strip()
        for line in out.splitlines()[1:]
        if any(m in line for m in markers) and line.split()[0] != me and "ps -eo" not in line
    ]


def main() -> int:
    python = find_python()
    if python is None:
        print(f"[boot-check] no Python {WANTED} on this machine: skipped")
        return 0
    var_dir = Path(tempfile.mkdtemp(prefix="boot-")) / "var"
    venv = f".venv-py{WANTED}"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(PRICING_VAR_DIR=str(var_dir), PORT=str(port), CELERY_CONCURRENCY="1")
    env["WEB_CONCURRENCY"] = "1"
    log_path = var_dir.parent / "run.log"
    started = time.monotonic()
    with log_path.open("w") as log:
        run = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"PYTHON={python}", f"VENV={venv}"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=3) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if run.poll() is not None or time.monotonic() > deadline:
                print(log_path.read_text()[-4000:])
                print(f"[boot-check] FAILED: the product did not come up on Python {WANTED}")
                return 1
            time.sleep(0.5)
        booted = time.monotonic() - started
        token = (
            subprocess.run(
                [
                    f"{venv}/bin/python",
                    "manage.py",
                    "create_api_token",
                    "boot-check",
                    "--create-user",
                    "--all-permissions",
                ],
                cwd=BASE_DIR,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        version = subprocess.run(
            [f"{venv}/bin/python", "-c", "import sys; print(sys.version.split()[0])"],
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
        ).stdout.strip()
        packages = call(url, token, "/v1/packages/list", {})["data"]
        customer = call(url, token, "/v1/customers", {"name": "Boot check customer"})["data"]
        contract = call(
            url,
            token,
            "/v1/contracts/create",
            {
                "customer_id": customer["id"],
                "package_id": packages[0]["id"],
                "starting_at": "2027-01-01T00:00:00Z",
            },
        )["data"]
        fetched = call(
            url,
            token,
            "/v1/contracts/get",
            {"customer_id": customer["id"], "contract_id": contract["id"]},
        )["data"]
        assert fetched["package_id"] == packages[0]["id"], fetched
        print(
            f"[boot-check] Python {version}: up in {booted:.1f}s (install included); "
            f"provisioned contract {contract['id']} on package {packages[0]['id']}"
        )
    finally:
        stop_started = time.monotonic()
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
            try:
                run.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)
                print("[boot-check] FAILED: Ctrl-C did not stop make run within 60 s")
                return 1
        stopped_in = time.monotonic() - stop_started
    time.sleep(1)
    left = leftovers([str(var_dir), f"{BASE_DIR}/{venv}/"])
    if left:
        print("[boot-check] FAILED: still running after Ctrl-C:\n  " + "\n  ".join(left))
        return 1
    print(f"[boot-check] Ctrl-C stopped everything in {stopped_in:.1f}s; nothing left running")
    shutil.rmtree(var_dir.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
