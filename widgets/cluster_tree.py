"""The cluster tree: topics (partitions, record counts, watermarks) and consumer groups.

It takes anything shaped like ``kafka_io.metadata.TopicInfo`` / ``GroupInfo`` (see the
protocols below) so that it never imports the Kafka side itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import IntEnum
from typing import Protocol

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QMenu, QTreeWidget, QTreeWidgetItem, QWidget


class PartitionLike(Protocol):
    @property
    def partition(self) -> int: ...
    @property
    def low(self) -> int: ...
    @property
    def high(self) -> int: ...
    @property
    def count(self) -> int: ...


class TopicLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def partitions(self) -> Sequence[PartitionLike]: ...
    @property
    def count(self) -> int: ...
    @property
    def cleanup_policy(self) -> str: ...


class GroupLike(Protocol):
    @property
    def group_id(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def members(self) -> int: ...


class Kind(IntEnum):
    SECTION = 0
    TOPIC = 1
    PARTITION = 2
    GROUP = 3


KIND_ROLE = Qt.ItemDataRole.UserRole + 1
NAME_ROLE = Qt.ItemDataRole.UserRole + 2  # topic name or group id
PARTITION_ROLE = Qt.ItemDataRole.UserRole + 3
BASE_TIP_ROLE = Qt.ItemDataRole.UserRole + 4
NOTES_ROLE = Qt.ItemDataRole.UserRole + 5


class ClusterTree(QTreeWidget):
    topic_activated = Signal(str)
    partition_activated = Signal(str, int)
    group_activated = Signal(str)
    # From the context menus:
    rules_requested = Signal(str)  # topic
    id_rules_requested = Signal(str)  # topic: where its trace and health ids are
    reload_requested = Signal(str)  # topic
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(["Name", "Records", "Watermarks"])
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.topics_root = self._section("Topics")
        self.groups_root = self._section("Consumer groups")
        self.itemActivated.connect(self._activated)
        self.itemClicked.connect(self._activated)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self._source = ""

    def _section(self, title: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem([title])
        item.setData(0, KIND_ROLE, Kind.SECTION)
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.addTopLevelItem(item)
        item.setExpanded(True)
        return item

    def set_source_name(self, name: str) -> None:
        self._source = name
        self.headerItem().setText(0, name or "Name")

    def set_topics(self, topics: Iterable[TopicLike]) -> None:
        current = self.selected_topic()
        self.topics_root.takeChildren()
        for topic in topics:
            item = QTreeWidgetItem([topic.name, f"{topic.count:,}", ""])
            item.setData(0, KIND_ROLE, Kind.TOPIC)
            item.setData(0, NAME_ROLE, topic.name)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            parts = len(topic.partitions)
            policy = topic.cleanup_policy
            item.setText(2, f"{parts} partition{'s' if parts != 1 else ''}")
            item.setToolTip(
                0,
                f"{topic.name}\n{parts} partitions · cleanup.policy={policy}\n"
                f"{topic.count:,} records",
            )
            for p in topic.partitions:
                child = QTreeWidgetItem(
                    [f"partition {p.partition}", f"{p.count:,}", f"{p.low:,} … {p.high:,}"]
                )
                child.setData(0, KIND_ROLE, Kind.PARTITION)
                child.setData(0, NAME_ROLE, topic.name)
                child.setData(0, PARTITION_ROLE, p.partition)
                child.setTextAlignment(
                    1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                )
                child.setToolTip(2, f"low watermark {p.low:,}, high watermark {p.high:,}")
                item.addChild(child)
            self.topics_root.addChild(item)
        self.topics_root.setText(1, f"{self.topics_root.childCount()}")
        if current is not None:
            self.select_topic(current, emit=False)

    def set_groups(self, groups: Iterable[GroupLike], empty_text: str = "(none)") -> None:
        self.groups_root.takeChildren()
        for group in groups:
            item = QTreeWidgetItem([group.group_id, "", f"{group.state} · {group.members} members"])
            item.setToolTip(0, f"{group.group_id}\n{group.state} · {group.members} members")
            item.setData(0, KIND_ROLE, Kind.GROUP)
            item.setData(0, NAME_ROLE, group.group_id)
            self.groups_root.addChild(item)
        count = self.groups_root.childCount()
        self.groups_root.setText(1, str(count))
        if count == 0:
            none = QTreeWidgetItem([empty_text])
            none.setFlags(Qt.ItemFlag.NoItemFlags)
            self.groups_root.addChild(none)

    def set_topic_note(
        self, name: str, note: str, *, warning: bool = False, live: bool = False
    ) -> None:
        """Add a line to a topic's details (its tooltip): the partitioner and its
        evidence, or why its events are incomplete (then the topic is marked)."""
        item = self.topic_item(name)
        if item is None:
            return
        base = str(item.data(0, BASE_TIP_ROLE) or item.toolTip(0))
        item.setData(0, BASE_TIP_ROLE, base)
        notes = dict(item.data(0, NOTES_ROLE) or {})
        notes["warning" if warning else "live" if live else note.split(":")[0]] = note
        item.setData(0, NOTES_ROLE, notes)
        item.setToolTip(0, "\n".join([base, *notes.values()]))
        if warning:
            item.setText(0, f"⚠ {name}")
            item.setForeground(0, QBrush(QColor("#b3261e")))
        elif live:
            item.setText(0, f"● {name}")
            item.setForeground(0, QBrush(QColor("#1b7f3b")))

    def _topic_items(self) -> list[QTreeWidgetItem]:
        root = self.topics_root
        return [item for i in range(root.childCount()) if (item := root.child(i)) is not None]

    def topic_names(self) -> list[str]:
        return [str(item.data(0, NAME_ROLE)) for item in self._topic_items()]

    def topic_item(self, name: str) -> QTreeWidgetItem | None:
        return next((t for t in self._topic_items() if t.data(0, NAME_ROLE) == name), None)

    def selected_topic(self) -> str | None:
        item = self.currentItem()
        if item is None or item.data(0, KIND_ROLE) not in (Kind.TOPIC, Kind.PARTITION):
            return None
        return str(item.data(0, NAME_ROLE))

    def select_topic(self, name: str, emit: bool = True) -> bool:
        item = self.topic_item(name)
        if item is None:
            return False
        self.setCurrentItem(item)
        if emit:
            self.topic_activated.emit(name)
        return True

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        kind = item.data(0, KIND_ROLE)
        name = item.data(0, NAME_ROLE)
        if kind == Kind.TOPIC:
            self.topic_activated.emit(str(name))
        elif kind == Kind.PARTITION:
            self.partition_activated.emit(str(name), int(item.data(0, PARTITION_ROLE)))
        elif kind == Kind.GROUP:
            self.group_activated.emit(str(name))

    def context_menu_for(self, item: QTreeWidgetItem | None) -> QMenu:
        """The context menu of ``item`` (a topic, partition, group, or empty space)."""
        menu = QMenu(self)
        kind = item.data(0, KIND_ROLE) if item is not None else None
        name = str(item.data(0, NAME_ROLE)) if item is not None else ""
        if kind in (Kind.TOPIC, Kind.PARTITION):
            menu.addAction("Open", lambda: self.topic_activated.emit(name))
            menu.addAction("Read again", lambda: self.reload_requested.emit(name))
            menu.addAction("Rules…", lambda: self.rules_requested.emit(name))
            menu.addAction("Trace and health ids…", lambda: self.id_rules_requested.emit(name))
            menu.addSeparator()
        elif kind == Kind.GROUP:
            menu.addAction("Show lag", lambda: self.group_activated.emit(name))
            menu.addSeparator()
        menu.addAction("Refresh topics and groups", self.refresh_requested.emit)
        return menu

    def _context_menu(self, pos: QPoint) -> None:
        menu = self.context_menu_for(self.itemAt(pos))
        menu.popup(self.viewport().mapToGlobal(pos))
