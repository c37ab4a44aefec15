"""What a new user met in the window, each fixed: counts that follow the data, damage
called damage, failures said where one looks, stepping and filtering that keep every
panel in step, copy and export of what is shown."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import orjson
from gui_helpers import loaded, pump_until
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from app.gui.fold_files import FoldFiles
from app.gui.launch import build_window
from app.gui.main_window import MainWindow
from app.gui.settings import Settings
from app.index.query import Query, run_query
from app.output.event_json import event_record
from app.sources import FileSource
from app.sources.connections import ConnectionRequest
from resources import demo_path
from widgets.event_table import Role
from widgets.rate_chart import RateChart


def new_window(qtbot: QtBot, tmp_path: Path, name: str = "s.ini") -> MainWindow:
    window = MainWindow(Settings(tmp_path / name), FoldFiles(use_user_dir=False))
    qtbot.addWidget(window)
    window.show()
    return window


def shown(window: MainWindow) -> list[Any]:
    model = window.topic_view.model
    return [model.data(model.index(r, 0), Role.EVENT) for r in range(model.rowCount())]


# --- 1. the inspector follows the index ---------------------------------------------------


def test_the_inspector_count_is_the_whole_aggregate_after_loading(window: MainWindow) -> None:
    """The first row is selected while the file is still loading; once everything is
    in, the inspector counts all of that aggregate's events, not those read by then."""
    window.topic_view.select_model_row(0)
    aggregate = window.inspector.aggregate
    index = window.topic_view.index
    assert aggregate is not None and index is not None
    expected = len(index.rows_for_aggregate(aggregate))
    pump_until(lambda: window.inspector.step_count == expected, 30)
    assert f"{expected:,} events" in window.inspector.aggregate_label.text()


def test_a_growing_aggregate_keeps_the_selected_event(qtbot: QtBot, tmp_path: Path) -> None:
    lines = [
        {"topic": "t", "partition": 0, "offset": i, "ts": 1_757_000_000_000 + i,
         "key": "acc-1", "payload": orjson.dumps({"eventType": "E", "n": i}).decode()}
        for i in range(40)
    ]  # fmt: skip
    path = tmp_path / "grow.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines[:10]) + b"\n")
    window = new_window(qtbot, tmp_path)
    window.open_file(path)
    pump_until(lambda: loaded(window), 30)
    window.topic_view.select_model_row(3)
    pump_until(lambda: window.inspector.step == 3 and window.inspector.step_count == 10, 30)
    index = window.topic_view.index
    assert index is not None
    more = FileSource(path).make_decoder()
    index.append(
        [more.decode("t", 0, i, 1_757_000_000_000 + i, b"acc-1",
                     orjson.dumps({"eventType": "E", "n": i}), None) for i in range(10, 40)]
    )  # fmt: skip
    window.topic_view.refresh()
    pump_until(lambda: window.inspector.step_count == 40 and window.inspector.step >= 0, 30)
    assert window.inspector.step == 3  # the same event, not the last one


# --- 3. damage is damage -------------------------------------------------------------------


