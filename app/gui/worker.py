"""The one way the GUI runs work off its thread: a job function in a QThreadPool.

A job is a plain function ``job(ctx) -> result``.  It reports through ``ctx`` (progress,
partial results) and checks ``ctx.cancelled`` between steps; everything it sends reaches
the GUI thread as a queued Qt signal.  An exception in a job is never lost: it arrives as
``failed(str)``.  Jobs make their own Kafka clients, so no librdkafka handle is shared
between threads, and a job never touches a widget or the application object.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from kafka_io.cancel import CancelToken

log = logging.getLogger(__name__)
T = TypeVar("T")


class Cancelled(Exception):
    """Raised by ``ctx.check()`` so a job can stop from deep inside a loop."""


class Task(QObject):
    """The GUI side of one job: its signals, and the handle to cancel it.

    Created in the GUI thread, so a job emitting these from a pool thread delivers them
    to slots in the GUI thread (queued connections).
    """

    progress = Signal(object)  # throttled: the latest progress value
    partial = Signal(object)  # every streamed piece of the result, never dropped
    result = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.token = CancelToken()
        self.done = False
        self.error: str | None = None

    def cancel(self) -> None:
        self.token.cancel()

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled


def ignore_failure(_message: str) -> None:
    """``on_failed`` for a job whose failure is expected and harmless (said explicitly)."""


class _TaskGone(Exception):
    """The Task's C++ object was deleted (application teardown) while its job ran."""


class JobContext:
    """What a running job may use: report progress, stream partial results, see cancel."""

    def __init__(self, task: Task, progress_interval: float) -> None:
        self._task = task
        self._interval = progress_interval
        self._last = 0.0
        self._task_gone = False

    @property
    def token(self) -> CancelToken:
        return self._task.token

    @property
    def cancelled(self) -> bool:
        return self._task.token.cancelled

    def check(self) -> None:
        if self._task.token.cancelled:
            raise Cancelled()

    def progress(self, value: object, *, force: bool = False) -> None:
        """Report progress; calls closer than the interval are dropped (unless forced)
        so a fast job cannot flood the GUI's event queue."""
        now = time.monotonic()
        if force or now - self._last >= self._interval:
            self._last = now
            self._send(self._task.progress, value)

    def partial(self, value: object) -> None:
        self._send(self._task.partial, value)

    def _send(self, signal: Any, value: object) -> None:
        try:
            signal.emit(value)
        except RuntimeError as exc:
            if "deleted" in str(exc):
                # The window is gone: stop the job rather than keep working for no one.
                self._task_gone = True
                raise _TaskGone() from exc
            raise


class _Runnable(QRunnable, Generic[T]):
    def __init__(self, task: Task, job: Callable[[JobContext], T], interval: float) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._task = task
        self._job = job
        self._interval = interval

    def run(self) -> None:
        task = self._task
        try:
            value = self._job(JobContext(task, self._interval))
        except Cancelled:
            pass
        except _TaskGone:
            return  # the application is shutting down: nobody is left to tell
        except BaseException as exc:  # every failure must reach the GUI
            log.debug("job %s failed:\n%s", task.name, traceback.format_exc())
            task.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            _emit(task.failed, task.error)
        else:
            if not task.token.cancelled:
                _emit(task.result, value)
        finally:
            task.done = True
            _emit(task.finished)


def _emit(signal: Any, *args: object) -> None:
    try:
        signal.emit(*args)
    except RuntimeError as exc:
        # Only "Signal source has been deleted": a torn-down Task, not a real error.
        if "deleted" not in str(exc):
            raise
        log.debug("signal dropped after its Task was deleted: %s", exc)


FailureHandler = Callable[[str, str], None]  # (job name, one-line error)


def _late_safe(callback: Callable[..., None], workers: Workers) -> Callable[..., None]:
    """``callback``, dropped once ``workers`` shut down, and quiet when it reaches a Qt
    object deleted while the job ran (a result arriving after its window closed):
    nothing is left to tell."""

    def call(*args: Any) -> None:
        if workers._shut:
            return
        try:
            callback(*args)
        except RuntimeError as exc:
            if "deleted" not in str(exc):
                raise
            log.debug("a job's callback came after its object was deleted: %s", exc)

    return call


class Workers(QObject):
    """Runs jobs in a private thread pool and keeps their Tasks alive until they finish.

    A failure is visible by default: a job submitted without ``on_failed`` reports its
    error to ``on_unhandled_failure`` (the window shows it where the user is looking);
    silence has to be asked for with ``on_failed=ignore_failure``.
    """

    def __init__(
        self,
        max_threads: int = 4,
        progress_interval: float = 0.05,
        *,
        on_unhandled_failure: FailureHandler | None = None,
    ) -> None:
        super().__init__()
        self._pool = QThreadPool()
        self._pool.setMaxThreadCount(max_threads)
        self._interval = progress_interval
        self._running: set[Task] = set()
        self._shut = False  # shut down: callbacks are no longer delivered
        self.on_unhandled_failure = on_unhandled_failure

    def submit(
        self,
        name: str,
        job: Callable[[JobContext], Any],
        *,
        on_result: Callable[[Any], None] | None = None,
        on_failed: Callable[[str], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
        on_partial: Callable[[Any], None] | None = None,
        on_finished: Callable[[], None] | None = None,
    ) -> Task:
        """Start ``job`` in the pool; the callbacks run in the GUI thread."""
        task = Task(name)
        if on_result is not None:
            task.result.connect(_late_safe(on_result, self))
        if on_failed is not None:
            task.failed.connect(_late_safe(on_failed, self))
        else:
            task.failed.connect(lambda message: self._unhandled(name, message))
        if on_progress is not None:
            task.progress.connect(_late_safe(on_progress, self))
        if on_partial is not None:
            task.partial.connect(_late_safe(on_partial, self))
        if on_finished is not None:
            task.finished.connect(_late_safe(on_finished, self))
        task.finished.connect(lambda: self._running.discard(task))
        self._running.add(task)
        self._pool.start(_Runnable(task, job, self._interval))
        return task

    def _unhandled(self, name: str, message: str) -> None:
        if self.on_unhandled_failure is not None:
            self.on_unhandled_failure(name, message)
        else:
            log.error("%s failed: %s", name, message)

    @property
    def running(self) -> list[Task]:
        return [t for t in self._running if not t.done]

    def cancel_all(self) -> None:
        for task in list(self._running):
            task.cancel()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel everything and wait for the pool; True if every job ended in time.

        The jobs' callbacks are cut first: they belong to a window that is going away,
        and one that ends after it (a listing against a slow cluster) must not call
        into objects already deleted."""
        self._shut = True
        self.cancel_all()
        return bool(self._pool.waitForDone(timeout_ms))
