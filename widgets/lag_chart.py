"""Consumer lag panel: lag per group over time and a status table with Burrow-style badges.

The panel is a view: the composition root's sampler worker feeds a ``LagHistory``
(app/lag_model) and hands it over with ``set_history``; the panel redraws at most
every ``refresh_ms`` however fast it is fed.  Each group's line is its total lag in
records (sum of partitions) or in seconds (the age of its oldest waiting event, from
that record's timestamp; "~" marks an estimate from offsets over time); per-partition
lines of the selected group come on demand.  With many groups only the ``max_lines``
most lagging are drawn until the user picks others in the table.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QRadioButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.lag.history import LagHistory, LagUnit, Series
from app.lag.status import GroupStatus, Status, format_age, format_duration
from widgets.chart_style import (
    STATUS_COLORS,
    AsOfMarker,
    apply_palette,
    hover_fill,
    make_time_plot,
    series_pen,
    text_on,
)

COLUMNS = ("Plot", "Group", "Status", "Lag", "Oldest waiting", "Catch-up", "Members", "Rule")
_PLOT, _GROUP, _STATUS, _LAG, _AGE, _ETA, _MEMBERS, _RULE = range(len(COLUMNS))
_Y_LABEL = {"records": "Lag (records)", "seconds": "Lag (seconds)"}
# How the "Oldest waiting" age was found, when it is not simply the record's timestamp.
_AGE_TIPS = {
    "record": "Age of the record at the committed offset, from its timestamp",
    "next_record": "The committed offset holds no record any more (retention, compaction "
    "or a transaction marker): age of the first record after it",
    "estimate": "Estimated from offsets over time: the record at the committed offset "
    "could not be read",
}


def format_lag(value: float, unit: LagUnit) -> str:
    if not np.isfinite(value):
        return "n/a"
    return format_duration(value) if unit == "seconds" else f"{value:,.0f} records"


class LagChart(QWidget):
    """Lag over time per consumer group, plus each group's status and catch-up time."""

    groupSelected = Signal(str)

    def __init__(
        self, parent: QWidget | None = None, max_lines: int = 8, refresh_ms: int = 250
    ) -> None:
        super().__init__(parent)
        self.max_lines = max_lines
        self._history: LagHistory | None = None
        self._unit: LagUnit = "records"
        self._chosen: set[str] | None = None  # None: automatic (most lagging groups)
        self._selected: str | None = None
        self._statuses: list[GroupStatus] = []
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.partition_curves: dict[str, pg.PlotDataItem] = {}
        self._drawn: list[Series] = []

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(refresh_ms)
        self._timer.timeout.connect(self.refresh)

        self.records_button = QRadioButton("Records")
        self.seconds_button = QRadioButton("Seconds")
        self.records_button.setChecked(True)
        self.records_button.setToolTip("Lag as the number of events not yet consumed")
        self.seconds_button.setToolTip("Lag as the age of the oldest event not yet consumed")
        units = QButtonGroup(self)
        units.addButton(self.records_button)
        units.addButton(self.seconds_button)
        self.seconds_button.toggled.connect(
            lambda on: self.set_unit("seconds" if on else "records")
        )
        self.partitions_box = QCheckBox("Partitions of selected group")
        self.partitions_box.toggled.connect(lambda _on: self.refresh())
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.updated = QLabel("Waiting for the first sample…")
        self.updated.setStyleSheet("color: palette(mid);")

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Lag in:"))
        bar.addWidget(self.records_button)
        bar.addWidget(self.seconds_button)
        bar.addSpacing(12)
        bar.addWidget(self.partitions_box)
        bar.addStretch(1)
        bar.addWidget(self.updated)

        self.plot = make_time_plot(_Y_LABEL["records"])
        self.crosshair = pg.InfiniteLine(angle=90, movable=False)
        self.crosshair.setVisible(False)
        self.hover = pg.TextItem(anchor=(0, 0))
        self.hover.setVisible(False)
        self.hover.setZValue(100)
        self.plot.addItem(self.crosshair, ignoreBounds=True)
        self.plot.addItem(self.hover, ignoreBounds=True)
        self.as_of = AsOfMarker(self.plot)
        self._mouse = pg.SignalProxy(
            self.plot.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse
        )

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)  # one line per group; the full rule is in the tooltip
        header = self.table.horizontalHeader()
        for col in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(_RULE, QHeaderView.ResizeMode.Stretch)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._on_selection)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.plot)
        split.addWidget(self.table)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([360, 240])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.notice)
        layout.addWidget(split, 1)
        self.notice.setVisible(False)
        self._apply_palette()

    # -- feeding -------------------------------------------------------------------------

    def set_history(self, history: LagHistory) -> None:
        """Show ``history``; call after every sample: redraws are throttled."""
        self._history = history
        if not self._timer.isActive():
            self._timer.start()

    def set_unit(self, unit: LagUnit) -> None:
        if unit == self._unit:
            return
        self._unit = unit
        with _blocked(self.seconds_button), _blocked(self.records_button):
            self.seconds_button.setChecked(unit == "seconds")
            self.records_button.setChecked(unit == "records")
        self.plot.getPlotItem().setLabel("left", _Y_LABEL[unit])
        self._apply_palette()
        self.refresh()

    @property
    def unit(self) -> LagUnit:
        return self._unit

    def set_plotted_groups(self, groups: list[str] | None) -> None:
        """Draw exactly these groups; None goes back to the most lagging ones."""
        self._chosen = None if groups is None else set(groups)
        self.refresh()

    def select_group(self, group: str | None) -> None:
        self._selected = group
        self.refresh()

    def set_show_partitions(self, show: bool) -> None:
        self.partitions_box.setChecked(show)

    def statuses(self) -> list[GroupStatus]:
        return list(self._statuses)

    def plotted_groups(self) -> list[str]:
        return list(self.curves)

    # -- drawing -------------------------------------------------------------------------

    def refresh(self) -> None:
        """Redraw now (``set_history`` schedules this)."""
        self._timer.stop()
        history = self._history
        if history is None:
            return
        self._statuses = sorted(
            history.statuses(), key=lambda s: (-s.status.severity, -(s.lag or 0), s.group)
        )
        plotted = self._groups_to_plot()
        self._draw(history, plotted)
        self._fill_table(plotted)
        self._show_notice(history)

    def _groups_to_plot(self) -> list[str]:
        known = [s.group for s in self._statuses]
        if self._chosen is not None:
            return [g for g in known if g in self._chosen]
        by_lag = sorted(self._statuses, key=lambda s: -(s.lag or 0))
        return sorted(s.group for s in by_lag[: self.max_lines])

    def _draw(self, history: LagHistory, groups: list[str]) -> None:
        item = self.plot.getPlotItem()
        for curve in [*self.curves.values(), *self.partition_curves.values()]:
            item.removeItem(curve)
        self.curves.clear()
        self.partition_curves.clear()
        self._drawn = []
        for i, group in enumerate(groups):
            series = history.group_lag(group, self._unit)
            self.curves[group] = self._add_curve(series, group, series_pen(i))
        selected = self._selected
        if self.partitions_box.isChecked() and selected in history.groups():
            for j, part in enumerate(history.partition_lag(selected, self._unit)):
                name = f"{selected} {part.name}"
                pen = series_pen(len(groups) + j, width=1.2, dashed=True)
                self.partition_curves[name] = self._add_curve(part, name, pen)

    def _add_curve(self, series: Series, name: str, pen: object) -> pg.PlotDataItem:
        # connect="finite": a failed sample shows as a gap rather than a drop to zero.
        curve = self.plot.plot(
            series.times, series.values, name=name, pen=pen, connect="finite", antialias=True
        )
        self._drawn.append(Series(name, series.times, series.values))
        return curve

    def _fill_table(self, plotted: list[str]) -> None:
        table = self.table
        with _blocked(table):
            table.setUpdatesEnabled(False)
            table.setRowCount(len(self._statuses))
            for row, status in enumerate(self._statuses):
                self._fill_row(row, status, status.group in plotted)
            table.setUpdatesEnabled(True)
            for row, status in enumerate(self._statuses):
                if status.group == self._selected:
                    table.selectRow(row)

    def _fill_row(self, row: int, status: GroupStatus, plotted: bool) -> None:
        check = QTableWidgetItem()
        check.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
        check.setCheckState(Qt.CheckState.Checked if plotted else Qt.CheckState.Unchecked)
        check.setData(Qt.ItemDataRole.UserRole, status.group)
        badge = QTableWidgetItem(status.status.value)
        color = QColor(STATUS_COLORS[status.status])
        badge.setBackground(QBrush(color))
        badge.setForeground(QBrush(text_on(color)))
        badge.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        badge.setToolTip(status.rule)
        cells = {
            _PLOT: check,
            _GROUP: QTableWidgetItem(status.group),
            _STATUS: badge,
            _LAG: QTableWidgetItem("n/a" if status.lag is None else f"{status.lag:,}"),
            _AGE: QTableWidgetItem(format_age(status.lag_seconds, status.age_source)),
            _ETA: QTableWidgetItem(format_duration(status.catch_up_seconds)),
            _MEMBERS: QTableWidgetItem(f"{status.members} ({status.state.lower()})"),
            _RULE: QTableWidgetItem(status.rule),
        }
        cells[_RULE].setToolTip(status.rule)
        cells[_AGE].setToolTip(_AGE_TIPS.get(status.age_source or "", ""))
        for col in (_LAG, _AGE, _ETA):
            cells[col].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for col, cell in cells.items():
            self.table.setItem(row, col, cell)

    def _show_notice(self, history: LagHistory) -> None:
        if history.last_sample_ms is not None:
            stamp = time.strftime("%H:%M:%S", time.localtime(history.last_sample_ms / 1000))
            self.updated.setText(f"Sampled {stamp}")
        error = history.last_error
        self.notice.setVisible(error is not None)
        if error is not None:
            self.notice.setText(f"Last sample failed: {error}. Retrying…")

    # -- interaction -----------------------------------------------------------------------

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != _PLOT:
            return
        chosen = set(self.plotted_groups()) if self._chosen is None else set(self._chosen)
        group = item.data(Qt.ItemDataRole.UserRole)
        if item.checkState() == Qt.CheckState.Checked:
            chosen.add(group)
        else:
            chosen.discard(group)
        self._chosen = chosen
        # Not now: the redraw rebuilds the table, and ``item`` is still emitting.
        QTimer.singleShot(0, self.refresh)

    def _on_selection(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        item = self.table.item(rows[0].row(), _GROUP)
        if item is None or item.text() == self._selected:
            return
        self._selected = item.text()
        self.groupSelected.emit(self._selected)
        if self.partitions_box.isChecked():
            self.refresh()

    def _on_mouse(self, event: tuple[object, ...]) -> None:
        pos = event[0]
        view = self.plot.getPlotItem().getViewBox()
        if not self._drawn or not view.sceneBoundingRect().contains(pos):
            self.crosshair.setVisible(False)
            self.hover.setVisible(False)
            return
        x = view.mapSceneToView(pos).x()
        times = self._drawn[0].times
        if times.size == 0:
            return
        i = int(np.clip(np.searchsorted(times, x), 0, times.size - 1))
        if i > 0 and abs(times[i - 1] - x) < abs(times[i] - x):
            i -= 1
        self.crosshair.setPos(times[i])
        lines = [time.strftime("%H:%M:%S", time.localtime(times[i]))]
        lines += [f"{s.name}: {format_lag(s.values[i], self._unit)}" for s in self._drawn]
        self.hover.setText("\n".join(lines))
        (left, right), (_, top) = view.viewRange()
        # Keep the box inside the view: flip to the left half when near the right edge.
        self.hover.setAnchor((1, 0) if x > (left + right) / 2 else (0, 0))
        self.hover.setPos(times[i], top)
        self.crosshair.setVisible(True)
        self.hover.setVisible(True)

    # -- palette ---------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._apply_palette()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        palette = self.palette()
        apply_palette(self.plot, palette)
        fill, border = hover_fill(palette)
        self.hover.fill = pg.mkBrush(fill)
        self.hover.border = pg.mkPen(border)
        self.hover.setColor(palette.color(palette.ColorRole.ToolTipText))
        self.crosshair.setPen(pg.mkPen(border, width=1))
        self.notice.setStyleSheet(f"color: {STATUS_COLORS[Status.STALLED]}; font-weight: bold;")


class _blocked:
    """``with _blocked(widget):`` silences its signals while the code fills it."""

    def __init__(self, widget: QWidget) -> None:
        self.widget = widget

    def __enter__(self) -> None:
        self._was = self.widget.blockSignals(True)

    def __exit__(self, *exc: object) -> None:
        self.widget.blockSignals(self._was)