def test_a_damaged_file_says_so_and_keeps_what_it_read(qtbot: QtBot, tmp_path: Path) -> None:
    data = demo_path().read_bytes()
    damaged = tmp_path / "truncated.avro"
    damaged.write_bytes(data[: len(data) // 3])
    window = new_window(qtbot, tmp_path)
    window.open_file(damaged)
    pump_until(lambda: not window.loader.reading and window.banner.isVisible(), 60)
    message = window.banner.message
    assert "truncated.avro: damaged after " in message and "cancelled" not in message
    assert window.topic_view.model.rowCount() > 0  # what was read is kept
    assert "(incomplete)" in window.filter_bar.summary.text()
    topic = window.topic_view.topic
    assert topic is not None
    item = window.cluster_tree.topic_item(topic)
    assert item is not None and item.text(0).startswith("⚠")
    assert "Incomplete: damaged after" in item.toolTip(0)
    assert window.settings.recent_files() != []  # it gave events: worth reopening


def test_a_file_that_is_no_event_file_is_not_remembered(qtbot: QtBot, tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello\n")
    window = new_window(qtbot, tmp_path)
    assert not window.open_file(junk)
    assert "Cannot open notes.txt" in window.banner.message
    assert window.settings.recent_files() == []


# --- 8. a bad address keeps the working source --------------------------------------------


def test_a_bad_address_keeps_the_open_source(qtbot: QtBot, tmp_path: Path) -> None:
    window = new_window(qtbot, tmp_path)
    window.opener.open_demo()
    pump_until(lambda: loaded(window), 60)
    before = window.loader.dataset
    assert window.opener.connect_to(ConnectionRequest("127.0.0.1:1", ("socket.timeout.ms=2000",)))
    pump_until(lambda: window.banner.isVisible(), 60)
    assert window.banner.message.startswith("Could not connect to 127.0.0.1:1: ")
    assert window.loader.dataset is before and window.topic_view.model.rowCount() > 0
    assert window.settings.recent_connections() == []


# --- 11. a failing fold shows where --------------------------------------------------------


def test_a_failing_fold_shows_its_line_and_traceback(window: MainWindow, tmp_path: Path) -> None:
    path = tmp_path / "broken_fold.py"
    path.write_text(
        "from app.folds import fold\n\n"
        '@fold("broken", topics=["bank-*"])\n'
        "def broken(state, event):\n"
        "    return state['missing']\n"
    )
    window.fold_actions.load(path)
    window.topic_view.select_model_row(0)
    pump_until(lambda: window.inspector.aggregate is not None, 30)
    window.inspector.fold_combo.setCurrentText("broken")
    pump_until(lambda: window.inspector.failure.isVisible(), 30)
    assert "broken_fold.py, line 5" in window.inspector.failure.text()
    assert "Traceback" in window.inspector.failure_details
    assert "state['missing']" in window.inspector.failure_details
    window.inspector.fold_combo.setCurrentText("bank-account")


# --- 12. settings do not leak ---------------------------------------------------------------


def test_folds_given_on_the_command_line_are_not_remembered(qtbot: QtBot, tmp_path: Path) -> None:
    given, loaded_in_gui = tmp_path / "given.py", tmp_path / "loaded.py"
    for path, name in ((given, "given"), (loaded_in_gui, "loaded")):
        path.write_text(
            f"from app.folds import fold\n\n@fold({name!r})\ndef f(s, e):\n    return s\n"
        )
    args = argparse.Namespace(bootstrap=None, config=None, file=demo_path(), folds=[given])
    settings = Settings(tmp_path / "s.ini")
    window = build_window(args, settings, use_user_folds=False)
    qtbot.addWidget(window)
    assert "given" in window.folds.registry
    window.fold_actions.load(loaded_in_gui)
    assert settings.fold_files() == [str(loaded_in_gui.resolve())]
    window.close()


# --- 14. stepping moves the table and the Event panel --------------------------------------


def test_stepping_moves_the_table_and_the_detail(window: MainWindow) -> None:
    window.filter_bar.set_aggregate("ACC-100007")
    window.filter_bar.flush()
    window.topic_view.select_model_row(0)
    pump_until(lambda: window.inspector.step == 0, 30)
    for expected_row in (1, 2):
        window.step_next()
        table = window.topic_view.table
        pump_until(lambda: table.currentIndex().row() == expected_row)  # noqa: B023
        current = window.topic_view.model.event_at(expected_row)
        assert window.detail.current is not None
        assert (window.detail.current.partition, window.detail.current.offset) == (
            current.partition, current.offset,
        )  # fmt: skip


# --- 15. the rate chart follows the filter; empty results say so ---------------------------


def test_rates_follow_the_filter_and_empty_results_say_so(window: MainWindow) -> None:
    window.panes.monitor_docks[1].show()
    window.panes.monitor_docks[1].raise_()
    pump_until(lambda: isinstance(window.monitoring.charts.rate, RateChart))
    chart = window.monitoring.charts.rate
    assert isinstance(chart, RateChart)
    window.filter_bar.set_aggregate("ACC-100007")
    window.filter_bar.flush()
    rows = window.topic_view.model.rows
    pump_until(lambda: chart.counts is not None and int(chart.counts.totals.sum()) == len(rows))
    window.topic_view.select_model_row(0)
    pump_until(lambda: window.detail.current is not None)
    window.filter_bar.set_aggregate("NO-SUCH-ACCOUNT-AT-ALL")
    window.filter_bar.flush()
    assert window.topic_view.model.rowCount() == 0
    assert window.table.empty_text == "No events match the filter."
    assert window.detail.current is None  # the hidden event does not linger
    window.panes.inspector_dock.raise_()


# --- 16. copy and export what is shown -----------------------------------------------------


def test_copy_several_rows_as_json_lines_and_tsv(window: MainWindow) -> None:
    window.filter_bar.set_aggregate("ACC-100007")
    window.filter_bar.flush()
    table, model = window.table, window.topic_view.model
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    table.selectionModel().clearSelection()
    for row in (0, 1, 2):
        table.selectionModel().select(model.index(row, 0), flags)
    assert window.topic_view.copy_selected("jsonl") == 3
    lines = QGuiApplication.clipboard().text().splitlines()
    expected = [event_record(model.event_at(r)) for r in (0, 1, 2)]
    assert [orjson.loads(line) for line in lines] == orjson.loads(orjson.dumps(expected))
    window.topic_view.copy_selected("tsv")
    rows = QGuiApplication.clipboard().text().splitlines()
    assert rows[0].split("\t")[:3] == ["topic", "partition", "offset"] and len(rows) == 4
    assert rows[1].split("\t")[2] == str(model.event_at(0).offset)


def test_export_writes_exactly_the_shown_events(window: MainWindow, tmp_path: Path) -> None:
    window.filter_bar.set_aggregate("ACC-100007")
    window.filter_bar.flush()
    index = window.topic_view.index
    assert index is not None
    want = run_query(index, Query(aggregate="ACC-100007"))
    for name in ("shown.avro", "shown.jsonl"):
        path = tmp_path / name
        window.exporter.export_shown(path)
        pump_until(path.exists, 30)
        back = [e for batch in FileSource(path).read(None) for e in batch]
        assert len(back) == len(want)
        assert [(e.partition, e.offset) for e in back] == [
            (index.ref(int(r)).partition, index.ref(int(r)).offset) for r in want
        ]
        assert {e.aggregate for e in back} == {"ACC-100007"}
    originals = [index.value_of(int(r)) for r in want]
    avro_back = [e.value for batch in FileSource(tmp_path / "shown.avro").read(None) for e in batch]
    assert avro_back == originals  # byte for byte


# --- 17. fields changed, quoting ----------------------------------------------------------


def test_first_event_counts_every_field_it_sets_and_strings_are_quoted(
    window: MainWindow,
) -> None:
    window.filter_bar.set_aggregate("ACC-100007")
    window.filter_bar.flush()
    window.topic_view.select_model_row(0)
    pump_until(lambda: window.inspector.step == 0, 30)
    pump_until(lambda: "changed" in window.inspector.state_title.text(), 30)
    tree = window.inspector.state_tree
    changed = len(tree.changed_items())
    assert changed > 1  # the account opening sets every field, not "1 field changed"
    leaves = [i for i in tree.changed_items() if i.childCount() == 0]
    assert f"{len(leaves)} fields changed" in window.inspector.state_title.text()
    strings = [i for i in tree.items() if i.text(1).startswith('"')]
    assert strings and all(i.text(1).endswith('"') for i in strings)


def test_another_aggregate_never_shows_the_previous_ones_state(window: MainWindow) -> None:
    window.topic_view.select_model_row(0)
    first = window.inspector.aggregate
    pump_until(lambda: window.inspector.state_title.text().startswith("State after"), 30)
    model = window.topic_view.model
    other = next(
        r
        for r in range(model.rowCount())
        if model.data(model.index(r, 0), Role.EVENT).aggregate != first
    )
    window.topic_view.select_model_row(other)
    second = window.inspector.aggregate
    assert second != first
    # Until its replay is in, the panel says so rather than keeping the other state.
    # (Its result arrives through the event loop, so it cannot be in yet.)
    assert window.inspector.state_title.text() == f"Replaying {second}…"
    assert window.inspector.state_tree.topLevelItemCount() == 0
    pump_until(lambda: window.inspector.state_title.text().startswith("State after"), 30)
    assert f"of {window.inspector.step_count}:" in window.inspector.state_title.text()


def test_switching_topics_inspects_the_event_the_table_selects(window: MainWindow) -> None:
    window.activate_topic("orders")
    try:
        pump_until(lambda: window.topic_view.selected_row_id() is not None, 30)
        row = window.topic_view.table.currentIndex().row()
        event = window.topic_view.model.data(window.topic_view.model.index(row, 0), Role.EVENT)
        # The selected event is the inspected one, not "select an event" beside a selection.
        pump_until(lambda: window.inspector.aggregate == event.aggregate, 30)
    finally:
        window.activate_topic("bank-accounts")
