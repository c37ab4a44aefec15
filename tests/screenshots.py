"""Render README screenshots from the real app on the demo data (offscreen, QWidget.grab).

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/screenshots.py [--out resources/screenshots]

Writes:
  main-window.png   the window: cluster tree, table, event detail, inspector with a state
  inspector-diff.png  the aggregate inspector comparing two points of an account's history
  errors.png        the orders topic (Avro) filtered to undecodable records, one selected
  rates.png         the event-rate dock: the demo's orders per minute, stacked by type
  lag.png           the consumer-lag panel on a simulated ten minutes of five groups
  as-of.png         as-of mode at an account's sixth event, with every account's state then
  support.png       the search box on one account id, its owner and memos masked
                    (a file has no consumer groups; the sampler feeds it on a cluster)
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
sys.path.insert(0, str(ROOT / "tests"))

from lag_scenario import scenario  # noqa: E402
from PySide6.QtCore import QCoreApplication, QEventLoop, qInstallMessageHandler  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.gui.launch import _qt_message, build_window  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from app.gui.settings import Settings  # noqa: E402
from widgets.lag_chart import LagChart  # noqa: E402

AGGREGATE = "ACC-100007"


def wait(until: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not reach the expected state")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def settle(seconds: float = 0.4) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def loaded(window: MainWindow) -> bool:
    return not window.loader.reading and window.topic_view.model.rowCount() > 0


def select_aggregate(window: MainWindow, aggregate: str, step: int | None = None) -> None:
    window.filter_bar.set_aggregate(aggregate)
    window.filter_bar.flush()
    wait(lambda: window.topic_view.model.rowCount() > 0)
    rows = window.topic_view.model.rowCount()
    window.topic_view.select_model_row(rows - 1 if step is None else step)
    wait(lambda: window.inspector.state_tree.topLevelItemCount() > 0)
    settle()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "resources" / "screenshots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    qInstallMessageHandler(_qt_message)  # the app's filter for offscreen-only noise
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(Path(tmp) / "settings.ini")  # a first launch: no saved layout
        window = build_window(None, settings, use_user_folds=False)
        window.resize(1600, 1000)
        window.show()
        wait(lambda: loaded(window))
        select_aggregate(window, AGGREGATE, step=5)
        window.filter_bar.clear()
        window.filter_bar.flush()
        settle(0.6)
        window.grab().save(str(args.out / "main-window.png"))

        select_aggregate(window, AGGREGATE, step=5)
        inspector = window.inspector
        inspector.diff_from.setValue(3)
        inspector.diff_to.setValue(min(inspector.step_count, 12))
        inspector.diff_button.click()
        wait(lambda: inspector.diff_tree.topLevelItemCount() > 0)
        settle()
        window.panes.inspector_dock.grab().save(str(args.out / "inspector-diff.png"))

        window.filter_bar.clear()
        window.activate_topic("orders")
        window.filter_bar.errors_only.setChecked(True)
        window.filter_bar.flush()
        wait(lambda: window.topic_view.model.rowCount() > 0)
        window.topic_view.select_model_row(0)
        settle()
        window.grab().save(str(args.out / "errors.png"))

        window.filter_bar.errors_only.setChecked(False)
        window.filter_bar.flush()
        rate_dock = window.panes.monitor_docks[1]
        rate_dock.show()
        rate_dock.raise_()
        wait(lambda: window.monitoring.charts.rate is not None)
        settle(0.8)
        rate_dock.grab().save(str(args.out / "rates.png"))

        window.activate_topic("bank-accounts")
        wait(lambda: loaded(window))
        select_aggregate(window, AGGREGATE, step=5)
        window.as_of_mode.toggle()  # at the selected event's time
        window.auditing.states()
        wait(lambda: window.panes.states.model.rowCount() > 0)
        settle(0.8)
        window.grab().save(str(args.out / "as-of.png"))
        window.as_of_mode.leave()

        # What support staff see: one id looked up in every topic, personal data masked.
        window.masking.given = ("payload.owner", "*.memo")
        window.masking.set(window.masking.masker)
        window.filter_bar.clear()
        window.filter_bar.flush()
        window.focus_search()
        window.panes.search.query.setText(AGGREGATE)
        window.search.search(AGGREGATE)
        wait(lambda: window.panes.search.state.topLevelItemCount() > 0)
        window.search.open_position("bank-accounts", 0, 14381)  # its first event
        settle(0.8)
        window.grab().save(str(args.out / "support.png"))
        window.close()

        chart = LagChart()
        chart.resize(1400, 640)
        chart.set_history(scenario())
        chart.refresh()
        chart.show()
        settle(0.8)
        chart.grab().save(str(args.out / "lag.png"))
        chart.close()
    print(f"screenshots written to {args.out}")
    app.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
