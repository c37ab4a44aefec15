"""The GUI thread keeps running while a large file is read, and the table fills as it goes."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from gui_helpers import loaded, pump_until
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.gui.launch import build_window
from app.gui.settings import Settings
from kafka_io.event import Event
from kafka_io.eventfile import write_event_file

EVENTS = 300_000
PARTITIONS = 4


def synthetic(count: int) -> Iterator[Event]:
    base = 1_750_000_000_000
    for i in range(count):
        aggregate = f"acct-{i % 5000}"
        data = {"eventType": "Deposited", "aggregateId": aggregate, "payload": {"amount": i % 97}}
        yield Event(
            "big-topic", i % PARTITIONS, i // PARTITIONS, base + i * 10, aggregate,
            "Deposited", aggregate, (), data, None, None, orjson.dumps(data),
        )  # fmt: skip


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.avro"
    write_event_file(path, synthetic(EVENTS), formats={"big-topic": "json"})
    return path


@pytest.mark.slow
def test_timer_keeps_firing_while_a_large_file_loads(
    qapp: QApplication, big_file: Path, tmp_path: Path
) -> None:
    log: list[str] = []  # "tick" and "batch", in the order the GUI thread saw them
    row_counts: set[int] = set()
    window = build_window(
        argparse.Namespace(file=big_file), Settings(tmp_path / "s.ini"), use_user_folds=False
    )
    window.loader.topic_grew.connect(lambda _topic: log.append("batch"))
    timer = QTimer()
    timer.setInterval(10)

    def tick() -> None:
        log.append("tick")
        row_counts.add(window.topic_view.model.rowCount())

    timer.timeout.connect(tick)
    timer.start()
    window.show()
    try:
        pump_until(lambda: window.loader.read_task is not None and window.loader.read_task.done)
        pump_until(lambda: window.topic_view.model.rowCount() == EVENTS)
    finally:
        timer.stop()
        window.close()
    # Between the first and the last batch the timer kept firing: the GUI thread was
    # free during the read, not blocked until its end.
    first, last = log.index("batch"), len(log) - 1 - log[::-1].index("batch")
    assert log.count("batch") >= EVENTS // 10_000
    assert log[first:last].count("tick") >= 5, "".join(x[0] for x in log)
    # And the table showed the topic growing rather than appearing all at once.
    assert len({n for n in row_counts if 0 < n < EVENTS}) >= 2


@pytest.mark.slow
def test_text_search_on_a_large_topic_runs_in_a_worker(
    qapp: QApplication, big_file: Path, tmp_path: Path
) -> None:
    window = build_window(
        argparse.Namespace(file=big_file), Settings(tmp_path / "s.ini"), use_user_folds=False
    )
    window.show()
    try:
        pump_until(lambda: loaded(window) and window.topic_view.model.rowCount() == EVENTS)
        window.filter_bar.text.setText('"amount":96}')
        window.filter_bar.flush()
        # The search was handed to a worker: the GUI thread came back at once.
        assert window.filter_bar.summary.text() == "Searching…"
        model = window.topic_view.model
        pump_until(lambda: window.filter_bar.summary.text().startswith(f"{EVENTS // 97:,}"), 60)
        assert model.rowCount() == len([i for i in range(EVENTS) if i % 97 == 96])
        index = window.topic_view.index
        assert index is not None
        assert all(b'"amount":96}' in (index.value_of(int(r)) or b"") for r in model.rows[:200])
    finally:
        window.close()
