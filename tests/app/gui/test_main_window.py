"""The window on the demo data: open, filter, select an aggregate, step its timeline."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from typing import Any

import orjson
from gui_helpers import must, pump_until
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.cli.main import main as cli_main
from app.gui.inspector_step import compute_step
from app.gui.main_window import MainWindow
from app.index.query import Query, run_query
from app.replay.replayer import Replayer
from resources import demo_path
from widgets.aggregate_inspector import StateView
from widgets.event_table import Role, TableColumn
from widgets.rate_chart import RateChart

AGGREGATE = "ACC-100007"


def shown_rows(window: MainWindow) -> list[Any]:
    model = window.topic_view.model
    return [model.data(model.index(r, 0), Role.EVENT) for r in range(model.rowCount())]


def filter_aggregate(window: MainWindow, aggregate: str) -> None:
    window.filter_bar.set_aggregate(aggregate)
    window.filter_bar.flush()


def test_demo_data_opens_with_every_panel_filled(window: MainWindow) -> None:
    tree = window.cluster_tree
    assert tree.topic_names() == [
        "bank-accounts", "orders", "payments", "property-listings", "shipments",
    ]  # fmt: skip
    index = window.topic_view.index
    assert index is not None
    assert window.topic_view.model.rowCount() == len(index) > 100_000
    # Every topic of the file was indexed in the one pass.
    assert set(window.loader.dataset.indexes) == set(tree.topic_names())  # type: ignore[union-attr]
    # A first row is selected at launch, so the detail and inspector show something.
    assert window.detail.current is not None
    pump_until(lambda: window.inspector.state_tree.topLevelItemCount() > 0)
    assert window.inspector.fold_name == "bank-account"
    assert window.filter_bar.types.list.count() >= 4


def test_filter_by_aggregate_matches_core_query(window: MainWindow) -> None:
    filter_aggregate(window, AGGREGATE)
    events = shown_rows(window)
    assert events and {e.aggregate for e in events} == {AGGREGATE}
    index = window.topic_view.index
    assert index is not None
    expected = run_query(index, Query(aggregate=AGGREGATE))
    assert list(window.topic_view.model.rows) == list(expected)
    # Log order: offsets of the one partition increase.
    assert [e.offset for e in events] == sorted(e.offset for e in events)


def test_partial_aggregate_narrows_as_you_type(window: MainWindow) -> None:
    filter_aggregate(window, "ACC-10000")
    aggregates = {e.aggregate for e in shown_rows(window)}
    assert len(aggregates) == 10
    assert all(a.startswith("ACC-10000") for a in aggregates)


def test_filter_by_type_and_errors(window: MainWindow) -> None:
    window.filter_bar.types.set_selected({"MoneyWithdrawn"})
    window.filter_bar.flush()
    model = window.topic_view.model
    assert model.rowCount() > 1000
    types = {
        model.data(model.index(r, int(TableColumn.TYPE))) for r in range(0, model.rowCount(), 97)
    }
    assert types == {"MoneyWithdrawn"}
    window.filter_bar.clear()
    window.filter_bar.errors_only.setChecked(True)
    window.filter_bar.flush()
    errors = shown_rows(window)
    assert errors and all(e.error for e in errors)
    assert "invalid JSON" in window.topic_view.model.data(
        window.topic_view.model.index(0, int(TableColumn.VALUE)), Qt.ItemDataRole.ToolTipRole
    )


def test_text_search_is_case_insensitive(window: MainWindow) -> None:
    window.filter_bar.text.setText("SALARY")
    window.filter_bar.flush()
    events = shown_rows(window)[:50]
    assert events and all("salary" in (e.value or b"").decode() for e in events)


def wait_state(window: MainWindow, qtbot: QtBot, step: int) -> StateView:
    views: list[StateView] = []
    window.inspector_ctl.state_shown.connect(views.append)
    try:
        pump_until(lambda: any(v.step == step for v in views), 30)
    finally:
        window.inspector_ctl.state_shown.disconnect(views.append)
    return next(v for v in views if v.step == step)


def test_select_row_positions_inspector_and_arrow_keys_step(
    window: MainWindow, qtbot: QtBot
) -> None:
    filter_aggregate(window, AGGREGATE)
    window.topic_view.select_model_row(3)
    view = wait_state(window, qtbot, 3)
    inspector = window.inspector
    assert inspector.aggregate == AGGREGATE
    assert inspector.step == 3
    assert window.detail.current is not None and window.detail.current.aggregate == AGGREGATE
    inspector.timeline.setFocus()
    qtbot.keyClick(inspector.timeline, Qt.Key.Key_Down)
    after = wait_state(window, qtbot, 4)
    assert inspector.step == 4 and inspector.slider.value() == 4
    qtbot.keyClick(inspector.timeline, Qt.Key.Key_Left)
    wait_state(window, qtbot, 3)
    assert view.state != after.state
    # The highlighted fields are exactly those the event at step 4 changed.
    index = window.topic_view.index
    assert index is not None
    replayer = Replayer.from_index(index, AGGREGATE, window.folds.registry.get("bank-account"))
    before_state = replayer.state(n=4)
    after_state = replayer.state(n=5)
    changed = {k for k in after_state if before_state.get(k) != after_state.get(k)}
    assert after.changed == frozenset(changed)


def test_state_shown_equals_the_cli_state(window: MainWindow, qtbot: QtBot) -> None:
    filter_aggregate(window, AGGREGATE)
    window.topic_view.select_model_row(7)
    view = wait_state(window, qtbot, 7)
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli_main(
            ["state", "--file", str(demo_path()), "--topic", "bank-accounts",
             "--aggregate", AGGREGATE, "--fold", "bank-account", "--n", "8", "--json"]
        )  # fmt: skip
    assert code == 0
    printed = orjson.loads(out.getvalue())
    assert printed["state"] == view.state
    # And what the tree draws is that state.
    tree = window.inspector.state_tree
    balance = tree.item_at_path("balance")
    assert balance is not None and float(balance.text(1)) == printed["state"]["balance"]
    assert balance.text(2)  # blame: the event that last set the balance


def test_blame_and_diff(window: MainWindow, qtbot: QtBot) -> None:
    filter_aggregate(window, AGGREGATE)
    window.topic_view.select_model_row(5)
    wait_state(window, qtbot, 5)
    inspector = window.inspector
    inspector.diff_from.setValue(1)
    inspector.diff_to.setValue(6)
    inspector.diff_button.click()
    pump_until(lambda: inspector.diff_tree.topLevelItemCount() > 0, 30)
    paths = {
        must(inspector.diff_tree.topLevelItem(i)).text(1)
        for i in range(inspector.diff_tree.topLevelItemCount())
    }
    assert "balance" in paths
    index = window.topic_view.index
    assert index is not None
    replayer = Replayer.from_index(index, AGGREGATE, window.folds.registry.get("bank-account"))
    result = compute_step(replayer, 5)
    assert result.view.blame["owner"].type == "AccountOpened"


def test_goto_offset(window: MainWindow) -> None:
    from widgets.goto_dialog import GotoTarget

    assert window.topic_view.goto(GotoTarget(partition=2, offset=1234)) is None
    event = window.detail.current
    assert event is not None and (event.partition, event.offset) == (2, 1234)


def test_switch_topic_and_avro_schema_evolution(window: MainWindow, qtbot: QtBot) -> None:
    window.activate_topic("orders")
    assert window.topic_view.topic == "orders"
    window.filter_bar.types.set_selected({"OrderPlaced"})
    window.filter_bar.flush()
    events = shown_rows(window)
    ids = {e.schema_id for e in events}
    assert ids == {1, 6}  # v1 and the evolved v2 schema, both decoded
    assert any("channel" in e.data for e in events if e.schema_id == 6)
    window.topic_view.select_model_row(0)
    pump_until(lambda: window.inspector.fold_name == "order", 30)
    window.activate_topic("bank-accounts")


def test_clicking_a_rate_bar_shows_that_buckets_events(window: MainWindow) -> None:
    rate_dock = window.panes.monitor_docks[1]
    rate_dock.show()
    rate_dock.raise_()
    pump_until(lambda: isinstance(window.monitoring.charts.rate, RateChart))
    chart = window.monitoring.charts.rate
    assert isinstance(chart, RateChart)
    pump_until(lambda: chart.counts is not None)
    counts = chart.counts
    assert counts is not None
    busiest = int(counts.totals.argmax())
    start, end = counts.time_range(busiest)
    # What a click on that bar emits (the click itself is tested on the chart alone).
    chart.timeRangeClicked.emit(start, end)
    index = window.topic_view.index
    assert index is not None
    expected = run_query(index, Query(since_ms=start, until_ms=end - 1))
    pump_until(lambda: window.topic_view.model.rowCount() == len(expected))
    assert len(expected) == int(counts.totals[busiest])
    assert all(start <= e.timestamp_ms < end for e in shown_rows(window)[:500])
    window.filter_bar.clear()
    window.filter_bar.flush()


def test_every_menu_action_reaches_a_method(window: MainWindow) -> None:
    """The action table names methods by path; each must resolve to something callable."""
    from app.gui.actions import SPECS

    paths = [s.slot for s in SPECS if s.text != "-" and ":" not in s.slot]
    assert len(paths) > 10
    for path in paths:
        target: object = window
        for name in path.split("."):
            target = getattr(target, name)
        assert callable(target), path
