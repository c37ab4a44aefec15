"""What a fold may not do to the app: states it cannot keep, os._exit, print(), and a
fold that swallows every interrupt — each a failure that names the fold, never a crash."""

from __future__ import annotations

import io
import os
import threading
from typing import Any

import pytest

from app.replay import fold_guard
from app.replay.event_sources import StateError, copy_state
from app.replay.replayer import Replayer
from app.replay.runner import run_fold
from kafka_io.event import Event


def _events(n: int, data: Any = None) -> list[Event]:
    return [
        Event("t", 0, i, 1_700_000_000_000 + i, "a-1", "Happened", "a-1", (),
              data if data is not None else {"n": i}, None, None, b"{}")
        for i in range(n)
    ]  # fmt: skip


def test_copy_state_refuses_what_cannot_be_kept_and_says_what_it_is() -> None:
    cyclic: dict[str, Any] = {"a": 1}
    cyclic["me"] = cyclic
    with pytest.raises(StateError, match="contains itself"):
        copy_state(cyclic)
    with pytest.raises(StateError, match="lock"):
        copy_state({"held": threading.Lock()})
    with pytest.raises(StateError, match="generator"):
        copy_state([i for i in range(2)] + [x for x in [(i for i in range(3))]])
    shared = {"x": 1}
    both = {"a": shared, "b": [shared, shared]}  # shared, not cyclic: fine
    copied = copy_state(both)
    assert copied == both and copied["a"] is not shared


@pytest.mark.parametrize(
    "make, says",
    [
        (lambda: threading.Lock(), "lock"),
        (lambda: (i for i in range(3)), "generator"),
    ],
)
def test_a_state_the_app_cannot_keep_fails_the_fold_at_its_event(make: Any, says: str) -> None:
    def fold(state: Any, event: Event) -> Any:
        new = dict(state or {})
        new["n"] = new.get("n", 0) + 1
        if event.offset == 3:
            new["bad"] = make()  # kept in every later state
        return new

    replayer = Replayer(_events(6), fold, aggregate="a-1")
    result = replayer.state_at()  # the final state is the one that cannot be kept
    assert result.failure is not None
    assert result.failure.fold == "fold" and result.failure.event is not None
    assert result.failure.event.offset == 5
    assert says in result.failure.describe() and "cannot keep" in result.failure.describe()
    assert result.state is None  # the state before it holds the same thing
    early = Replayer(_events(6), fold, aggregate="a-1").state_at(n=3)
    assert early.failure is None and early.state == {"n": 3}
    # Stepping keeps every state: it stops at the event that brought the lock in.
    steps: list[Any] = []
    with pytest.raises(Exception, match="cannot keep") as failed:
        steps.extend(Replayer(_events(6), fold, aggregate="a-1").history())
    assert [s.state["n"] for s in steps] == [1, 2, 3]
    assert "offset 3" in str(failed.value)


def test_a_cyclic_state_fails_history_and_blame_naming_the_fold() -> None:
    def cyc(state: Any, event: Event) -> Any:
        d: dict[str, Any] = {"n": event.offset}
        d["self"] = d
        return d

    replayer = Replayer(_events(3), cyc, aggregate="a-1")
    result = replayer.state_at()
    assert result.failure is not None and "cyc" in result.failure.describe()
    assert "contains itself" in result.failure.describe()
    assert result.state is None  # no state before it could be kept either


def test_event_data_nested_past_the_copy_limit_still_reaches_the_fold() -> None:
    deep: Any = {}
    cur = deep
    for _ in range(900):
        cur["x"] = {}
        cur = cur["x"]
    seen: list[int] = []

    def fold(state: Any, event: Event) -> Any:
        seen.append(event.offset)
        return {"n": len(seen)}

    result = Replayer(_events(2, deep), fold, aggregate="a-1").state_at()
    assert result.failure is None and result.state == {"n": 2}


def test_os_exit_in_a_fold_is_its_failure_not_the_end_of_the_process() -> None:
    fold_guard.install_exit_guard()

    def exits(state: Any, event: Event) -> Any:
        os._exit(3)

    outcome = run_fold(exits, None, _events(2))
    assert outcome.failure is not None and outcome.applied == 0
    assert outcome.failure.exception == "FoldExit"
    assert "os._exit(3)" in outcome.failure.message
    assert outcome.failure.location is not None
    assert outcome.failure.location.startswith("test_fold_guard.py")
    assert os._exit is fold_guard._guarded_exit  # and outside a fold it still exits


def test_a_folds_print_goes_to_stderr_while_the_command_writes_stdout() -> None:
    out, err = io.StringIO(), io.StringIO()

    def chatty(state: Any, event: Event) -> Any:
        print("debugging", event.offset)
        return event.offset

    stdout = fold_guard.FoldAwareStdout(out, err)
    import sys

    real = sys.stdout
    sys.stdout = stdout
    try:
        outcome = run_fold(chatty, None, _events(2))
        print("the command's own line")
    finally:
        sys.stdout = real
    assert outcome.state == 1
    assert out.getvalue() == "the command's own line\n"
    assert err.getvalue() == "debugging 0\ndebugging 1\n"


def test_a_fold_that_swallows_every_interrupt_is_reported() -> None:
    reported: list[str] = []
    done = threading.Event()

    def stubborn(state: Any, event: Event) -> Any:
        while not done.is_set():  # the test's way out, once the report came
            try:
                while not done.is_set():
                    pass
            except BaseException:
                pass
        return state

    def report(message: str) -> None:
        reported.append(message)
        done.set()

    fold_guard.on_unstoppable(report)
    try:
        run_fold(stubborn, None, _events(1), budget_s=0.2)
    finally:
        fold_guard.on_unstoppable(lambda _m: None)
    assert len(reported) == 1
    assert "'stubborn'" in reported[0] and "BaseException" in reported[0]
