"""Each widget on its own: filter bar, event detail, cluster tree, progress, dialogs."""

from __future__ import annotations

from pathlib import Path

import orjson
from gui_helpers import must
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from app.gui.settings import Settings
from app.sources.connections import ConnectionRequest, RecentConnection
from kafka_io.event import Event
from kafka_io.metadata import GroupInfo, PartitionInfo, TopicInfo
from widgets.cluster_tree import ClusterTree
from widgets.connect_dialog import ConnectDialog
from widgets.event_detail import EventDetail, hex_dump
from widgets.filter_bar import FilterBar, FilterState
from widgets.goto_dialog import GotoDialog, GotoTarget, parse_when
from widgets.progress_panel import ProgressPanel

EVENT = Event(
    topic="orders", partition=2, offset=41, timestamp_ms=1_757_000_000_123, key="ORD-1",
    type="OrderPlaced", aggregate="ORD-1",
    headers=(("correlationId", b"chk-9"), ("binary", b"\xff\x00"), ("empty", None)),
    data={"orderId": "ORD-1", "items": [{"sku": "A", "quantity": 2}], "total": 9.5},
    schema_id=6, error=None, value=b"\x00\x00\x00\x00\x06payload-bytes",
)  # fmt: skip


def test_filter_bar_debounces_into_one_state(qtbot: QtBot) -> None:
    bar = FilterBar(debounce_ms=50)
    qtbot.addWidget(bar)
    bar.set_type_counts({"OrderPlaced": 10, "OrderShipped": 5})
    states: list[FilterState] = []
    bar.changed.connect(states.append)
    qtbot.keyClicks(bar.aggregate, "ORD-1")
    bar.types.set_selected({"OrderShipped"})
    with qtbot.waitSignal(bar.changed, timeout=2000):
        pass
    assert len(states) == 1  # five keystrokes and a click: one query
    assert states[0] == FilterState(aggregate="ORD-1", types=frozenset({"OrderShipped"}))
    assert bar.types.text() == "OrderShipped"
    bar.clear()
    bar.flush()
    assert states[-1].is_empty


def test_filter_bar_time_range_round_trips(qtbot: QtBot) -> None:
    bar = FilterBar()
    qtbot.addWidget(bar)
    bar.set_time_range(1_757_000_000_000, None)
    state = bar.state()
    assert state.from_ms == 1_757_000_000_000 and state.to_ms is None
    bar.set_time_range(None, None)
    assert bar.state().from_ms is None


def test_type_picker_keeps_checks_when_counts_refresh(qtbot: QtBot) -> None:
    bar = FilterBar()
    qtbot.addWidget(bar)
    bar.set_type_counts({"A": 1, "B": 2})
    bar.types.set_selected({"A"})
    bar.set_type_counts({"A": 10, "B": 20, "C": 1})
    assert bar.types.selected() == frozenset({"A"})
    labels = [bar.types.list.item(i).text() for i in range(bar.types.list.count())]
    assert labels[0].startswith("B") and "(20)" in labels[0]


def test_counts_say_one_event_not_one_events(qtbot: QtBot) -> None:
    bar = FilterBar()
    qtbot.addWidget(bar)
    bar.set_summary(1, 1)
    assert bar.summary.text() == "1 event"
    bar.set_summary(1, 2)
    assert bar.summary.text() == "1 of 2 events"


def test_event_detail_shows_every_part(qtbot: QtBot) -> None:
    detail = EventDetail()
    qtbot.addWidget(detail)
    detail.show_event(EVENT)
    assert "OrderPlaced" in detail.title.text() and "@ 41" in detail.title.text()
    assert detail.schema.text() == "6"
    assert orjson.loads(detail.json.toPlainText()) == EVENT.data
    root = must(detail.tree.topLevelItem(0))
    assert root.childCount() == 3
    names = [
        must(detail.headers.topLevelItem(i)).text(0)
        for i in range(detail.headers.topLevelItemCount())
    ]
    assert names == ["correlationId", "binary", "empty"]
    assert must(detail.headers.topLevelItem(0)).text(1) == "chk-9"
    assert must(detail.headers.topLevelItem(2)).text(1) == "null"
    assert detail.raw.toPlainText().startswith("00000000  00 00 00 00 06")
    with qtbot.waitSignal(detail.copied) as blocker:
        detail.copy_button.click()
    copied = orjson.loads(QGuiApplication.clipboard().text())
    assert copied == orjson.loads(blocker.args[0])
    assert copied["offset"] == 41 and copied["data"] == EVENT.data
    assert copied["headers"][1][1] == {"base64": "/wA="}


def test_event_detail_undecodable_and_empty(qtbot: QtBot) -> None:
    detail = EventDetail()
    qtbot.addWidget(detail)
    bad = EVENT._replace(data=None, error="Avro decode failed", schema_id=None)
    detail.show_event(bad)
    assert not detail.error.isHidden()
    assert "Avro decode failed" in detail.error.text()
    assert detail.tree.topLevelItemCount() == 1
    detail.show_event(None)
    assert detail.title.text() == "No event selected"
    assert not detail.copy_button.isEnabled()


def test_hex_dump_layout() -> None:
    dump = hex_dump(bytes(range(20)))
    lines = dump.splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("00000010  10 11 12 13")
    assert "more bytes" in hex_dump(b"x" * 100, limit=32)


