"""The filter bar: aggregate (with completion), event types with counts, time range, text.

Every edit restarts a short timer; only when typing pauses does ``changed`` carry the new
``FilterState``, so a query runs once per pause rather than once per keystroke.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from PySide6.QtCore import QDateTime, QStringListModel, Qt, QTimer, QTimeZone, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QCompleter,
    QDateTimeEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QToolButton,
    QWidget,
    QWidgetAction,
)

DEBOUNCE_MS = 250
_UNSET = QDateTime.fromSecsSinceEpoch(0, QTimeZone.utc())


@dataclass(frozen=True)
class FilterState:
    """What the user asked to see; None or empty means "no filter on this"."""

    aggregate: str | None = None
    types: frozenset[str] = field(default_factory=frozenset)
    from_ms: int | None = None
    to_ms: int | None = None
    text: str | None = None
    errors_only: bool = False

    @property
    def is_empty(self) -> bool:
        return self == FilterState()


class TypePicker(QToolButton):
    """A button whose popup lists event types with counts, each with a checkbox."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.list = QListWidget()
        self.list.setMinimumWidth(260)
        self.list.itemChanged.connect(self._on_item_changed)
        menu = QMenu(self)
        action = QWidgetAction(menu)
        action.setDefaultWidget(self.list)
        menu.addAction(action)
        self.setMenu(menu)
        self._counts: dict[str, int] = {}
        self._refresh_label()

    def set_counts(self, counts: Mapping[str, int]) -> None:
        """Show these types (most frequent first); checked types stay checked."""
        checked = self.selected()
        self._counts = dict(counts)
        self.list.blockSignals(True)
        self.list.clear()
        for name, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            item = QListWidgetItem(f"{name}  ({count:,})")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if name in checked else Qt.CheckState.Unchecked
            )
            self.list.addItem(item)
        self.list.blockSignals(False)
        rows = min(self.list.count(), 14)
        self.list.setFixedHeight(max(1, rows) * (self.list.sizeHintForRow(0) + 2) + 6)
        self._refresh_label()

    def selected(self) -> frozenset[str]:
        names = set()
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                names.add(str(item.data(Qt.ItemDataRole.UserRole)))
        return frozenset(names)

    def set_selected(self, names: Iterable[str]) -> None:
        wanted = set(names)
        self.list.blockSignals(True)
        for i in range(self.list.count()):
            item = self.list.item(i)
            name = str(item.data(Qt.ItemDataRole.UserRole))
            item.setCheckState(Qt.CheckState.Checked if name in wanted else Qt.CheckState.Unchecked)
        self.list.blockSignals(False)
        self._refresh_label()
        self.changed.emit()

    def _on_item_changed(self, _item: QListWidgetItem) -> None:
        self._refresh_label()
        self.changed.emit()

    def _refresh_label(self) -> None:
        chosen = self.selected()
        if not chosen:
            self.setText(f"All types ({len(self._counts)})" if self._counts else "All types")
        elif len(chosen) == 1:
            self.setText(next(iter(chosen)))
        else:
            self.setText(f"{len(chosen)} types")


def _time_edit(placeholder: str) -> QDateTimeEdit:
    edit = QDateTimeEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd HH:mm")
    # The minimum stands for "not set": Qt shows the special text instead of a date.
    edit.setMinimumDateTime(_UNSET.toLocalTime())
    edit.setSpecialValueText(placeholder)
    edit.setDateTime(edit.minimumDateTime())
    edit.setToolTip(f"{placeholder} (local time); clear to remove the bound")
    return edit


