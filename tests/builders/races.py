"""Requests racing each other (a helper module, not a test module)."""

from __future__ import annotations

import threading

import metronome


def race(count: int, attempt, *, prepare=lambda: None, timeout: float | None = None) -> list[str]:
    """`attempt(prepare())` from `count` threads released at the same moment (each prepares
    first, e.g. its own SDK client): the sorted outcomes, "created" or "conflict" (a 409)."""
    barrier = threading.Barrier(count)
    outcomes: list[str] = []

    def run():
        prepared = prepare()
        barrier.wait()
        try:
            attempt(prepared)
            outcomes.append("created")
        except metronome.ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return sorted(outcomes)
