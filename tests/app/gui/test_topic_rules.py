"""Per-topic rules in the GUI: set from the topic's menu, applied by reading the topic
again through the same door as the CLI, and remembered per cluster (or file) and topic."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Producer
from gui_helpers import loaded, pump_until
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.gui.fold_files import FoldFiles
from app.gui.launch import build_window
from app.gui.main_window import MainWindow
from app.gui.settings import Settings
from app.gui.worker import JobContext
from app.sources import GroupInfo, PartitionInfo, TopicInfo, TopicSettings
from widgets.cluster_tree import ClusterTree
from widgets.event_table import Role

RULES = TopicSettings(type_rule="field:kind", aggregate_rule="field:account")


def envelope(i: int) -> dict[str, object]:
    # No eventType/aggregateId: the default rules cannot name these events.
    return {"kind": "Opened" if i % 3 == 0 else "Deposited", "account": f"A-{i % 4}", "n": i}


def kcat_file(path: Path, count: int = 30) -> Path:
    lines = [
        {"topic": "ledger", "partition": 0, "offset": i, "ts": 1_757_000_000_000 + i,
         "key": f"k{i}", "payload": orjson.dumps(envelope(i)).decode()}
        for i in range(count)
    ]  # fmt: skip
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    return path


def shown(window: MainWindow) -> list[object]:
    model = window.topic_view.model
    return [model.data(model.index(r, 0), Role.EVENT) for r in range(model.rowCount())]


def new_window(qtbot: QtBot, settings_path: Path) -> MainWindow:
    window = MainWindow(Settings(settings_path), FoldFiles(use_user_dir=False))
    qtbot.addWidget(window)
    window.show()
    return window


def test_rules_on_a_file_are_applied_and_remembered(qtbot: QtBot, tmp_path: Path) -> None:
    path = kcat_file(tmp_path / "ledger.jsonl")
    window = new_window(qtbot, tmp_path / "s.ini")
    window.open_file(path)
    pump_until(lambda: loaded(window), 30)
    assert {e.type for e in shown(window)} == {"unknown"}  # type: ignore[attr-defined]

    window.apply_topic_settings("ledger", RULES)
    pump_until(lambda: loaded(window) and window.topic_view.topic == "ledger", 30)
    events = shown(window)
    assert {e.type for e in events} == {"Opened", "Deposited"}  # type: ignore[attr-defined]
    assert {e.aggregate for e in events} == {f"A-{i}" for i in range(4)}  # type: ignore[attr-defined]

    # A new window on the same file reads it with the remembered rules at once.
    again = new_window(qtbot, tmp_path / "s.ini")
    again.open_file(path)
    pump_until(lambda: loaded(again), 30)
    assert {e.type for e in shown(again)} == {"Opened", "Deposited"}  # type: ignore[attr-defined]


@pytest.mark.kafka
def test_rules_on_a_cluster_topic_are_applied_and_remembered(
    qapp: QApplication, kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = make_topic(partitions=2, prefix="ledger")
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for i in range(40):
        producer.produce(topic, key=f"k{i}", value=orjson.dumps(envelope(i)))
    assert producer.flush(30) == 0
    args = argparse.Namespace(bootstrap=kafka_bootstrap, x_options=[], config=None,
                              registry=None, registry_auth=None, file=None, folds=[])  # fmt: skip
    settings_path = tmp_path / "s.ini"
    window = build_window(args, Settings(settings_path), use_user_folds=False)
    window.show()
    try:
        pump_until(lambda: topic in window.cluster_tree.topic_names(), 60)
        window.activate_topic(topic)
        pump_until(lambda: loaded(window) and len(shown(window)) == 40, 60)
        assert {e.type for e in shown(window)} == {"unknown"}  # type: ignore[attr-defined]
        window.apply_topic_settings(topic, RULES)
        pump_until(lambda: loaded(window) and len(shown(window)) == 40, 60)
        assert {e.type for e in shown(window)} == {"Opened", "Deposited"}  # type: ignore[attr-defined]
        stored = Settings(settings_path).topic_settings(kafka_bootstrap)
        assert stored == {topic: RULES}
    finally:
        window.close()
    # Another window on the same cluster uses them (its stored index was built with
    # other rules, so it is read again rather than trusted).
    second = build_window(args, Settings(settings_path), use_user_folds=False)
    second.show()
    try:
        pump_until(lambda: topic in second.cluster_tree.topic_names(), 60)
        second.activate_topic(topic)
        pump_until(lambda: loaded(second) and len(shown(second)) == 40, 60)
        assert {e.aggregate for e in shown(second)} == {f"A-{i}" for i in range(4)}  # type: ignore[attr-defined]
    finally:
        second.close()


def test_topic_context_menu_offers_rules_ids_reload_and_refresh(qtbot: QtBot) -> None:
    tree = ClusterTree()
    qtbot.addWidget(tree)
    tree.set_topics([TopicInfo("ledger", (PartitionInfo(0, 0, 30),))])
    tree.set_groups([GroupInfo("billing", "Empty")])
    menu = tree.context_menu_for(tree.topic_item("ledger"))
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts == ["Open", "Read again", "Rules…", "Trace and health ids…",
                     "Refresh topics and groups"]  # fmt: skip
    asked: list[str] = []
    tree.rules_requested.connect(asked.append)
    next(a for a in menu.actions() if a.text() == "Rules…").trigger()
    assert asked == ["ledger"]
    tree.id_rules_requested.connect(lambda topic: asked.append(f"ids of {topic}"))
    next(a for a in menu.actions() if a.text() == "Trace and health ids…").trigger()
    assert asked == ["ledger", "ids of ledger"]
    group_item = tree.groups_root.child(0)
    assert group_item is not None and group_item.toolTip(0).startswith("billing")
    group_menu = tree.context_menu_for(group_item)
    assert next(a.text() for a in group_menu.actions() if a.text()) == "Show lag"


def test_a_failed_job_without_a_handler_is_shown(qtbot: QtBot, tmp_path: Path) -> None:
    window = new_window(qtbot, tmp_path / "s.ini")

    def explode(ctx: JobContext) -> None:
        raise ValueError("the disk caught fire")

    window.workers.submit("export", explode)
    pump_until(lambda: window.banner.isVisible(), 10)
    assert window.banner.message == "Export failed: ValueError: the disk caught fire"
    assert window.banner.level == "error"
    assert "the disk caught fire" in window.statusBar().currentMessage()
