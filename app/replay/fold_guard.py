"""What a fold may not do to the app around it, kept from happening where it can be.

Folds are trusted Python run in the app's own process (see the README: a fold can do
anything Python can), but a few things they commonly do by accident must not break the
app's promises:

* ``print()`` in a fold would land in machine-readable output (``state --json``): while a
  fold runs on a thread, that thread's writes to ``sys.stdout`` go to stderr instead
  (``FoldAwareStdout``, installed by the command line around a command);
* ``os._exit()`` in a fold would end the app without a word: while a fold runs, it
  raises ``FoldExit`` in the fold instead, which ends the run as a failure naming the
  fold and the event (``install_exit_guard``; other threads, and forked workers, exit
  as usual);
* a fold that catches ``BaseException`` in a loop cannot be interrupted by any means a
  thread has: the runner's watchdog says so through the handler set here (the command
  line ends with a message, the window shows one), instead of waiting for ever.

The runner marks the thread that runs a fold (``running``); the rest reads that mark.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TextIO

_local = threading.local()
_real_exit = os._exit
_unstoppable: list[Callable[[str], None]] = []


class FoldExit(Exception):
    """``os._exit`` called inside a fold: the run ends as a failure of that fold."""


def current_fold() -> str | None:
    """The fold running on this thread now, if any."""
    return getattr(_local, "fold", None)


def enter(name: str) -> str | None:
    """Mark this thread as running fold ``name``; returns the mark to restore (``leave``)."""
    outer = getattr(_local, "fold", None)
    _local.fold = name
    return outer


def leave(outer: str | None) -> None:
    _local.fold = outer


@contextmanager
def running(name: str) -> Iterator[None]:
    """Mark this thread as running fold ``name`` (nesting restores the outer mark)."""
    outer = getattr(_local, "fold", None)
    _local.fold = name
    try:
        yield
    finally:
        _local.fold = outer


# ------------------------------------------------------------------ os._exit


def _guarded_exit(status: int) -> NoReturn:
    name = current_fold()
    if name is not None:
        raise FoldExit(f"fold {name!r} called os._exit({status}); a fold cannot end the app")
    _real_exit(status)


def exit_now(status: int) -> NoReturn:
    """End the process now, whatever runs (the real ``os._exit``)."""
    _real_exit(status)


def install_exit_guard() -> None:
    """Make ``os._exit`` inside a fold a failure of that fold (idempotent)."""
    os._exit = _guarded_exit


# ------------------------------------------------------------------ print()


class FoldAwareStdout:
    """``sys.stdout`` for a command: a fold's writes go to stderr, everything else to
    the real stdout (which every other attribute is read from)."""

    def __init__(self, real: TextIO, err: TextIO) -> None:
        self._real, self._err = real, err

    def write(self, text: str) -> int:
        if getattr(_local, "fold", None) is not None:
            return self._err.write(text)
        return self._real.write(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@contextmanager
def fold_prints_to_stderr() -> Iterator[None]:
    """Around a command: what a fold prints cannot corrupt what the command prints."""
    real = sys.stdout
    sys.stdout = FoldAwareStdout(real, sys.stderr)
    try:
        yield
    finally:
        sys.stdout = real


# ------------------------------------------------------------------ unstoppable folds


def on_unstoppable(handler: Callable[[str], None]) -> None:
    """Call ``handler(message)`` (from the watchdog's thread) when a fold keeps running
    after repeated interrupts: it catches BaseException, so nothing can stop it.  The
    last handler set is the one called (a process runs one command or one window)."""
    _unstoppable[:] = [handler]


def report_unstoppable(fold: str, seconds: float) -> None:
    message = (
        f"fold {fold!r} ignores every interrupt (it catches BaseException) and has not "
        f"returned for {seconds:.0f} s; a thread cannot be stopped from outside"
    )
    for handler in _unstoppable:
        handler(message)
