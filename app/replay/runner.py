"""Running a fold over events safely: errors, timeouts and cancellation.

A fold is user code, run in-process on the calling (worker) thread — replaying a
100,000-event aggregate makes 100,000 calls, so a process hop per call is out of the
question, and a whole replay in a subprocess would need the fold's source, the decoder
and the events shipped across.  Instead:

* an exception raised by a fold ends the run with a ``FoldFailure`` naming the event
  (partition, offset, type) and carrying the formatted traceback; the caller keeps the
  state from before that event;
* a watchdog thread (one per process, sleeping when idle) watches every running fold
  call.  A call still running after ``budget_s`` seconds, or still running when its
  ``CancelToken`` is cancelled, gets an exception raised inside it with
  ``PyThreadState_SetAsyncExc``.  That interrupts pure-Python code such as
  ``while True: pass`` within a few milliseconds; the run ends with a ``timeout`` or
  ``cancelled`` failure.  (A fold blocked inside one C call — a very long
  ``time.sleep`` — is interrupted when that call returns.)
* between events the runner checks the token itself, so a cancelled replay stops at
  the next event boundary even when no single call is slow.

The interrupt derives from BaseException, so a fold's ``except Exception`` does not
swallow it; a fold that swallows everything is interrupted again every second, and
after a few tries the watchdog reports it (``fold_guard.report_unstoppable``): no
thread can be stopped from outside, so the command line ends and the window says so.

While a fold runs, its thread is marked (``fold_guard.running``): its ``print()`` goes
to stderr and ``os._exit`` becomes a failure of the fold.  A state the app cannot keep
(``copy_state`` refuses it: it contains itself, or holds a lock or a generator) ends
the run as a failure of the fold at the event that returned it.
"""

from __future__ import annotations

import ctypes
import re
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from app.replay.event_sources import StateError
from app.replay.fold_guard import report_unstoppable, running
from app.replay.folds import FoldFunction, FoldSpec
from kafka_io.event import Event, EventRef

DEFAULT_BUDGET_S = 5.0
RESEND_S = 1.0  # after the first interrupt, how often it is sent again
UNSTOPPABLE_AFTER = 4  # interrupts ignored before the fold is reported as unstoppable
_FRAME = re.compile(r'File "([^"]+)", line (\d+)')
_GUARD_FILE = "app/replay/fold_guard.py"
FailureKind = Literal["error", "timeout", "cancelled"]


class Cancellable(Protocol):
    """Anything with a ``cancelled`` flag (this module's token, or the reader's)."""

    @property
    def cancelled(self) -> bool: ...


@dataclass(frozen=True)
class FoldFailure:
    """Why a run stopped early, and on which event (the state before it is kept)."""

    fold: str
    kind: FailureKind
    event: EventRef | None
    step: int  # how many events of the run had been applied before this one
    exception: str
    message: str
    traceback: str
    # What failed when it was not the fold itself: an upcaster ("upcaster T 1.0→2.0").
    stage: str | None = None

    @property
    def location(self) -> str | None:
        """``file.py, line 12``: the innermost line of the traceback, the fold's own."""
        # The app's own guard (os._exit made an exception) is not where the fold is.
        frames = [
            f
            for f in _FRAME.findall(self.traceback)
            if not f[0].replace("\\", "/").endswith(_GUARD_FILE)
        ]
        if not frames:
            return None
        path, line = frames[-1]
        return f"{path.rsplit('/', 1)[-1]}, line {line}"

    def describe(self) -> str:
        where = (
            f" at partition {self.event.partition} offset {self.event.offset} ({self.event.type})"
            if self.event is not None
            else ""
        )
        who = self.stage if self.stage is not None else f"fold {self.fold!r}"
        if self.kind == "timeout":
            return f"{who} did not return{where}: {self.message}"
        if self.kind == "cancelled":
            return f"fold {self.fold!r} cancelled{where}"
        line = f" ({self.location})" if self.location else ""
        return f"{who} failed{where}: {self.exception}: {self.message}{line}"

    def to_json(self) -> dict[str, Any]:
        return {
            "fold": self.fold,
            "kind": self.kind,
            "event": None if self.event is None else self.event.to_json(),
            "step": self.step,
            "exception": self.exception,
            "message": self.message,
            "traceback": self.traceback,
            "location": self.location,
            "stage": self.stage,
        }


