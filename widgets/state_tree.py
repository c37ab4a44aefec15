"""A fold state as a tree: changed fields highlighted, and who last set each field."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any, Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from app.replay.diff import Path, format_path
from widgets.event_detail import json_scalar
from widgets.event_table import local_time

CHANGED_BG = QColor(255, 214, 102, 150)  # readable on light and dark palettes
CHANGED_FG = QColor("#5c3b00")
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
CHILD_LIMIT = 1000


class RefLike(Protocol):
    """Where an event is (``app.index.topic_index.EventRef`` fits)."""

    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def timestamp_ms(self) -> int: ...


def ref_text(ref: RefLike) -> str:
    return f"{ref.type} · p{ref.partition}@{ref.offset}"


def ref_tooltip(ref: RefLike) -> str:
    return (
        f"Last set by {ref.type}\npartition {ref.partition}, offset {ref.offset}\n"
        f"{local_time(ref.timestamp_ms)}"
    )


class StateTree(QTreeWidget):
    """Columns: field, value, last set by (blame)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(["Field", "Value", "Last set by"])
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        header = self.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.setColumnWidth(0, 200)
        self.setColumnWidth(1, 220)
        self._changed: frozenset[str] = frozenset()

    def show_state(
        self,
        state: Any,
        changed: Collection[str] = (),
        blame: Mapping[str, RefLike] | None = None,
    ) -> None:
        """Show ``state``; ``changed`` and ``blame`` are keyed by path text (``a.b[2]``)."""
        expanded = self.expanded_paths()
        self.clear()
        self._changed = frozenset(changed)
        blame = blame or {}
        if isinstance(state, Mapping) and state:
            for key, value in state.items():
                self._add(None, str(key), (key,), value, blame)
        elif isinstance(state, list | tuple) and state:
            for i, value in enumerate(state):
                self._add(None, str(i), (i,), value, blame)
        else:
            self._add(None, "(state)", (), state, blame)
        if expanded:
            self._restore(expanded)
        else:
            self.expandToDepth(1)

    def items(self) -> Iterator[QTreeWidgetItem]:
        """Every item, depth first."""
        stack = [self.topLevelItem(i) for i in range(self.topLevelItemCount())]
        while stack:
            item = stack.pop()
            if item is None:
                continue
            yield item
            stack.extend(item.child(i) for i in range(item.childCount()))

    def changed_items(self) -> list[QTreeWidgetItem]:
        """Items drawn as changed (for tests and for scrolling to the first change)."""
        return [item for item in self.items() if item.background(0).color() == CHANGED_BG]

    def item_at_path(self, path: str) -> QTreeWidgetItem | None:
        return next((item for item in self.items() if item.data(0, PATH_ROLE) == path), None)

    def expanded_paths(self) -> set[str]:
        return {str(item.data(0, PATH_ROLE)) for item in self.items() if item.isExpanded()}

    def _restore(self, expanded: set[str]) -> None:
        for item in self.items():
            if item.data(0, PATH_ROLE) in expanded:
                item.setExpanded(True)

    def _add(
        self,
        parent: QTreeWidgetItem | None,
        name: str,
        parts: Path,
        value: Any,
        blame: Mapping[str, RefLike],
        inherited_change: bool = False,
    ) -> bool:
        """Add ``value`` under ``parent``; True if it, or anything below it, changed."""
        path = format_path(parts)
        item = QTreeWidgetItem([name, ""])
        item.setData(0, PATH_ROLE, path)
        changed = inherited_change or path in self._changed
        if isinstance(value, Mapping):
            item.setText(1, f"{{{len(value)} fields}}" if value else "{}")
            children: list[tuple[str, Any, Any]] = [(str(k), k, v) for k, v in value.items()]
        elif isinstance(value, list | tuple):
            item.setText(1, f"[{len(value)} items]" if value else "[]")
            children = [(str(i), i, v) for i, v in enumerate(value)]
        else:
            # Strings quoted, as JSON and the Diff tab show them: "1" is not 1.
            item.setText(1, json_scalar(value))
            item.setToolTip(1, json_scalar(value))
            children = []
        ref = blame.get(path)
        if ref is not None:
            item.setText(2, ref_text(ref))
            item.setToolTip(2, ref_tooltip(ref))
            item.setToolTip(0, ref_tooltip(ref))
        if changed:
            for col in range(3):
                item.setBackground(col, QBrush(CHANGED_BG))
                item.setForeground(col, QBrush(CHANGED_FG))
            item.setToolTip(1, f"{item.text(1)}\n(changed by the selected event)")
        if parent is None:
            self.addTopLevelItem(item)
        else:
            parent.addChild(item)
        below = False
        for i, (label, part, child) in enumerate(children):
            if i >= CHILD_LIMIT:
                item.addChild(QTreeWidgetItem(["…", f"{len(children) - i} more"]))
                break
            below = self._add(item, label, (*parts, part), child, blame, changed) or below
        if (changed or below) and children:
            item.setExpanded(True)
        return changed or below
