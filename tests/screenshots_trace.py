"""Render the README screenshots of the Trace view and the Health panel (offscreen).

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/screenshots_trace.py [--out DIR]

Writes:
  health.png  the Health panel after checking the demo's five topics, with the demo's
              saga types (OrderPlaced -> OrderShipped | OrderCancelled)
  trace.png   the Trace view of the demo's broken checkout saga, opened from the
              shipment event whose cause was lost
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

from PySide6.QtCore import QCoreApplication, QEventLoop, qInstallMessageHandler  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.gui.launch import _qt_message, build_window  # noqa: E402
from app.gui.settings import Settings  # noqa: E402
from app.gui.trace_jobs import HealthController, TraceController  # noqa: E402
from app.health.findings import Kind  # noqa: E402
from resources.demo.checkout import SAGA_ENDS, SAGA_STARTS  # noqa: E402
from widgets.health_panel import HealthPanel  # noqa: E402
from widgets.trace_view import TraceView  # noqa: E402


def wait(until: Callable[[], bool], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not reach the expected state")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


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

        panel = HealthPanel()
        panel.resize(1500, 420)
        HealthController(window.workers, panel, lambda: window.loader.dataset,
                         lambda: window.folds.registry, parent=panel)  # fmt: skip
        panel.set_saga_types("|".join(SAGA_STARTS), "|".join(SAGA_ENDS))
        panel.show()
        panel.request_check()
        wait(lambda: panel.report is not None)
        settle()
        panel.grab().save(str(args.out / "health.png"))

        assert panel.report is not None
        broken = next(f for f in panel.report.findings if f.kind is Kind.BROKEN_CAUSATION)
        assert broken.partition is not None and broken.offset is not None
        view = TraceView()
        view.resize(1400, 300)
        TraceController(window.workers, view, lambda: window.loader.dataset, parent=view)
        view.show()
        controller = view.findChild(TraceController)
        assert controller is not None
        controller.trace_event(broken.topic, broken.partition, broken.offset)
        wait(lambda: view.trace is not None)
        view.tree.clearSelection()  # the broken link's red shows unselected
        settle()
        view.grab().save(str(args.out / "trace.png"))
        view.tabs.setCurrentIndex(1)
        settle()
        view.grab().save(str(args.out / "trace-timeline.png"))
        panel.close()
        view.close()
        window.close()
    print(f"screenshots written to {args.out}")
    app.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
