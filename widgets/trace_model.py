"""Qt models over a trace: the causation tree and the timeline, both lazy.

Neither model holds an object per event.  The tree knows its shape from the trace's
arrays (children of a node, each node's parent and row, computed once with numpy) and
hands children to the view a page at a time (``fetchMore``), so a node that caused a
million events opens as fast as one that caused three.  Texts (ids, types) are asked of a
``NodeTexts`` provider for the rows on screen only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from PySide6.QtCore import QAbstractItemModel, QAbstractTableModel, QModelIndex, QObject, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from app.trace.details import NodeText
from app.trace.export import format_gap
from app.trace.tree import Trace
from widgets.event_table import ModelIndex, local_time

PAGE = 500  # children handed to the view at a time
BROKEN_FG = QColor("#b3261e")
OUTSIDE_FG = QColor("#8a5a00")
NODE_ROLE = Qt.ItemDataRole.UserRole + 1  # the trace node of a row (-1: a section)
COLUMNS = ("Event", "Topic", "Position", "Time", "Since cause", "Aggregate", "Event id",
           "Caused by")  # fmt: skip
TIMELINE_COLUMNS = ("Time", "Since previous", "Topic", "Position", "Event", "Aggregate",
                    "Event id")  # fmt: skip


class NodeTexts(Protocol):
    """``app.trace.details.TraceTexts`` or anything that reads node texts in bulk."""

    def nodes(self, nodes: Sequence[int]) -> list[NodeText]: ...


class _Shape:
    """The tree as the view shows it: sections on top, then nodes under their causes.

    "Started here" holds the roots, then the orphans: those whose cause is no indexed
    event (broken links), those caused from another correlation; then one section per
    cycle with its members.  A cycle member's children leave out the next member (it is
    shown beside it, in the cycle's section).
    """

    def __init__(self, trace: Trace) -> None:
        n = len(trace)
        self.sections: list[tuple[str, np.ndarray]] = []
        if len(trace.roots):
            self.sections.append(("Started here", trace.roots))
        broken = trace.broken[trace.orphans]
        if broken.any():
            self.sections.append(("Broken link: the cause is no indexed event",
                                  trace.orphans[broken]))  # fmt: skip
        if (~broken).any():
            self.sections.append(("Caused by an event of another correlation",
                                  trace.orphans[~broken]))  # fmt: skip
        for k, members in enumerate(trace.cycles, 1):
            self.sections.append((f"Causation cycle {k} (each caused by the one before)",
                                  members))  # fmt: skip
        in_cycle = trace.in_cycle
        # Children as the view shows them: the trace's, minus cycle members.
        child_nodes, _starts = trace.child_arrays()
        keep = ~in_cycle[child_nodes] if len(child_nodes) else np.zeros(0, bool)
        self.child_nodes = child_nodes[keep]
        counts = np.zeros(n + 1, np.int64)
        if n:
            per_parent = np.bincount(trace.parent[self.child_nodes], minlength=n)
            counts[1:] = np.cumsum(per_parent)
        self.child_start = counts
        # Where each node sits: its holder (a node, or -1 - section) and its row there.
        self.holder = np.full(n, -1, np.int64)
        self.row = np.zeros(n, np.int64)
        if len(self.child_nodes):
            parents = trace.parent[self.child_nodes]
            self.holder[self.child_nodes] = parents
            self.row[self.child_nodes] = np.arange(len(self.child_nodes)) - counts[parents]
        for s, (_title, members) in enumerate(self.sections):
            self.holder[members] = -1 - s
            self.row[members] = np.arange(len(members))

    def children(self, node: int) -> np.ndarray:
        result: np.ndarray = self.child_nodes[self.child_start[node] : self.child_start[node + 1]]
        return result


class TraceTreeModel(QAbstractItemModel):
    """Sections, then events under the events that caused them."""

    def __init__(self, trace: Trace, texts: NodeTexts, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.trace, self.texts = trace, texts
        self.shape = _Shape(trace)
        self._base = 1 + len(self.shape.sections)  # internal ids: 1.. sections, then nodes
        self._fetched: dict[int, int] = {}  # internal id -> children handed out so far

    # ------------------------------------------------------------------ structure

    def node_of(self, index: ModelIndex) -> int:
        """The trace node of ``index`` (-1 for a section or nothing)."""
        if not index.isValid():
            return -1
        key = int(index.internalId())
        return key - self._base if key >= self._base else -1

    def _items(self, key: int) -> np.ndarray:
        """The children of an internal id (0: the invisible root) as trace nodes."""
        if key == 0:
            return np.arange(len(self.shape.sections))
        if key < self._base:
            return self.shape.sections[key - 1][1]
        return self.shape.children(key - self._base)

    def _key(self, parent: ModelIndex) -> int:
        return int(parent.internalId()) if parent.isValid() else 0

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        key = self._key(parent)
        total = len(self._items(key))
        return total if key == 0 else min(total, self._fetched.get(key, PAGE))

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def hasChildren(self, parent: ModelIndex = QModelIndex()) -> bool:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return False
        return len(self._items(self._key(parent))) > 0

    def canFetchMore(self, parent: ModelIndex) -> bool:
        key = self._key(parent)
        return key != 0 and self._fetched.get(key, PAGE) < len(self._items(key))

    def fetchMore(self, parent: ModelIndex) -> None:
        key = self._key(parent)
        shown = min(self._fetched.get(key, PAGE), len(self._items(key)))
        more = min(len(self._items(key)), shown + PAGE)
        if more > shown:
            self.beginInsertRows(parent, shown, more - 1)
            self._fetched[key] = more
            self.endInsertRows()

    def ensure_fetched(self, parent: ModelIndex, row: int) -> None:
        """Hand out children of ``parent`` up to ``row`` (to show a deep node at once)."""
        while self.rowCount(parent) <= row and self.canFetchMore(parent):
            key = self._key(parent)
            shown = self.rowCount(parent)
            more = min(len(self._items(key)), max(row + 1, shown + PAGE))
            self.beginInsertRows(parent, shown, more - 1)
            self._fetched[key] = more
            self.endInsertRows()

    def index(self, row: int, column: int, parent: ModelIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        key = self._key(parent)
        if key == 0:
            return self.createIndex(row, column, 1 + row)
        return self.createIndex(row, column, self._base + int(self._items(key)[row]))

    def parent(self, child: ModelIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not child.isValid():
            return QModelIndex()
        key = int(child.internalId())
        if key < self._base:
            return QModelIndex()
        node = key - self._base
        holder = int(self.shape.holder[node])
        if holder < 0:
            section = -1 - holder
            return self.createIndex(section, 0, 1 + section)
        return self.createIndex(int(self.shape.row[holder]), 0, self._base + holder)

    def index_of_node(self, node: int) -> QModelIndex:
        """The index of a node, handing out its ancestors' children as far as needed."""
        path = []
        at = node
        while at >= 0:
            path.append(at)
            holder = int(self.shape.holder[at])
            at = holder if holder >= 0 else -1
        section = -1 - int(self.shape.holder[path[-1]])
        parent = self.index(section, 0)
        for n in reversed(path):
            row = int(self.shape.row[n])
            self.ensure_fetched(parent, row)
            parent = self.index(row, 0, parent)
        return parent

    # ------------------------------------------------------------------ data

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = self.node_of(index)
        if node < 0:
            return self._section_data(int(index.internalId()) - 1, index.column(), role)
        if role == NODE_ROLE:
            return node
        trace = self.trace
        if role == Qt.ItemDataRole.ForegroundRole:
            if trace.broken[node]:
                return QBrush(BROKEN_FG)
            return QBrush(OUTSIDE_FG) if node in trace.external else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(node)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        text = self.texts.nodes([node])[0]
        column = index.column()
        if column == 0:
            return ("⚠ " if trace.broken[node] else "") + text.type
        values = (
            text.topic,
            f"p{text.partition}@{text.offset}",
            local_time(text.timestamp_ms),
            format_gap(trace.gap_ms(node)),
            text.aggregate or "",
            text.event_id or "",
            text.causation_id or "",
        )
        return values[column - 1]

    def _section_data(self, section: int, column: int, role: int) -> Any:
        title, members = self.shape.sections[section]
        if role == NODE_ROLE:
            return -1
        if role == Qt.ItemDataRole.FontRole:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.DisplayRole and column == 0:
            return f"{title} ({len(members):,})"
        if role == Qt.ItemDataRole.ForegroundRole and not title.startswith("Started"):
            return QBrush(BROKEN_FG if title.startswith("Broken") else OUTSIDE_FG)
        return None

    def _tooltip(self, node: int) -> str:
        text = self.texts.nodes([node])[0]
        lines = [f"{text.type} in {text.where}", f"event id: {text.event_id or '(none)'}"]
        if self.trace.broken[node]:
            lines.append(f"caused by {text.causation_id}: no indexed event has this id")
        outside = self.trace.external.get(node)
        if outside is not None:
            lines.append(f"caused by {outside} (an event of another correlation)")
        return "\n".join(lines)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None


class TimelineModel(QAbstractTableModel):
    """Every event of the trace in time order, with the time since the step before."""

    def __init__(self, trace: Trace, texts: NodeTexts, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.trace, self.texts = trace, texts

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.trace)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return len(TIMELINE_COLUMNS)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = index.row()
        if role == NODE_ROLE:
            return node
        if role == Qt.ItemDataRole.ForegroundRole and self.trace.broken[node]:
            return QBrush(BROKEN_FG)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        text = self.texts.nodes([node])[0]
        values = (
            local_time(text.timestamp_ms),
            format_gap(self.trace.step_gap_ms(node)) or "start",
            text.topic,
            f"p{text.partition}@{text.offset}",
            ("⚠ " if self.trace.broken[node] else "") + text.type,
            text.aggregate or "",
            text.event_id or "",
        )
        return values[index.column()]

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return TIMELINE_COLUMNS[section]
        return None
