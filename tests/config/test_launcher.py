"""`make run`'s launcher: boots web + worker + beat, answers /healthz, and stops cleanly on Ctrl-C."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import psutil
import pytest

from tests.conftest import BASE_DIR, free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _healthz(port: int) -> tuple[int, dict] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:
        return None


def test_launcher_serves_healthz_and_stops_every_child_on_sigint(subprocess_env, tmp_path):
    port = free_port()
    env = {**subprocess_env, "PORT": str(port), "ADMIN_PASSWORD": "launcher-test-password"}
    log = (tmp_path / "run.log").open("w+")
    # own session = own process group, so SIGINT to the group is exactly what Ctrl-C sends
    launcher = subprocess.Popen(
        [sys.executable, "-m", "config.launcher"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        answer = None
        while time.monotonic() < deadline and launcher.poll() is None:
            answer = _healthz(port)
            if answer and answer[0] == 200:
                break
            time.sleep(0.5)
        log.seek(0)
        assert answer is not None and answer[0] == 200, log.read()[-3000:]
        assert answer[1]["database"]["state"] == "ok" and answer[1]["broker"]["state"] == "ok"
        children = psutil.Process(launcher.pid).children(recursive=True)
        names = " ".join(" ".join(c.cmdline()) for c in children)
        assert "gunicorn" in names and "worker" in names and "beat" in names

        os.killpg(launcher.pid, signal.SIGINT)
        launcher.wait(timeout=20)

        _gone, alive = psutil.wait_procs(children, timeout=5)
        assert alive == [], [p.pid for p in alive]
        assert _port_is_free(port)
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