class FoldError(Exception):
    """Raised by APIs that return a state only (``Replayer.state``); carries the failure."""

    def __init__(self, failure: FoldFailure) -> None:
        super().__init__(failure.describe())
        self.failure = failure


class FoldInterrupt(BaseException):
    """Raised asynchronously inside a fold call that overran its budget or was cancelled."""


class StageError(Exception):
    """Raised by a ``prepare`` step (the upcasters) to say which step failed: the run
    reports ``cause`` at its event, as it would a fold's own error."""

    def __init__(self, stage: str, cause: BaseException) -> None:
        super().__init__(f"{stage}: {type(cause).__name__}: {cause}")
        self.stage = stage
        self.cause = cause


@dataclass
class RunOutcome:
    """What ``run_fold`` did: the state after ``applied`` events, or a failure."""

    state: Any
    applied: int
    last: EventRef | None
    failure: FoldFailure | None = None


# ---------------------------------------------------------------------- watchdog


class _Watch:
    __slots__ = ("budget_s", "cancel", "closed", "current", "fired", "fired_at", "name",
                 "reason", "seen", "seen_since", "thread_id")  # fmt: skip

    def __init__(
        self, thread_id: int, budget_s: float, cancel: Cancellable | None, name: str = "fold"
    ) -> None:
        self.thread_id = thread_id
        self.name = name
        self.fired = 0  # interrupts sent to the current call
        self.budget_s = budget_s
        self.cancel = cancel
        self.current = 0  # sequence number of the fold call in progress; 0 = none
        self.seen = 0
        self.seen_since = 0.0
        self.fired_at = 0.0
        self.reason: FailureKind | None = None
        self.closed = False


def _async_raise(thread_id: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc is not None else None
    )


class _Watchdog:
    """One daemon thread for the whole process, awake only while folds run."""

    TICK_S = 0.01

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._watches: set[_Watch] = set()
        self._thread: threading.Thread | None = None

    def open(self, budget_s: float, cancel: Cancellable | None, name: str = "fold") -> _Watch:
        watch = _Watch(threading.get_ident(), budget_s, cancel, name)
        with self._cond:
            self._watches.add(watch)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="fold-watchdog", daemon=True
                )
                self._thread.start()
            self._cond.notify()
        return watch

    def close(self, watch: _Watch) -> None:
        with self._cond:
            watch.closed = True
            self._watches.discard(watch)
            if watch.reason is not None:
                # An interrupt sent but not yet delivered must not land in the caller.
                _async_raise(watch.thread_id, None)

    def defuse(self, watch: _Watch) -> None:
        """Withdraw an interrupt sent to a call that has returned after all (the watch
        goes on to the next call: ``app.replay.guard``)."""
        with self._cond:
            if watch.reason is not None:
                _async_raise(watch.thread_id, None)
                watch.reason = None
            watch.fired_at = 0.0

    def _loop(self) -> None:
        with self._cond:
            while True:
                while not self._watches:
                    self._cond.wait()
                now = time.monotonic()
                for watch in self._watches:
                    self._check(watch, now)
                self._cond.wait(self.TICK_S)

    @staticmethod
    def _check(watch: _Watch, now: float) -> None:
        current = watch.current
        if current == 0 or watch.closed:
            return
        if current != watch.seen:
            watch.seen, watch.seen_since, watch.fired = current, now, 0
            return
        # Re-send in case the fold swallowed it.
        if watch.fired_at and now - watch.fired_at < RESEND_S:
            return
        if watch.cancel is not None and watch.cancel.cancelled:
            watch.reason = "cancelled"
        elif now - watch.seen_since >= watch.budget_s:
            watch.reason = "timeout"
        else:
            return
        watch.fired_at = now
        watch.fired += 1
        _async_raise(watch.thread_id, FoldInterrupt)
        if watch.fired == UNSTOPPABLE_AFTER:
            report_unstoppable(watch.name, now - watch.seen_since)


def _ref(event: Event | None) -> EventRef | None:
    return None if event is None else EventRef.of(event)


_WATCHDOG = _Watchdog()


# ---------------------------------------------------------------------- running


def _fold_traceback(exc: BaseException) -> str:
    # Drop the runner's own frame: the traceback starts in the fold.
    tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
    return "".join(traceback.format_exception(type(exc), exc, tb))


