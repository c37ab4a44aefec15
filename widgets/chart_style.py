"""Look and feel shared by the lag and rate charts: colours, axes, palette following.

The colours are mid-luminance (a Tableau-10-like set) so lines and bars read on
both a light and a dark window palette; backgrounds and text follow the palette.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette, QPen

from app.lag.status import Status

SERIES_COLORS = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip
OTHER_COLOR = "#8c8c8c"
STATUS_COLORS = {
    Status.OK: "#2e9d57",
    Status.WARNING: "#e0a400",
    Status.REWIND: "#8e63b8",
    Status.STALLED: "#d1495b",
    Status.STOPPED: "#8c1c2b",
    Status.UNKNOWN: "#7f7f7f",
}


def series_color(index: int) -> QColor:
    return QColor(SERIES_COLORS[index % len(SERIES_COLORS)])


def series_pen(index: int, width: float = 2.0, dashed: bool = False) -> QPen:
    pen = QPen(series_color(index))
    pen.setWidthF(width)
    pen.setCosmetic(True)
    if dashed:
        pen.setStyle(Qt.PenStyle.DashLine)
    return pen


def text_on(background: QColor) -> QColor:
    """Black or white, whichever reads better on ``background`` (WCAG luminance)."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    lum = (
        0.2126 * channel(background.redF())
        + 0.7152 * channel(background.greenF())
        + 0.0722 * channel(background.blueF())
    )
    return QColor("#000000") if lum > 0.4 else QColor("#ffffff")


class CountAxis(pg.AxisItem):
    """Plain numbers with thousands separators (no 1e+06, no "k" unit prefixes)."""

    def __init__(self, orientation: str = "left") -> None:
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        decimals = 0 if spacing >= 1 else min(6, max(0, -math.floor(math.log10(spacing))))
        return [f"{v * scale:,.{decimals}f}" for v in values]


def make_time_plot(y_label: str) -> pg.PlotWidget:
    """A plot over local wall-clock time that stays fast with long, live series."""
    plot = pg.PlotWidget(
        axisItems={"bottom": pg.DateAxisItem(orientation="bottom"), "left": CountAxis("left")}
    )
    item = plot.getPlotItem()
    item.setDownsampling(auto=True, mode="peak")
    item.setClipToView(True)
    item.showGrid(x=True, y=True, alpha=0.18)
    item.setLabel("left", y_label)
    item.setLabel("bottom", "Local time")
    item.setMenuEnabled(False)
    # Below two minutes the date axis falls back to "14.000"-style second labels; a
    # lag history starts short, so the view never zooms that far in.
    item.getViewBox().setLimits(minXRange=120)
    plot.setMinimumHeight(140)
    item.addLegend(offset=(8, 8), labelTextSize="8pt")
    return plot


class AsOfMarker:
    """A dashed amber line at the as-of moment, on a time plot; hidden when there is none."""

    def __init__(self, plot: pg.PlotWidget) -> None:
        pen = pg.mkPen(STATUS_COLORS[Status.WARNING], width=2, style=Qt.PenStyle.DashLine)
        self.line = pg.InfiniteLine(
            angle=90, movable=False, pen=pen, label="as of", labelOpts={"position": 0.92}
        )
        self.line.setVisible(False)
        self.line.setZValue(50)
        plot.addItem(self.line, ignoreBounds=True)

    def set(self, at_ms: int | None) -> None:
        if at_ms is not None:
            self.line.setValue(at_ms / 1000)
        self.line.setVisible(at_ms is not None)

    @property
    def shown_at_s(self) -> float | None:
        return float(self.line.value()) if self.line.isVisible() else None


def apply_palette(plot: pg.PlotWidget, palette: QPalette) -> None:
    """Background, axes, grid and legend from the widget palette (dark or light)."""
    base = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    plot.setBackground(base)
    item = plot.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(text))
        axis.setTextPen(pg.mkPen(text))
        label = axis.labelText
        if label:
            axis.setLabel(label, color=text.name())
    legend = item.legend
    if legend is not None:
        frame = QColor(text)
        frame.setAlpha(60)
        fill = QColor(base)
        fill.setAlpha(200)
        legend.setPen(pg.mkPen(frame))
        legend.setBrush(pg.mkBrush(fill))
        legend.setLabelTextColor(text)
        # setLabelTextColor only affects labels rendered later: re-render the current ones.
        for _, label in legend.items:
            label.setText(label.text, color=text)


def hover_fill(palette: QPalette) -> tuple[QColor, QColor]:
    """(fill, border) for a hover box that stands out on the plot background."""
    fill = QColor(palette.color(QPalette.ColorRole.ToolTipBase))
    fill.setAlpha(230)
    border = QColor(palette.color(QPalette.ColorRole.ToolTipText))
    border.setAlpha(90)
    return fill, border
