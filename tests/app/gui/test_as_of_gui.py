"""As-of mode in the window, on the demo data: one moment (or offsets) freezes the table,
its counts and type lists, the charts' marker and the inspector; the States dock and the
inspector's audit report answer at that moment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gui_helpers import must, pump_until, shown_state
from pytestqt.qtbot import QtBot

from app.audit.as_of import AsOf, format_moment
from app.audit.verify import verify_offline
from app.gui.main_window import MainWindow
from app.replay.replayer import Replayer
from widgets.aggregate_inspector import StateView
from widgets.event_table import Role

AGGREGATE = "ACC-100007"


def shown(window: MainWindow) -> list[Any]:
    model = window.topic_view.model
    return [model.data(model.index(r, 0), Role.EVENT) for r in range(model.rowCount())]


def latest_state(window: MainWindow) -> StateView:
    """The inspector's state at the last event of its timeline."""
    pump_until(lambda: window.inspector.step_count > 0, 30)
    return shown_state(window, window.inspector.step_count - 1)


@pytest.fixture
def on_aggregate(window: MainWindow) -> Any:
    window.filter_bar.set_aggregate(AGGREGATE)
    window.filter_bar.flush()
    window.topic_view.select_model_row(window.topic_view.model.rowCount() - 1)
    pump_until(lambda: window.inspector.aggregate == AGGREGATE, 30)
    yield window
    window.as_of_mode.leave()


def moment_between(window: MainWindow, k: int) -> int:
    """A moment after the aggregate's k-th event (0-based) and before the next."""
    index = must(window.topic_view.index)
    stamps = index.timestamp_col[index.rows_for_aggregate(AGGREGATE)]
    assert stamps[k] < stamps[k + 1], "the demo's events of one account are apart in time"
    return int(stamps[k] + (stamps[k + 1] - stamps[k]) // 2)


def test_a_moment_hides_later_events_and_changes_the_state(
    on_aggregate: MainWindow, qtbot: QtBot
) -> None:
    window = on_aggregate
    index = must(window.topic_view.index)
    everything = len(shown(window))
    before = latest_state(window)
    at = moment_between(window, 4)

    window.as_of_mode.set(AsOf.moment(at))
    rows = shown(window)
    assert len(rows) == 5 < everything
    assert all(e.timestamp_ms <= at for e in rows)
    # Counts and the type list are of what had been written by then, not of the topic.
    written = int(np.count_nonzero(index.effective_timestamp_col <= at))
    assert f"of {written:,}" in window.filter_bar.summary.text()
    assert sum(window.filter_bar.types._counts.values()) == written < len(index)
    # The banner, the title and the inspector say so.
    label = f"As of {format_moment(at)}"
    assert window.panes.as_of_bar.isVisible() and window.panes.as_of_bar.label.text() == label
    assert label in window.windowTitle()
    assert window.inspector.step_count == 5
    assert window.inspector.note.isVisible() and label in window.inspector.note.text()
    frozen = latest_state(window)
    fold = window.inspector_ctl.fold_for("bank-accounts")
    assert frozen.state == Replayer.from_index(index, AGGREGATE, fold).state(n=5)
    assert frozen.state != before.state

    # Moving T moves everything with it.
    window.panes.as_of_bar.time.setDateTime(
        window.panes.as_of_bar.time.dateTime().addMSecs(moment_between(window, 6) - at)
    )
    pump_until(lambda: len(shown(window)) == 7)
    assert window.inspector.step_count == 7

    window.panes.as_of_bar.leave.click()
    assert not window.panes.as_of_bar.isVisible() and window.windowTitle() == "Event Explorer"
    assert len(shown(window)) == everything
    pump_until(lambda: window.inspector.step_count == everything)
    assert latest_state(window).state == before.state


def test_offsets_freeze_each_partition_at_its_own_offset(on_aggregate: MainWindow) -> None:
    window = on_aggregate
    rows = shown(window)
    partition, offset = rows[2].partition, rows[2].offset
    bar = window.panes.as_of_bar
    window.as_of_mode.toggle()
    bar.mode.setCurrentIndex(1)
    bar.offsets.setText("oops")
    bar.offsets.returnPressed.emit()
    assert "PARTITION:OFFSET" in bar.error.text()  # said, and nothing changed
    bar.offsets.setText(f"{partition}:{offset}")
    bar.offsets.returnPressed.emit()
    assert window.as_of_mode.as_of == AsOf.at_offsets({partition: offset})
    assert bar.error.text() == ""
    assert [(e.partition, e.offset) for e in shown(window)] == [
        (e.partition, e.offset) for e in rows[:3]
    ]
    # Other partitions contribute nothing: the table's total is this partition's prefix.
    index = must(window.topic_view.index)
    kept = (index.partition_col == partition) & (index.offset_col <= offset)
    assert f"of {int(np.count_nonzero(kept)):,}" in window.filter_bar.summary.text()
    pump_until(lambda: window.inspector.step_count == 3)


def test_states_dock_answers_at_the_moment(on_aggregate: MainWindow) -> None:
    window = on_aggregate
    at = moment_between(window, 4)
    window.as_of_mode.set(AsOf.moment(at))
    results: list[Any] = []
    window.auditing.states_shown.connect(results.append)
    window.auditing.states()
    pump_until(lambda: bool(results), 60)
    result = results[0]
    index = must(window.topic_view.index)
    stamped = index.timestamp_col <= at
    names = index.aggregate_names
    ids = {names[a] for a in np.unique(index.aggregate_col[stamped]).tolist() if a >= 0}
    assert {r.aggregate for r in result.rows} == ids
    mine = next(r for r in result.rows if r.aggregate == AGGREGATE)
    fold = window.inspector_ctl.fold_for("bank-accounts")
    assert mine.state == Replayer.from_index(index, AGGREGATE, fold).state(n=5)
    table = window.panes.states
    assert table.model.rowCount() == len(result.rows)
    assert format_moment(at) in table.title.text()
    # Double-click an aggregate: it becomes the filter and the inspector's.
    table._activated(table.proxy.index(0, 0))
    first = table.sorted_rows()[0].aggregate
    pump_until(lambda: window.inspector.aggregate == first, 30)


def test_the_inspectors_audit_report_verifies(on_aggregate: MainWindow, tmp_path: Path) -> None:
    window = on_aggregate
    at = moment_between(window, 4)
    window.as_of_mode.set(AsOf.moment(at))
    pump_until(lambda: window.inspector.step_count == 5)
    written: list[Any] = []
    window.auditing.report_written.connect(written.append)
    assert window.inspector.audit_button.isEnabled()
    window.auditing.report_to(tmp_path / "report")
    pump_until(lambda: bool(written), 120)
    done = written[0]
    assert done.manifest["aggregate"] == AGGREGATE
    assert done.manifest["as_of"]["timestamp_ms"] == at
    assert len(done.manifest["events"]) == 5
    assert verify_offline(done.folder).verified
    assert "verify" in window.statusBar().currentMessage()
