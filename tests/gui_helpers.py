"""Helpers shared by the GUI tests (imported by name: tests/ is on the path, see pyproject)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pytest
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QColor, QImage, QPalette

from app.gui.main_window import MainWindow
from widgets.aggregate_inspector import StateView

LOAD_TIMEOUT_S = 90.0
T = TypeVar("T")


def must(value: T | None) -> T:
    """The value, asserting it is there (Qt item getters are typed as optional)."""
    assert value is not None
    return value


def pump_until(condition: Callable[[], bool], timeout: float = LOAD_TIMEOUT_S) -> None:
    """Run a real event loop until ``condition`` holds (fails the test on timeout).

    A nested QEventLoop, not processEvents() in a sleep loop: only a running loop
    dispatches timers among queued signals the way the application's own loop does.
    """
    if condition():
        return
    loop = QEventLoop()
    check = QTimer()
    check.setInterval(5)
    check.timeout.connect(lambda: loop.quit() if condition() else None)
    give_up = QTimer()
    give_up.setSingleShot(True)
    give_up.timeout.connect(loop.quit)
    check.start()
    give_up.start(int(timeout * 1000))
    loop.exec()
    check.stop()
    give_up.stop()
    if not condition():
        pytest.fail(f"condition not met within {timeout:.0f}s")


def loaded(window: MainWindow) -> bool:
    return not window.loader.reading and window.topic_view.model.rowCount() > 0


def dark_palette(palette: QPalette) -> QPalette:
    """A dark variant of ``palette``, for checking charts on both kinds of desktop."""
    dark = QPalette(palette)
    for role, color in {
        QPalette.ColorRole.Window: "#1e1f22",
        QPalette.ColorRole.Base: "#17181a",
        QPalette.ColorRole.AlternateBase: "#222326",
        QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Button: "#2b2d30",
        QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.ToolTipBase: "#2b2d30",
        QPalette.ColorRole.ToolTipText: "#e6e6e6",
    }.items():
        dark.setColor(role, QColor(color))
    return dark


def color_count(image: QImage, color: QColor, tolerance: int = 6) -> int:
    """Pixels of ``image`` within ``tolerance`` of ``color`` in every channel."""
    arr = image_array(image)
    want = np.array([color.red(), color.green(), color.blue()], np.int16)
    close = np.abs(arr[:, :, :3].astype(np.int16) - want) <= tolerance
    return int(np.count_nonzero(close.all(axis=2)))


def image_array(image: QImage) -> np.ndarray:
    """An RGBA copy of ``image`` as a (height, width, 4) uint8 array."""
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    width, height = rgba.width(), rgba.height()
    buffer = np.frombuffer(rgba.constBits(), np.uint8, count=rgba.sizeInBytes())
    return buffer.reshape(height, rgba.bytesPerLine())[:, : width * 4].reshape(height, width, 4)


def shown_state(window: MainWindow, step: int, timeout: float = 30) -> StateView:
    """The state the inspector shows at ``step``, once it shows it. The step is asked for
    again, so a state the inspector showed before the test listened counts too."""
    got: list[StateView] = []
    window.inspector_ctl.state_shown.connect(got.append)
    try:
        if window.inspector.step != step:
            window.inspector.select_step(step)
        else:
            window.inspector_ctl.request_step(step)
        pump_until(lambda: any(v.step == step for v in got), timeout)
    finally:
        window.inspector_ctl.state_shown.disconnect(got.append)
    return [v for v in got if v.step == step][-1]
