"""Render the README screenshots of the Trace view and the Health panel (offscreen).

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/screenshots_trace.py [--out DIR]

Writes (each reached through the main window's menus):
  health.png        the Health dock after Topic > Check stream health on the demo's five
                    topics, with the demo's saga types filled in
  trace-window.png  the window after Go > Trace event across topics on the event of the
                    broken-causation finding (the demo's broken checkout saga)
  trace.png         that Trace dock's tree; trace-timeline.png its timeline
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, qInstallMessageHandler  # noqa: E402
from PySide6.QtGui import QAction  # noqa: E402
from PySide6.QtWidgets import QApplication, QMainWindow  # noqa: E402

from app.gui.launch import _qt_message, build_window  # noqa: E402
from app.gui.settings import Settings  # noqa: E402
from app.gui.tracing import HEALTH_ACTION, TRACE_ACTION  # noqa: E402
from app.health.findings import Kind  # noqa: E402


def wait(until: Callable[[], bool], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not reach the expected state")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def action(window: QMainWindow, text: str) -> QAction:
    return next(a for a in window.actions() if a.text() == text)


def settle(seconds: float = 0.5) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "resources" / "screenshots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    qInstallMessageHandler(_qt_message)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        window = build_window(None, Settings(Path(tmp) / "settings.ini"), use_user_folds=False)
        window.show()
        wait(lambda: not window.loader.reading and window.topic_view.model.rowCount() > 0)
        wait(lambda: window.loader.dataset is not None and len(window.loader.dataset.indexes) == 5)
        wait(lambda: not window.loader.reading)

        # Through the window, as a user gets there: Topic > Check stream health, then
        # Go > Trace event across topics on the finding's event.
        window.resize(1600, 1000)
        tracing = window.tracing
        action(window, HEALTH_ACTION).trigger()
        window.resizeDocks([tracing.health_dock], [430], Qt.Orientation.Vertical)
        panel = tracing.panel
        wait(lambda: panel.report is not None)
        settle()
        panel.grab().save(str(args.out / "health.png"))

        assert panel.report is not None
        broken = next(f for f in panel.report.findings if f.kind is Kind.BROKEN_CAUSATION)
        row = next(r for r in range(panel.proxy.rowCount()) if panel.finding_at(r) is broken)
        panel.table.selectRow(row)  # shows the event in the table
        wait(lambda: [(e.topic, e.offset) for e in window.topic_view.selected_events()]
             == [(broken.topic, broken.offset)])  # fmt: skip
        action(window, TRACE_ACTION).trigger()
        view = tracing.view
        wait(lambda: view.trace is not None)
        window.resizeDocks([tracing.trace_dock], [430], Qt.Orientation.Vertical)
        view.tree.clearSelection()  # the broken link's red shows unselected
        settle()
        window.grab().save(str(args.out / "trace-window.png"))
        view.grab().save(str(args.out / "trace.png"))
        view.tabs.setCurrentIndex(1)
        settle()
        view.grab().save(str(args.out / "trace-timeline.png"))
        window.close()
    print(f"screenshots written to {args.out}")
    app.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