def test_cluster_tree_lists_topics_partitions_groups(qtbot: QtBot) -> None:
    tree = ClusterTree()
    qtbot.addWidget(tree)
    topic = TopicInfo("orders", (PartitionInfo(0, 5, 105), PartitionInfo(1, 0, 50)), "compact")
    tree.set_topics([topic, TopicInfo("empty", (PartitionInfo(0, 0, 0),))])
    tree.set_groups([GroupInfo("billing", "Stable", 3)])
    assert tree.topic_names() == ["orders", "empty"]
    item = tree.topic_item("orders")
    assert item is not None and item.text(1) == "150" and item.childCount() == 2
    assert must(item.child(0)).text(2) == "5 … 105"
    assert "cleanup.policy=compact" in item.toolTip(0)
    assert must(tree.groups_root.child(0)).text(0) == "billing"
    with qtbot.waitSignal(tree.topic_activated) as blocker:
        tree.itemClicked.emit(item, 0)
    assert blocker.args == ["orders"]
    with qtbot.waitSignal(tree.partition_activated) as blocker:
        tree.itemClicked.emit(must(item.child(1)), 0)
    assert blocker.args == ["orders", 1]
    tree.set_groups([])
    assert must(tree.groups_root.child(0)).text(0) == "(none)"


def test_progress_panel_bars_and_cancel(qtbot: QtBot) -> None:
    panel = ProgressPanel()
    qtbot.addWidget(panel)
    panel.start("orders")
    assert panel.isVisibleTo(panel.parentWidget() or panel)
    panel.update_counts({0: 50, 1: 10}, {0: 100, 1: 10})
    assert panel.partition_value(0) == (50, 100)
    assert panel.overall.value() == 60 and panel.overall.maximum() == 110
    with qtbot.waitSignal(panel.cancel_requested):
        panel.cancel_button.click()
    assert not panel.cancel_button.isEnabled()
    panel.finish()
    assert panel.isHidden()


def test_goto_dialog_targets(qtbot: QtBot) -> None:
    dialog = GotoDialog([0, 1, 2])
    qtbot.addWidget(dialog)
    dialog.partition.setCurrentIndex(2)
    dialog.offset.setValue(77)
    assert dialog.target() == GotoTarget(partition=1, offset=77)
    dialog.when_text.setText("2025-09-01T00:00:00Z")
    assert dialog.target() == GotoTarget(timestamp_ms=1_756_684_800_000)
    dialog.when_text.setText("not a time")
    assert dialog.target() is None
    assert parse_when("1756684800000") == 1_756_684_800_000
    assert parse_when("") is None


def test_connect_dialog_request_and_recent(qtbot: QtBot) -> None:
    recent = [RecentConnection("kafka:9092", {"security.protocol": "SASL_SSL"}, None, "http://reg")]
    dialog = ConnectDialog(recent)
    qtbot.addWidget(dialog)
    assert dialog.bootstrap.text() == "kafka:9092"  # the latest recent connection is filled in
    assert dialog.properties.toPlainText() == "security.protocol=SASL_SSL"
    dialog.properties.setPlainText("security.protocol=SASL_SSL\n# comment\nsasl.password=s3cret")
    dialog.registry_auth.setText("user:pw")
    request = dialog.request()
    assert request == ConnectionRequest(
        "kafka:9092", ("security.protocol=SASL_SSL", "sasl.password=s3cret"), None,
        "http://reg", "user:pw",
    )  # fmt: skip
    assert dict(request.to_recent().properties) == {"security.protocol": "SASL_SSL"}
    dialog.properties.setPlainText("no equals sign")
    assert dialog.request() is None and "line 1" in dialog.error.text()
    dialog.bootstrap.clear()
    dialog.properties.clear()
    assert dialog.request() is None


def test_settings_never_store_secrets(tmp_path: Path) -> None:
    path = tmp_path / "settings.ini"
    settings = Settings(path)
    settings.add_recent_connection(
        RecentConnection("b:9092", {"sasl.password": "hunter2", "client.id": "x"}, None, None)
    )
    settings.add_recent_connection(RecentConnection("c:9092"))
    settings.add_recent_file(tmp_path / "a.avro")
    settings.sync()
    assert "hunter2" not in path.read_text()
    again = Settings(path)
    assert [c.bootstrap for c in again.recent_connections()] == ["c:9092", "b:9092"]
    assert dict(again.recent_connections()[1].properties) == {"client.id": "x"}
    assert again.recent_files() == [str((tmp_path / "a.avro").resolve())]


def test_window_layout_is_remembered(qtbot: QtBot, tmp_path: Path) -> None:
    from app.gui.fold_files import FoldFiles
    from app.gui.main_window import MainWindow

    settings = Settings(tmp_path / "s.ini")
    first = MainWindow(settings, FoldFiles(use_user_dir=False))
    qtbot.addWidget(first)
    first.resize(720, 520)
    first.panes.detail_dock.hide()
    first.inspector.splitter.setSizes([100, 500])
    first.save_layout()
    sizes = first.inspector.splitter.sizes()
    second = MainWindow(Settings(tmp_path / "s.ini"), FoldFiles(use_user_dir=False))
    qtbot.addWidget(second)
    assert (second.size().width(), second.size().height()) == (720, 520)
    assert second.panes.detail_dock.isHidden()
    assert second.inspector.splitter.sizes() == sizes
