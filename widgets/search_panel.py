"""One search box: type an id, see every event for it across topics as one timeline,
with the state each topic's fold gives it.

The panel shows a ``SearchResult`` (``app.search``); the window runs the search.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.search.lookup import SearchResult, TopicMatch
from widgets.event_table import local_time
from widgets.state_tree import StateTree

POSITION_ROLE = Qt.ItemDataRole.UserRole + 1  # (topic, partition, offset)


class SearchPanel(QWidget):
    search_requested = Signal(str)  # the id typed
    event_chosen = Signal(str, int, int)  # topic, partition, offset

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.query = QLineEdit()
        self.query.setPlaceholderText("An account, order or customer id, as on the ticket")
        self.query.setClearButtonEnabled(True)
        self.query.returnPressed.connect(self._search)
        self.button = QPushButton("Find in every topic")
        self.button.clicked.connect(self._search)
        self.summary = QLabel("Type an id and press Enter: every event for it, in every topic.")
        self.summary.setWordWrap(True)
        self.timeline = QTreeWidget()
        self.timeline.setHeaderLabels(["Time", "Topic", "Event", "Position"])
        self.timeline.setRootIsDecorated(False)
        self.timeline.setUniformRowHeights(True)
        self.timeline.itemActivated.connect(self._chosen)
        self.timeline.itemDoubleClicked.connect(self._chosen)
        self.topic = QComboBox()
        self.topic.currentIndexChanged.connect(self._show_state)
        self.fold = QLabel()
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: palette(mid);")
        self.state = StateTree()
        right = QWidget()
        side = QVBoxLayout(right)
        side.setContentsMargins(0, 0, 0, 0)
        pick = QHBoxLayout()
        pick.addWidget(QLabel("State in"))
        pick.addWidget(self.topic, 1)
        side.addLayout(pick)
        side.addWidget(self.fold)
        side.addWidget(self.state, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.timeline)
        split.addWidget(right)
        split.setSizes([520, 400])
        row = QHBoxLayout()
        row.addWidget(self.query, 1)
        row.addWidget(self.button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        layout.addWidget(self.notes)
        self.result: SearchResult | None = None

    def start(self, aggregate: str) -> None:
        """A search began (the window runs it): say so, clear the last one."""
        self.query.setText(aggregate)
        self.summary.setText(f"Looking for {aggregate!r} in every topic…")
        self.timeline.clear()
        self.topic.clear()
        self.state.clear()
        self.notes.clear()

    def progress(self, done: int, total: int, topic: str) -> None:
        self.summary.setText(f"Looking in {topic} ({done + 1} of {total} topics)…")

    def show_result(self, result: SearchResult) -> None:
        self.result = result
        found = result.found
        events = result.timeline()
        if events:
            topics = ", ".join(m.topic for m in found)
            self.summary.setText(
                f"{result.aggregate}: {len(events):,} event{'s' * (len(events) != 1)} "
                f"in {len(found)} topic{'s' * (len(found) != 1)} ({topics})"
            )
        else:
            looked = len(result.searched)
            self.summary.setText(
                f"No event for {result.aggregate!r} in the {looked} topic"
                f"{'s' * (looked != 1)} searched."
            )
        self.timeline.clear()
        for ev in events:
            item = QTreeWidgetItem(
                [local_time(ev.timestamp_ms), ev.topic, ev.type, f"p{ev.partition}@{ev.offset}"]
            )
            item.setData(0, POSITION_ROLE, (ev.topic, ev.partition, ev.offset))
            if ev.error:
                item.setToolTip(2, ev.error)
            self.timeline.addTopLevelItem(item)
        for col in range(3):
            self.timeline.resizeColumnToContents(col)
        self.topic.blockSignals(True)
        self.topic.clear()
        self.topic.addItems([m.topic for m in found])
        self.topic.blockSignals(False)
        self._show_state()
        self.notes.setText(_notes(result))

    def _show_state(self) -> None:
        match = self._match(self.topic.currentText())
        if match is None:
            self.fold.clear()
            self.state.clear()
            return
        if match.failure is not None:
            self.fold.setText(f"⚠ {match.failure.describe()}")
        else:
            self.fold.setText(f"Fold: {match.fold} · {len(match.events):,} events")
        self.state.show_state(match.state)

    def _match(self, topic: str) -> TopicMatch | None:
        if self.result is None:
            return None
        return next((m for m in self.result.matches if m.topic == topic), None)

    def _search(self) -> None:
        text = self.query.text().strip()
        if text:
            self.search_requested.emit(text)

    def _chosen(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        topic, partition, offset = item.data(0, POSITION_ROLE)
        self.event_chosen.emit(str(topic), int(partition), int(offset))


def _notes(result: SearchResult) -> str:
    lines = []
    for match in result.matches:
        if match.indexed:
            continue
        if match.partitions is not None and match.events:
            parts = ", ".join(str(p) for p in match.partitions)
            lines.append(f"{match.topic}: read partition {parts} only")
        elif match.note:
            lines.append(f"{match.topic}: {match.note}")
    lines += [f"{topic}: could not be searched: {why}" for topic, why in result.problems.items()]
    return "\n".join(lines)
