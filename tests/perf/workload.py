"""Shared by the benchmarks: a broker to measure against and a realistic event workload."""

from __future__ import annotations

import contextlib
import multiprocessing
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import broker as broker_harness
from kafka_helpers import BASE_MS, fill_topic

__all__ = ["BASE_MS", "kafka", "kcat_path", "produce_events", "time_kcat"]


def kafka() -> contextlib.AbstractContextManager[str]:
    """The broker named by EVENT_EXPLORER_BOOTSTRAP, or a fresh one for this run."""
    return broker_harness.running()


def produce_events(*args: object, **kwargs: object) -> float:
    """``fill_topic`` in a child process, so the producer's buffers never count in the
    benchmark's own peak memory; returns the seconds it took."""
    ctx = multiprocessing.get_context("spawn")
    started = time.monotonic()
    proc = ctx.Process(target=fill_topic, args=args, kwargs=kwargs)
    proc.start()
    proc.join()
    if proc.exitcode != 0:
        raise RuntimeError(f"producing the workload failed (exit {proc.exitcode})")
    return time.monotonic() - started


def kcat_path() -> str | None:
    return shutil.which("kcat") or shutil.which("kafkacat")


def time_kcat(bootstrap: str, topic: str, extra: list[str] | None = None, runs: int = 2) -> float:
    """Seconds for kcat to consume the whole topic to /dev/null (the peer): the best of
    ``runs``, so the peer is measured at its fastest (a first read right after producing
    also waits on the broker's own flushing)."""
    exe = kcat_path()
    if exe is None:
        raise SystemExit("kcat is not installed (tests/run installs Debian's kcat)")
    command = [exe, "-C", "-b", bootstrap, "-t", topic, "-e", "-o", "beginning", "-q"]
    best = float("inf")
    for _ in range(runs):
        started = time.monotonic()
        subprocess.run(
            [*command, *(extra or [])],
            stdout=subprocess.DEVNULL,
            check=True,
        )
        best = min(best, time.monotonic() - started)
    return best