def run_fold(
    fold: FoldSpec | FoldFunction,
    state: Any,
    events: Iterable[Event],
    *,
    budget_s: float = DEFAULT_BUDGET_S,
    cancel: Cancellable | None = None,
    after_each: Callable[[int, Event, Any], None] | None = None,
    prepare: Callable[[Event], Event] | None = None,
) -> RunOutcome:
    """Apply ``fold`` to ``state`` for each event, in order, guarding every call.

    ``prepare(event)`` (the upcasters) turns each event into what the fold gets, under
    the same guard: a failure in it is reported at its event (a ``StageError`` names
    the step), and a step that never returns is interrupted like a fold.

    ``after_each(i, event, new_state)`` runs after the i-th event (0-based within this
    run) — replay uses it for checkpoints and history; it is not part of the budget.
    On a failure the outcome's ``state`` is the last state the fold returned, i.e.
    the state before the failing event *if* the fold did not mutate it in place before
    failing: callers that need a guaranteed clean state recompute it (replay does, from
    a checkpoint).
    """
    name = fold.name if isinstance(fold, FoldSpec) else getattr(fold, "__name__", "fold")
    function = fold.function if isinstance(fold, FoldSpec) else fold
    watch = _WATCHDOG.open(budget_s, cancel, name)
    try:
        try:
            with running(name):
                return _loop(name, function, state, events, watch, cancel, after_each, prepare)
        finally:
            _WATCHDOG.close(watch)
    except FoldInterrupt as exc:
        # Sent just as the slow call returned: the call did overrun, report it so.
        return RunOutcome(state, 0, None, _failure(name, watch.reason or "timeout", None, 0, exc))


def _loop(
    name: str,
    function: FoldFunction,
    state: Any,
    events: Iterable[Event],
    watch: _Watch,
    cancel: Cancellable | None,
    after_each: Callable[[int, Event, Any], None] | None,
    prepare: Callable[[Event], Event] | None = None,
) -> RunOutcome:
    applied = 0
    last: EventRef | None = None
    event: Event | None = None
    try:
        for event in events:
            if cancel is not None and cancel.cancelled:
                failure = _failure(name, "cancelled", event, applied, None, "cancelled")
                return RunOutcome(state, applied, last, failure)
            watch.current = applied + 1
            try:
                given = event if prepare is None else prepare(event)
                new_state = function(state, given)
            except FoldInterrupt:
                raise
            except StageError as exc:
                watch.current = 0
                failure = _failure(name, "error", event, applied, exc.cause, stage=exc.stage)
                return RunOutcome(state, applied, last, failure)
            except BaseException as exc:  # any fold failure is reported, SystemExit too
                watch.current = 0
                return RunOutcome(
                    state, applied, last, _failure(name, "error", event, applied, exc)
                )
            watch.current = 0
            if after_each is not None:
                try:
                    after_each(applied, event, new_state)
                except StateError as exc:  # what the fold returned cannot be kept
                    failure = state_failure(name, EventRef.of(event), applied, exc)
                    return RunOutcome(state, applied, last, failure)
            state = new_state
            applied += 1
            last = EventRef.of(event)
        return RunOutcome(state, applied, last)
    except FoldInterrupt as exc:
        watch.current = 0
        kind: FailureKind = watch.reason or "timeout"
        note = f"no result within {watch.budget_s:g} s" if kind == "timeout" else "cancelled"
        return RunOutcome(state, applied, last, _failure(name, kind, event, applied, exc, note))


def _unkept(exc: StateError) -> str:
    return f"it returned a state the app cannot keep: {exc}"


def state_failure(fold: str, event: EventRef, step: int, exc: StateError) -> FoldFailure:
    """The failure of a fold whose state after ``event`` cannot be kept (see copy_state)."""
    return FoldFailure(fold, "error", event, step, "StateError", _unkept(exc), "")


def _failure(
    fold: str,
    kind: FailureKind,
    event: Event | None,
    step: int,
    exc: BaseException | None,
    message: str | None = None,
    stage: str | None = None,
) -> FoldFailure:
    text = message if message is not None else str(exc)
    if kind == "error" and event is not None and event.error is not None:
        # The usual cause of a fold tripping over None: say so.
        text += f" (this record could not be decoded: {event.error})"
    return FoldFailure(
        fold=fold,
        kind=kind,
        event=None if event is None else EventRef.of(event),
        step=step,
        exception="" if exc is None else type(exc).__name__,
        message=text,
        traceback="" if exc is None else _fold_traceback(exc),
        stage=stage,
    )
