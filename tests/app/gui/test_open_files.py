"""Opening files: File > Open of a kcat -J export, drag and drop, a file that is not one."""

from __future__ import annotations

import base64
from pathlib import Path

import orjson
from gui_helpers import loaded, pump_until
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from pytestqt.qtbot import QtBot

from app.gui.fold_files import FoldFiles
from app.gui.main_window import MainWindow
from app.gui.settings import Settings
from widgets.event_table import Role


def kcat_file(path: Path, count: int) -> Path:
    lines = []
    for i in range(count):
        value = {"eventType": "PriceChanged" if i % 2 else "PropertyListed", "price": i}
        lines.append(
            {
                "topic": "property-events", "partition": i % 2, "offset": i // 2,
                "tstype": "create", "ts": 1_757_000_000_000 + i, "broker": 1,
                "key": f"PROP-{i % 5}", "payload": orjson.dumps(value).decode(),
            }
        )  # fmt: skip
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")
    return path


def make_window(qtbot: QtBot, tmp_path: Path) -> MainWindow:
    window = MainWindow(Settings(tmp_path / "s.ini"), FoldFiles(use_user_dir=False))
    qtbot.addWidget(window)
    window.show()
    return window


def test_open_kcat_json_lines(qtbot: QtBot, tmp_path: Path) -> None:
    window = make_window(qtbot, tmp_path)
    window.open_file(kcat_file(tmp_path / "export.jsonl", 50))
    pump_until(lambda: loaded(window), 30)
    model = window.topic_view.model
    assert model.rowCount() == 50
    events = [model.data(model.index(r, 0), Role.EVENT) for r in range(50)]
    assert {e.type for e in events} == {"PriceChanged", "PropertyListed"}
    assert window.cluster_tree.topic_names() == ["property-events"]
    assert window.settings.recent_files()[0].endswith("export.jsonl")


def test_drop_a_file_opens_it(qtbot: QtBot, tmp_path: Path) -> None:
    window = make_window(qtbot, tmp_path)
    path = kcat_file(tmp_path / "dropped.jsonl", 10)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    drop = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime,
        Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    window.dropEvent(drop)
    pump_until(lambda: loaded(window), 30)
    assert window.topic_view.model.rowCount() == 10


def test_a_file_that_is_not_an_event_file(qtbot: QtBot, tmp_path: Path) -> None:
    window = make_window(qtbot, tmp_path)
    path = tmp_path / "notes.txt"
    path.write_bytes(base64.b64encode(b"hello") * 3)
    window.open_file(path)
    assert "not an event file" in window.statusBar().currentMessage()
    window.open_file(tmp_path / "missing.avro")
    assert "No such file" in window.statusBar().currentMessage()
