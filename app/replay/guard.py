"""One watch for many guarded calls on a thread: the upcasters and both folds of a
compare, the snapshot adapters (see ``app.replay.runner`` for the watchdog itself)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.replay import fold_guard
from app.replay.runner import (
    _WATCHDOG,
    DEFAULT_BUDGET_S,
    Cancellable,
    FailureKind,
    _Watch,
)


class Guard:
    """One watch for many guarded calls on this thread (a compare folds thousands of
    aggregates in turn, and a watch per call would cost more than the call).

    ``guard.call(fn, *args)`` returns what ``fn`` returns; a call that overruns
    ``budget_s`` or is cancelled raises FoldInterrupt, and ``reason`` then says which.
    """

    def __init__(
        self,
        budget_s: float = DEFAULT_BUDGET_S,
        cancel: Cancellable | None = None,
        name: str = "fold",
    ) -> None:
        self.budget_s = budget_s
        self.cancel = cancel
        self.name = name
        self._outer: str | None = None
        self.reason: FailureKind = "timeout"
        self._watch: _Watch | None = None
        self._seq = 0

    def __enter__(self) -> Guard:
        self._watch = _WATCHDOG.open(self.budget_s, self.cancel)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._watch is not None:
            _WATCHDOG.close(self._watch)
            self._watch = None

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        self.arm()
        try:
            return fn(*args)
        finally:
            self.disarm()

    def arm(self) -> None:
        """Start the budget of one step (the calls until ``disarm``: one event's)."""
        if self._watch is None:
            raise RuntimeError("a Guard is used inside 'with Guard(...)'")
        self._seq += 1
        self._watch.current = self._seq
        # While armed the thread runs user code: its print() to stderr, os._exit refused.
        self._outer = fold_guard.enter(self.name)

    def disarm(self) -> None:
        watch = self._watch
        if watch is None:
            return
        fold_guard.leave(self._outer)
        watch.current = 0
        if watch.reason is not None:
            self.reason = watch.reason
            _WATCHDOG.defuse(watch)
