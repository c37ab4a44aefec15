"""One event in full: decoded value (tree and pretty JSON), headers, key, schema, raw hex."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.output.event_json import dumps, event_record, text_or_base64
from kafka_io.event import Event, iso_utc
from widgets.event_table import local_time

HEX_LIMIT = 64 * 1024  # a 10 MB value would freeze a text widget; the head says enough
TREE_CHILD_LIMIT = 500


def event_as_json(ev: Event) -> str:
    """The whole event as pretty JSON: what "Copy as JSON" puts on the clipboard."""
    return dumps(event_record(ev), pretty=True)


def value_as_json(data: Any) -> str:
    return dumps(data, pretty=True)


def hex_dump(raw: bytes, limit: int = HEX_LIMIT) -> str:
    lines = []
    for start in range(0, min(len(raw), limit), 16):
        chunk = raw[start : start + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{start:08x}  {hexes:<47}  {text}")
    if len(raw) > limit:
        lines.append(f"… {len(raw) - limit} more bytes")
    return "\n".join(lines)


def scalar_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex(" ")
    return str(value)


def json_scalar(value: Any) -> str:
    """A leaf as JSON shows it (strings quoted); bytes as hex."""
    if isinstance(value, str):
        return orjson.dumps(value).decode()
    return scalar_text(value)


def fill_tree(parent: QTreeWidgetItem | QTreeWidget, name: str, value: Any) -> QTreeWidgetItem:
    """Add ``value`` under ``parent`` as a collapsible node (dicts and lists nest)."""
    item = QTreeWidgetItem([name, ""])
    if isinstance(parent, QTreeWidget):
        parent.addTopLevelItem(item)
    else:
        parent.addChild(item)
    if isinstance(value, dict):
        item.setText(1, f"{{{len(value)}}}")
        for i, (k, v) in enumerate(value.items()):
            if i >= TREE_CHILD_LIMIT:
                item.addChild(QTreeWidgetItem(["…", f"{len(value) - i} more"]))
                break
            fill_tree(item, str(k), v)
    elif isinstance(value, list | tuple):
        item.setText(1, f"[{len(value)}]")
        for i, v in enumerate(value):
            if i >= TREE_CHILD_LIMIT:
                item.addChild(QTreeWidgetItem(["…", f"{len(value) - i} more"]))
                break
            fill_tree(item, str(i), v)
    else:
        item.setText(1, scalar_text(value))
    return item


class EventDetail(QWidget):
    """Shows one event; emits ``copied`` with the JSON put on the clipboard."""

    copied = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._event: Event | None = None
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

        self.title = QLabel("No event selected")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.copy_button = QPushButton("Copy as JSON")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self.copy_json)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.copy_button)

        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.setVisible(False)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.key = QLabel()
        self.timestamp = QLabel()
        self.schema = QLabel()
        for label in (self.key, self.timestamp, self.schema):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QFormLayout()
        form.addRow("Key:", self.key)
        form.addRow("Time:", self.timestamp)
        form.addRow("Schema:", self.schema)

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Field", "Value"])
        self.tree.setColumnWidth(0, 160)
        self.tree.setUniformRowHeights(True)
        self.json = QPlainTextEdit()
        self.json.setReadOnly(True)
        self.json.setFont(mono)
        self.headers = QTreeWidget()
        self.headers.setHeaderLabels(["Header", "Value"])
        self.headers.setRootIsDecorated(False)
        self.headers.setColumnWidth(0, 140)
        self.raw = QPlainTextEdit()
        self.raw.setReadOnly(True)
        self.raw.setFont(mono)
        self.raw.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.tree, "Value")
        self.tabs.addTab(self.json, "JSON")
        self.tabs.addTab(self.headers, "Headers")
        self.tabs.addTab(self.raw, "Raw")
        self.schema_text = QPlainTextEdit()
        self.schema_text.setReadOnly(True)
        self.schema_text.setFont(mono)
        self.schema_text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.tabs.addTab(self.schema_text, "Schema")
        # Set by the window: (title, schema text) of what the shown event's value was
        # written with, or None when it has no schema.
        self.describe: Callable[[Event], tuple[str, str] | None] | None = None
        # The key decoded, for a key written through a registry serializer (else None).
        self.describe_key: Callable[[Event], str | None] | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.error)
        layout.addLayout(form)
        layout.addWidget(self.tabs, 1)

    @property
    def current(self) -> Event | None:
        return self._event

    def set_raw_visible(self, visible: bool) -> None:
        """The Raw tab shows the value's bytes as they are: hidden while masking is on."""
        self.tabs.setTabVisible(3, visible)
        if not visible:
            self.raw.clear()

    def show_event(self, ev: Event | None) -> None:
        self._event = ev
        self.tree.clear()
        self.headers.clear()
        self.copy_button.setEnabled(ev is not None)
        if ev is None:
            self.title.setText("No event selected")
            for label in (self.key, self.timestamp, self.schema):
                label.clear()
            self.error.setVisible(False)
            self.json.clear()
            self.raw.clear()
            self.schema_text.clear()
            self.tabs.setTabVisible(4, False)
            return
        self.title.setText(
            f"{ev.type} · {ev.aggregate or '—'}\n{ev.topic} [{ev.partition}] @ {ev.offset}"
        )
        self._show_key(ev)
        self.timestamp.setText(f"{local_time(ev.timestamp_ms)}  ·  {iso_utc(ev.timestamp_ms)}")
        self.schema.setText(str(ev.schema_id) if ev.schema_id is not None else "—")
        self.error.setText(f"⚠ Undecodable: {ev.error}" if ev.error else "")
        self.error.setVisible(ev.error is not None)
        if ev.data is not None:
            root = fill_tree(self.tree, "value", ev.data)
            root.setExpanded(True)
            self.tree.expandToDepth(1)
            self.json.setPlainText(value_as_json(ev.data))
        elif ev.value is None:
            self.tree.addTopLevelItem(QTreeWidgetItem(["value", "(tombstone: no value)"]))
            self.json.setPlainText("null")
        else:
            item = QTreeWidgetItem(["value", "(not decoded: the bytes are in Raw)"])
            item.setToolTip(1, ev.error or "")
            self.tree.addTopLevelItem(item)
            self.json.setPlainText(f"// not decoded: {ev.error}\n// the bytes are in the Raw tab")
        for name, value in ev.headers:
            shown = text_or_base64(value)
            text = (
                shown if isinstance(shown, str) else ("null" if value is None else value.hex(" "))
            )
            self.headers.addTopLevelItem(QTreeWidgetItem([name, text]))
        self.tabs.setTabText(2, f"Headers ({len(ev.headers)})")
        self.raw.setPlainText(hex_dump(ev.value) if ev.value is not None else "(no value bytes)")
        self._show_schema(ev)

    def _show_key(self, ev: Event) -> None:
        """The key as text; a registry-framed key decoded, its bytes in the tooltip."""
        key = ev.key
        decoded = self.describe_key(ev) if self.describe_key is not None and key else None
        if decoded is None:
            self.key.setText(scalar_text(key) if key is not None else "(no key)")
            self.key.setToolTip("")
            return
        raw = key.encode() if isinstance(key, str) else key
        self.key.setText(f"{decoded}  (registry-framed key)")
        self.key.setToolTip(f"as Kafka holds it: {raw.hex(' ') if raw else ''}")

    def _show_schema(self, ev: Event) -> None:
        view = self.describe(ev) if self.describe is not None else None
        if view is not None:
            self.schema.setText(view[0])
            self.schema_text.setPlainText(view[1])
        else:
            self.schema_text.setPlainText("(no schema: the value is not written with one)")
        self.tabs.setTabVisible(4, view is not None)

    def copy_json(self) -> None:
        if self._event is None:
            return
        text = event_as_json(self._event)
        QGuiApplication.clipboard().setText(text)
        self.copied.emit(text)
