"""`make run`'s launcher: boots web + worker + beat, answers /healthz, and stops cleanly on Ctrl-C."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import psutil
import pytest

from tests.conftest import BASE_DIR, forget_queue, free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


LAUNCHER = [sys.executable, "-m", "config.launcher"]


def start_launcher(env: dict[str, str], output) -> subprocess.Popen:
    """`make run` with `env`, writing to `output`, in a session of its own: its own process
    group, so a SIGINT to the group is exactly what Ctrl-C sends."""
    return subprocess.Popen(
        LAUNCHER,
        cwd=BASE_DIR,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _healthz(port: int, timeout: float = 2) -> tuple[int, dict] | None:
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/healthz", timeout=timeout
        ) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:
        return None


def test_launcher_serves_healthz_and_stops_every_child_on_sigint(subprocess_env, tmp_path):
    port = free_port()
    env = {**subprocess_env, "PORT": str(port), "ADMIN_PASSWORD": "launcher-test-password"}
    # The launcher appends through a handle of its own: sharing one file offset with the
    # reader below, its writes would land wherever the reader last seeked (over the start).
    launcher_output = (tmp_path / "run.log").open("a")
    log = (tmp_path / "run.log").open("r")
    # own session = own process group, so SIGINT to the group is exactly what Ctrl-C sends
    launcher = start_launcher(env, launcher_output)
    try:
        deadline = time.monotonic() + 180  # set-up migrates and seeds; CI may be loaded
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

        # Ctrl-C once every child is up
        while time.monotonic() < deadline and not all(
            ready in log.read() for ready in (" ready.", "beat: Starting")
        ):
            log.seek(0)
            time.sleep(0.3)
        os.killpg(launcher.pid, signal.SIGINT)
        assert launcher.wait(timeout=30) == 0

        log.seek(0)
        output = log.read()
        # set-up ran as one process (prepare_to_serve) that said what it was doing
        assert output.count("[setup] ready in") == 1, output[:3000]
        assert "[setup] database schema is up to date" in output
        assert "seed_demo: building the demo world" in output
        # the launcher alone got the Ctrl-C (children have groups of their own) and stopped
        # each child with one SIGTERM: all exit 0, none is killed
        for name in ("web", "worker", "beat"):
            assert re.search(rf"\[run\] {name} \(pid \d+\) stopped: exited with code 0", output), (
                output[-3000:]
            )
        assert "killing it" not in output
        _gone, alive = psutil.wait_procs(children, timeout=5)
        assert alive == [], [p.pid for p in alive]
        assert _port_is_free(port)
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)


def _worker_of(launcher_pid: int) -> psutil.Process | None:
    for child in psutil.Process(launcher_pid).children():
        try:
            cmdline = child.cmdline()
        except (psutil.ZombieProcess, psutil.NoSuchProcess):
            continue  # the killed worker, not yet reaped by the launcher
        if "celery" in " ".join(cmdline) and "worker" in cmdline:
            return child
    return None


def test_a_killed_worker_is_restarted_while_the_api_answers_and_a_queued_task_still_runs(
    subprocess_env, tmp_path
):
    from config.api.models import WorkerHeartbeat
    from config.api.tasks import worker_heartbeat

    port = free_port()
    queue = f"launcher-{uuid.uuid4().hex[:8]}"
    env = {
        **subprocess_env,
        "PORT": str(port),
        "ADMIN_PASSWORD": "launcher-test-password",
        "CELERY_WORKER_QUEUES": queue,
        "CELERY_CONCURRENCY": "1",
        "RESTART_BACKOFF_SECONDS": "1",
    }
    log = (tmp_path / "run.log").open("w+")
    launcher = start_launcher(env, log)
    try:
        deadline = time.monotonic() + 180  # set-up migrates and seeds; CI may be loaded
        while time.monotonic() < deadline and _worker_of(launcher.pid) is None:
            time.sleep(0.2)
        while time.monotonic() < deadline and (_healthz(port) or (0,))[0] != 200:
            time.sleep(0.3)
        first = _worker_of(launcher.pid)
        assert first is not None

        # when: the worker dies hard (OOM killer, kill -9) and a task is queued meanwhile
        first.kill()
        token = uuid.uuid4().hex
        worker_heartbeat.apply_async(args=[token], queue=queue)

        # then: the API answers all the while, a new worker appears within seconds and runs it
        answers, replacement = [], None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            # a generous timeout: "no answer" must mean the web server is down, not slow
            answers.append((_healthz(port, timeout=15) or (0,))[0])
            replacement = _worker_of(launcher.pid)
            if (
                replacement is not None
                and replacement.pid != first.pid
                and WorkerHeartbeat.objects.filter(token=token).exists()
            ):
                break
            time.sleep(0.3)
        log.seek(0)
        output = log.read()
        assert replacement is not None and replacement.pid != first.pid, output[-3000:]
        assert WorkerHeartbeat.objects.filter(token=token).exists(), output[-3000:]
        assert set(answers) == {200}, answers
        assert f"worker (pid {first.pid}) was killed by SIGKILL; restarting it in 1 s" in output
        assert "worker restarted" in output
        assert launcher.poll() is None
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGINT)
            launcher.wait(timeout=60)


def test_a_child_that_keeps_dying_stops_everything_with_a_clear_message(subprocess_env, tmp_path):
    # given: a worker that dies at every start
    port = free_port()
    env = {
        **subprocess_env,
        "PORT": str(port),
        "ADMIN_PASSWORD": "launcher-test-password",
        "CELERY_CONCURRENCY": "not-a-number",  # the worker refuses it and exits at once
        "RESTART_BACKOFF_SECONDS": "0.2",
        "MAX_RESTARTS": "2",
    }
    result = subprocess.run(
        LAUNCHER,
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        start_new_session=True,
    )

    assert result.returncode == 1
    assert "worker" in result.stdout and "has died 3 times within 120 s; stopping everything" in (
        result.stdout
    ), result.stdout[-3000:]
    assert _port_is_free(port)


def test_sigterm_to_the_launcher_mid_batch_finishes_the_batch_and_stops_every_child_with_0(
    subprocess_env, tmp_path, settings
):
    from contracts_app.models import CohortMigrationItem
    from tests.builders.migrations import create
    from tests.contracts_app.cohort_builders import (
        HeldSubscriptions,
        bulk_cohort,
        claimed_items,
        two_packages,
    )

    # given a cohort whose subscriptions the test holds, so the first batch waits mid-way
    source, target = two_packages()
    bulk_cohort(source, 50)
    queue = f"launcher-{uuid.uuid4().hex[:8]}"
    settings.BULK_QUEUE = queue
    port = free_port()
    env = {
        **subprocess_env,
        "PORT": str(port),
        "ADMIN_PASSWORD": "launcher-test-password",
        "CELERY_WORKER_QUEUES": queue,
        "CELERY_BULK_QUEUE": queue,
        "CELERY_CONCURRENCY": "1",
        "COHORT_MIGRATION_BATCH_SIZE": "20",
        "COHORT_MIGRATION_CHAINS": "1",
    }
    held = HeldSubscriptions(env["DATABASE_URL"], source)
    log = (tmp_path / "run.log").open("w+")
    launcher = start_launcher(env, log)
    try:
        deadline = time.monotonic() + 180  # set-up migrates and seeds; CI may be loaded
        while time.monotonic() < deadline and (_healthz(port) or (0,))[0] != 200:
            time.sleep(0.3)
        migration = create(source, target)
        while time.monotonic() < deadline and not held.waiting_backends():
            time.sleep(0.2)
        log.seek(0)
        assert held.waiting_backends(), log.read()[-3000:]
        in_hand = claimed_items(migration.id)
        assert len(in_hand) == 20
        children = psutil.Process(launcher.pid).children(recursive=True)

        # when the launcher alone gets SIGTERM (docker stop, systemctl stop)
        launcher.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "Warm shutdown" not in log.read():
            time.sleep(0.2)
        time.sleep(0.5)
        assert launcher.poll() is None  # waiting for the worker's batch in hand
        held.release()

        # then every child stops on its own with exit code 0, and none is left behind
        assert launcher.wait(timeout=60) == 0
        log.seek(0)
        output = log.read()
        # the launcher alone got the Ctrl-C (children have groups of their own) and stopped
        # each child with one SIGTERM: all exit 0, none is killed
        for name in ("web", "worker", "beat"):
            assert re.search(rf"\[run\] {name} \(pid \d+\) stopped: exited with code 0", output), (
                output[-3000:]
            )
        assert "killing it" not in output
        assert "killing it" not in output
        _gone, alive = psutil.wait_procs(children, timeout=5)
        assert alive == [], [p.pid for p in alive]
        assert _port_is_free(port)
    finally:
        held.release()
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
        forget_queue(queue)
    # the batch in hand finished: its items are MIGRATED, none left claimed for redelivery
    items = CohortMigrationItem.objects.filter(migration_id=migration.id)
    assert set(items.filter(status="MIGRATED").values_list("id", flat=True)) == in_hand
    assert claimed_items(migration.id) == set()
