"""The one worker mechanism: results, errors and progress reach the GUI thread as signals."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.gui.worker import JobContext, Workers


@pytest.fixture
def workers(qapp: QApplication) -> Iterator[Workers]:
    w = Workers(max_threads=2, progress_interval=0.0)
    yield w
    assert w.shutdown(5000)


def test_result_arrives_in_gui_thread(qtbot: QtBot, workers: Workers) -> None:
    seen: dict[str, object] = {}

    def job(ctx: JobContext) -> int:
        seen["job_thread"] = threading.get_ident()
        return sum(range(1000))

    def on_result(value: object) -> None:
        seen["value"] = value
        seen["gui"] = QThread.currentThread() is QApplication.instance().thread()  # type: ignore[union-attr]

    # Callbacks are connected by submit() before the job starts; a waitSignal opened
    # after submit() could miss a job that finished first.
    workers.submit("sum", job, on_result=on_result)
    qtbot.waitUntil(lambda: "value" in seen)
    assert seen["value"] == 499500
    assert seen["gui"] is True
    assert seen["job_thread"] != threading.get_ident()


def test_exception_is_delivered_as_failed(qtbot: QtBot, workers: Workers) -> None:
    def job(ctx: JobContext) -> None:
        raise ValueError("bad offset 42")

    results: list[object] = []
    failures: list[str] = []
    task = workers.submit("boom", job, on_result=results.append, on_failed=failures.append)
    qtbot.waitUntil(lambda: bool(failures) and task.done)
    assert failures == ["ValueError: bad offset 42"]
    assert results == []
    assert task.error == "ValueError: bad offset 42"


def test_cancel_stops_job_and_suppresses_result(qtbot: QtBot, workers: Workers) -> None:
    started = threading.Event()
    steps: list[int] = []

    def job(ctx: JobContext) -> str:
        started.set()
        for i in range(10_000):
            ctx.check()
            steps.append(i)
            time.sleep(0.001)
        return "ran to the end"

    results: list[object] = []
    task = workers.submit("long", job, on_result=results.append)
    assert started.wait(5)
    task.cancel()
    with qtbot.waitSignal(task.finished, timeout=5000, raising=False):
        pass
    qtbot.waitUntil(lambda: task.done)
    assert results == []
    assert len(steps) < 10_000


def test_cancel_forwards_to_linked_token(workers: Workers) -> None:
    forwarded: list[bool] = []
    task = workers.submit("noop", lambda ctx: None)
    task.token.on_cancel(lambda: forwarded.append(True))
    task.cancel()
    task.cancel()  # idempotent: the callback runs once
    assert forwarded == [True]
    late: list[bool] = []
    task.token.on_cancel(lambda: late.append(True))
    assert late == [True]


def test_progress_and_partials_in_order(qtbot: QtBot, workers: Workers) -> None:
    partials: list[object] = []
    progress: list[int] = []

    def job(ctx: JobContext) -> int:
        for i in range(50):
            ctx.partial(i)
            ctx.progress(i)
        return 50

    workers.submit("stream", job, on_partial=partials.append, on_progress=progress.append)
    qtbot.waitUntil(lambda: len(partials) == 50)
    assert partials == list(range(50))
    assert progress and progress == sorted(progress)


def test_installed_pyside_keeps_its_references(qapp: QApplication) -> None:
    """PySide6 6.12.0 dropped a reference to None on every void call and to True on every
    emit, aborting Python 3.11 after a few thousand calls; pyproject excludes it.  This
    fails if a release with that bug is installed again."""
    import sys

    from PySide6.QtCore import QObject, Signal

    class Pinger(QObject):
        ping = Signal(object)

    pinger = Pinger()
    received: list[object] = []
    pinger.ping.connect(received.append)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for i in range(2_000):
        pinger.ping.emit(i)
        pinger.setObjectName("p")  # a void call
    assert len(received) == 2_000
    assert none_before - sys.getrefcount(None) < 100
    assert true_before - sys.getrefcount(True) < 100
