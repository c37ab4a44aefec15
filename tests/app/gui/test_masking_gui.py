"""Masking in the window, end to end: with masked fields, no secret reaches the table,
the detail pane (its Raw tab hidden), copies, exports, the inspector's state and diff,
the search box or the States dock; the status bar says so; folds still fold the real
values; a profile's masking holds for its cluster, keeps no index on disk and may be
lifted only when the profile allows it."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from gui_helpers import pump_until
from keyring_fixtures import MemoryKeyring
from masking_data import (
    CARDS,
    MASKS,
    TOPIC,
    customer_events,
    customer_records,
    leaks,
    write_fold,
)
from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QDialog, QTreeWidget, QTreeWidgetItem

from app.gui.launch import build_window
from app.gui.main_window import MainWindow
from app.gui.settings import Settings
from kafka_io.eventfile import open_event_file, write_event_file


def window_for(tmp_path: Path, **args: object) -> MainWindow:
    namespace = argparse.Namespace(
        bootstrap=None, x_options=[], config=None, registry=None, registry_auth=None,
        file=None, folds=[write_fold(tmp_path)], import_profile=None, profile=None, mask=[],
    )  # fmt: skip
    for name, value in args.items():
        setattr(namespace, name, value)
    window = build_window(namespace, Settings(tmp_path / "s.ini"), use_user_folds=False)
    window.show()
    return window


def accept(dialog: QDialog) -> bool:
    dialog.accept()
    return True


def model_text(model: QAbstractItemModel) -> str:
    roles = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole)
    return "\n".join(
        str(model.data(model.index(r, c), role))
        for r in range(model.rowCount())
        for c in range(model.columnCount())
        for role in roles
    )


def tree_text(tree: QTreeWidget) -> str:
    parts: list[str] = []

    def walk(item: QTreeWidgetItem | None) -> None:
        if item is None:
            return
        parts.extend(item.text(c) + "\n" + item.toolTip(c) for c in range(item.columnCount()))
        for i in range(item.childCount()):
            walk(item.child(i))

    for i in range(tree.topLevelItemCount()):
        walk(tree.topLevelItem(i))
    return "\n".join(parts)


@pytest.fixture
def masked_window(tmp_path: Path, qapp: QApplication) -> Iterator[MainWindow]:
    path = tmp_path / "customers.avro"
    write_event_file(path, customer_events())
    window = window_for(tmp_path, file=path, mask=MASKS)
    pump_until(lambda: window.topic_view.model.rowCount() == 12, 60)
    yield window
    window.close()


def test_no_masked_value_reaches_any_view_copy_or_export(
    masked_window: MainWindow, tmp_path: Path
) -> None:
    window = masked_window
    seen: dict[str, Any] = {"table": model_text(window.topic_view.model)}
    assert window.masking.label.isVisible() and "Masking on" in window.masking.label.text()
    # The detail pane of every event; its Raw tab is hidden.
    detail = window.detail
    for row in range(12):
        window.topic_view.select_model_row(row)
        seen[f"detail {row}"] = "\n".join(
            [tree_text(detail.tree), detail.json.toPlainText(), tree_text(detail.headers)]
        )
    assert not detail.tabs.isTabVisible(3)
    assert not window.filter_bar.text.isEnabled()  # a text search would find masked values
    # Copies, both forms.
    window.topic_view.table.selectAll()
    for fmt in ("jsonl", "tsv"):
        assert window.topic_view.copy_selected(fmt) == 12
        seen[f"copy {fmt}"] = QGuiApplication.clipboard().text()
    # Exports, both formats, read back.
    for name in ("shown.avro", "shown.jsonl"):
        exporting = window.exporter.export_shown(tmp_path / name)
        assert exporting is not None
        pump_until(partial(getattr, exporting, "done"), 60)
    seen["export avro"] = [
        (ev.value, ev.headers) for ev in open_event_file(tmp_path / "shown.avro").iter_events()
    ]
    seen["export jsonl"] = (tmp_path / "shown.jsonl").read_text()
    # The inspector: state, then a diff across every event.
    window.filter_bar.set_aggregate("C-1")
    window.filter_bar.flush()
    window.topic_view.select_model_row(3)
    inspector = window.inspector
    pump_until(lambda: inspector.state_tree.item_at_path("email") is not None, 60)
    seen["state"] = tree_text(inspector.state_tree)
    inspector.diff_from.setValue(1)
    inspector.diff_to.setValue(4)
    inspector.diff_button.click()
    pump_until(lambda: inspector.diff_tree.topLevelItemCount() > 0, 30)
    seen["diff"] = tree_text(inspector.diff_tree)
    # The search box and the States dock.
    window.search.search("C-2")
    pump_until(lambda: window.panes.search.state.topLevelItemCount() > 0, 60)
    seen["search"] = tree_text(window.panes.search.state)
    shown: list[Any] = []
    window.auditing.states_shown.connect(shown.append)
    window.auditing.states()
    pump_until(lambda: bool(shown), 60)
    seen["states"] = model_text(window.panes.states.model)

    assert {where: leaks(str(text)) for where, text in seen.items() if leaks(str(text))} == {}
    # Masked, not emptied: the marks are there, and the fold saw the real values.
    assert "[masked]" in seen["state"] and "[masked]" in seen["copy jsonl"]
    counted = inspector.state_tree.item_at_path("events")
    assert counted is not None and counted.text(1) == "4"  # the fold's own result, unmasked
    window.auditing.report_to(tmp_path / "report")
    assert "Masking is on" in window.banner.message and not (tmp_path / "report").exists()
    window.filter_bar.clear()
    window.filter_bar.flush()


@pytest.mark.kafka
@pytest.mark.usefixtures("private_profiles")
def test_a_profiles_masking_holds_for_its_cluster_and_may_be_lifted_if_allowed(
    qapp: QApplication,
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
) -> None:
    topic = make_topic(1, prefix=TOPIC)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for key, value, headers, ts in customer_records():
        producer.produce(topic, key=key, value=value, headers=headers, timestamp=ts)
    assert producer.flush(30) == 0
    path = tmp_path / "support.evx-profile"
    path.write_text(
        f'format_version = 1\nname = "support"\n[kafka]\nbootstrap = "{kafka_bootstrap}"\n'
        f'[masking]\nfields = {json.dumps(MASKS)}\nhow = "hash"\n'
        "allow_unmask = true\nuse_index_cache = false\n"
    )
    window = window_for(tmp_path, import_profile=str(path))
    window.profile_actions.confirm = accept
    try:
        pump_until(lambda: topic in window.cluster_tree.topic_names(), 90)
        window.activate_topic(topic)
        model = window.topic_view.model
        pump_until(lambda: not window.loader.reading and model.rowCount() == 12, 60)
        assert leaks(model_text(model)) == [] and "[masked:" in model_text(model)
        assert "hashed" in window.masking.label.text()
        cache = Path(os.environ["EVENT_EXPLORER_CACHE_DIR"])
        assert not [p for p in cache.rglob("*") if topic in str(p)]  # nothing kept on disk
        # This profile allows revealing the values: a deliberate act, said in the status.
        window.toggle_unmask()
        assert CARDS[0] in model_text(model) and "revealed" in window.masking.label.text()
        window.toggle_unmask()
        assert leaks(model_text(model)) == []
        # Another source: the profile's masking does not follow it.
        window.opener.open_demo()
        pump_until(lambda: not window.masking.label.isVisible(), 60)
    finally:
        window.close()
