"""Running folds safely: errors name the event, endless folds are stopped, cancel works."""

from __future__ import annotations

import threading
import time
from typing import Any

from evfactory import BASE_MS, envelope

from app.replay.folds import FoldSpec
from app.replay.runner import FoldFailure, RunOutcome, run_fold
from kafka_io.cancel import CancelToken
from kafka_io.event import Event


def events(n: int) -> list[Event]:
    return [envelope("t", 2, 100 + i, BASE_MS + i, "a", f"T{i}", {"i": i}) for i in range(n)]


def count(state: Any, event: Event) -> Any:
    return (state or 0) + 1


def run_in_thread(fn: Any, limit_s: float = 60.0) -> RunOutcome:
    """Run on a worker thread (as the GUI does) and insist it finishes at all."""
    box: list[RunOutcome] = []
    worker = threading.Thread(target=lambda: box.append(fn()), daemon=True)
    worker.start()
    worker.join(limit_s)
    assert not worker.is_alive(), "the fold was never stopped"
    return box[0]


def test_a_clean_run() -> None:
    seen: list[tuple[int, int]] = []
    out = run_fold(count, None, events(5), after_each=lambda i, e, s: seen.append((i, s)))
    assert out.failure is None and out.state == 5 and out.applied == 5
    assert out.last is not None and out.last.offset == 104
    assert seen == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]


def test_an_exception_names_the_event_and_keeps_the_state_before() -> None:
    def picky(state: Any, event: Event) -> Any:
        if event.data["payload"]["i"] == 3:
            raise ValueError("no threes")
        return (state or 0) + 1

    spec = FoldSpec("picky", ("*",), picky)
    out = run_fold(spec, None, events(6))
    f = out.failure
    assert isinstance(f, FoldFailure)
    assert (f.kind, f.fold, f.step, f.exception, f.message) == (
        "error", "picky", 3, "ValueError", "no threes",
    )  # fmt: skip
    assert f.event is not None and (f.event.partition, f.event.offset, f.event.type) == (
        2, 103, "T3",
    )  # fmt: skip
    assert "no threes" in f.traceback and "in picky" in f.traceback
    assert "partition 2 offset 103" in f.describe()
    assert out.state == 3 and out.applied == 3


def test_system_exit_in_a_fold_is_just_an_error() -> None:
    def quitter(state: Any, event: Event) -> Any:
        raise SystemExit(3)

    out = run_fold(quitter, None, events(2))
    assert out.failure is not None and out.failure.exception == "SystemExit"


def test_a_fold_that_never_returns_times_out() -> None:
    def forever(state: Any, event: Event) -> Any:
        if event.offset == 102:
            while True:
                pass
        return (state or 0) + 1

    out = run_in_thread(lambda: run_fold(forever, None, events(5), budget_s=0.2))
    f = out.failure
    assert f is not None and f.kind == "timeout"
    assert f.event is not None and f.event.offset == 102
    assert "in forever" in f.traceback  # where it was stuck
    assert out.state == 2


def test_except_exception_does_not_swallow_the_timeout() -> None:
    def stubborn(state: Any, event: Event) -> Any:
        while True:
            try:
                time.sleep(0.001)
            except Exception:
                continue

    out = run_in_thread(lambda: run_fold(stubborn, None, events(1), budget_s=0.2))
    assert out.failure is not None and out.failure.kind == "timeout"


def test_cancel_stops_a_stuck_fold() -> None:
    token = CancelToken()

    def forever(state: Any, event: Event) -> Any:
        while True:
            pass

    threading.Timer(0.1, token.cancel).start()
    out = run_in_thread(lambda: run_fold(forever, None, events(3), budget_s=600, cancel=token))
    assert out.failure is not None and out.failure.kind == "cancelled"
    assert out.failure.event is not None and out.failure.event.offset == 100


def test_cancel_between_events() -> None:
    token = CancelToken()

    def cancel_at_two(state: Any, event: Event) -> Any:
        if event.offset == 102:
            token.cancel()
        return (state or 0) + 1

    out = run_fold(cancel_at_two, None, events(10), cancel=token)
    assert out.failure is not None and out.failure.kind == "cancelled"
    assert out.applied == 3


def test_many_quick_runs_leave_no_stray_interrupts() -> None:
    # Runs that finish well within their budget must never see the watchdog.
    for _ in range(200):
        out = run_fold(count, None, events(20), budget_s=0.05)
        assert out.failure is None and out.state == 20


def test_a_failure_on_an_undecodable_record_says_so() -> None:
    broken = events(1)[0]._replace(data=None, error="Avro decode failed: record is truncated")

    def naive(state: Any, event: Event) -> Any:
        return event.data["payload"]

    out = run_fold(naive, None, [broken])
    assert out.failure is not None
    assert "could not be decoded: Avro decode failed" in out.failure.message
