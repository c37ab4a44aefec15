"""Start-up time of the desktop app on the demo data, from process start (prints JSON).

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/perf/bench_startup.py [--runs 3]

Each run is a fresh process (interpreter start and imports included), timed from the
process's creation to:
  window_shown  the main window is on screen;
  usable        the event table shows events and a first event is selected, with its
                detail and its aggregate's state in the inspector (goal: <= 2 s);
  all_loaded    every topic of the demo file is indexed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def child() -> None:
    import psutil

    started = psutil.Process().create_time()
    sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from app.gui.launch import build_window
    from app.gui.settings import Settings

    marks: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        window = build_window(None, Settings(Path(tmp) / "s.ini"), use_user_folds=False)
        window.show()
        marks["window_shown"] = time.time() - started

        def poll() -> None:
            now = time.time() - started
            usable = (
                window.topic_view.model.rowCount() > 0
                and window.detail.current is not None
                and window.inspector.state_tree.topLevelItemCount() > 0
            )
            if usable and "usable" not in marks:
                marks["usable"] = now
            if not window.loader.reading and window.loader.read_task is not None and usable:
                marks["all_loaded"] = now
                app.quit()

        timer = QTimer()
        timer.timeout.connect(poll)
        timer.start(5)
        QTimer.singleShot(120_000, app.quit)
        app.exec()
        dataset = window.loader.dataset
        assert dataset is not None
        marks["events"] = float(sum(len(index) for index in dataset.indexes.values()))
        window.close()
    print(json.dumps(marks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child()
        return
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    runs = []
    for _ in range(args.runs):
        out = subprocess.run(
            [sys.executable, __file__, "--child"], env=env, capture_output=True, text=True,
            check=True, timeout=180,
        )  # fmt: skip
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    keys = ["window_shown", "usable", "all_loaded"]
    result = {
        "benchmark": "startup_demo",
        "runs": args.runs,
        "events": int(runs[0]["events"]),
        **{f"{k}_s_median": round(statistics.median(r[k] for r in runs), 3) for k in keys},
        **{f"{k}_s_max": round(max(r[k] for r in runs), 3) for k in keys},
        "goal_usable_s": 2.0,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