class FilterBar(QWidget):
    changed = Signal(object)  # FilterState, after typing pauses

    def __init__(self, parent: QWidget | None = None, debounce_ms: int = DEBOUNCE_MS) -> None:
        super().__init__(parent)
        self.aggregate = QLineEdit()
        self.aggregate.setPlaceholderText("Aggregate id…")
        self.aggregate.setClearButtonEnabled(True)
        self._aggregates = QStringListModel(self)
        completer = QCompleter(self._aggregates, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setMaxVisibleItems(15)
        self.aggregate.setCompleter(completer)
        self.types = TypePicker()
        self.from_time = _time_edit("From: any")
        self.to_time = _time_edit("To: any")
        self.text = QLineEdit()
        self.text.setPlaceholderText("Search in values…")
        self.text.setClearButtonEnabled(True)
        self.errors_only = QCheckBox("Errors only")
        self.errors_only.setToolTip("Only records that could not be read or decoded")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Remove every filter")
        self.clear_button.clicked.connect(self.clear)
        self.summary = QLabel()
        self.summary.setMinimumWidth(150)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.aggregate, 2)
        layout.addWidget(self.types)
        layout.addWidget(self.from_time)
        layout.addWidget(self.to_time)
        layout.addWidget(self.text, 3)
        layout.addWidget(self.errors_only)
        layout.addWidget(self.clear_button)
        layout.addWidget(self.summary)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self._emit)
        self._last: FilterState | None = None
        self.aggregate.textChanged.connect(self._schedule)
        self.text.textChanged.connect(self._schedule)
        self.types.changed.connect(self._schedule)
        self.errors_only.toggled.connect(self._schedule)
        self.from_time.dateTimeChanged.connect(self._schedule)
        self.to_time.dateTimeChanged.connect(self._schedule)

    # --- fed by the window ---------------------------------------------------------------

    def set_aggregates(self, names: Iterable[str]) -> None:
        self._aggregates.setStringList(sorted(names))

    def set_text_search(self, allowed: bool, why: str = "") -> None:
        """Text search scans the raw values: off (and cleared) while they are masked."""
        if not allowed and self.text.text():
            self.text.clear()
        self.text.setEnabled(allowed)
        self.text.setPlaceholderText("Search in values…" if allowed else why)
        self.text.setToolTip("" if allowed else why)

    def set_type_counts(self, counts: Mapping[str, int]) -> None:
        self.types.set_counts(counts)

    def set_summary(self, shown: int, total: int, incomplete: str | None = None) -> None:
        """ "N events" or "N of M events"; ``incomplete`` marks a count that is not all
        there is (a damaged file, a read cut short) and says why in the tooltip."""
        noun = "event" if total == 1 else "events"
        text = f"{total:,} {noun}" if shown == total else f"{shown:,} of {total:,} {noun}"
        if incomplete:
            text += " (incomplete)"
        self.summary.setText(text)
        self.summary.setToolTip(f"Not everything was read: {incomplete}" if incomplete else "")
        self.summary.setStyleSheet("color: #b3261e;" if incomplete else "")

    # --- state ---------------------------------------------------------------------------

    def state(self) -> FilterState:
        aggregate = self.aggregate.text().strip() or None
        text = self.text.text().strip() or None
        return FilterState(
            aggregate=aggregate,
            types=self.types.selected(),
            from_ms=self._ms(self.from_time),
            to_ms=self._ms(self.to_time),
            text=text,
            errors_only=self.errors_only.isChecked(),
        )

    def set_aggregate(self, aggregate: str | None) -> None:
        self.aggregate.setText(aggregate or "")

    def set_time_range(self, from_ms: int | None, to_ms: int | None) -> None:
        for edit, ms in ((self.from_time, from_ms), (self.to_time, to_ms)):
            if ms is None:
                edit.setDateTime(edit.minimumDateTime())
            else:
                edit.setDateTime(QDateTime.fromMSecsSinceEpoch(ms, QTimeZone.utc()).toLocalTime())

    def clear(self) -> None:
        self.aggregate.clear()
        self.text.clear()
        self.errors_only.setChecked(False)
        self.types.set_selected(())
        self.set_time_range(None, None)

    def flush(self) -> None:
        """Emit now if an edit is pending (tests, Enter key)."""
        if self._timer.isActive():
            self._timer.stop()
            self._emit()

    @staticmethod
    def _ms(edit: QDateTimeEdit) -> int | None:
        if edit.dateTime() == edit.minimumDateTime():
            return None
        return int(edit.dateTime().toMSecsSinceEpoch())

    def _schedule(self, *_args: object) -> None:
        self._timer.start()

    def _emit(self) -> None:
        state = self.state()
        if state != self._last:
            self._last = state
            self.changed.emit(state)
