"""Start-up time of the installed app (the .deb's frozen bundle) on the demo data; prints JSON.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/perf/bench_installed.py [--runs 3]
        [--deb dist/event-explorer_<version>_amd64.deb]

With --deb the package is installed first with ``apt-get install`` (timed) and removed
at the end (needs root); without it, the app installed in /opt/event-explorer is measured.

Each run starts the installed executable afresh, as the app starts its own worker
processes, and inside it builds the window as tests/perf/bench_startup.py does for the
source tree, timed from just before the executable starts to:
  window_shown  the main window is on screen;
  usable        the event table shows events and a first event is selected, with its
                detail and its aggregate's state in the inspector (goal: <= 2 s);
  all_loaded    every topic of the demo file is indexed;
and ``usable_cpu``, the CPU seconds the app had used by then (all its threads), which a
busy machine inflates less than the wall-clock figures.
``self_test`` is the whole ``event-explorer --self-test`` (start, load the demo, check
the table, quit), timed from outside.

Only standard-library imports at the top: the runs execute this file inside the bundle.
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
from multiprocessing.connection import Connection
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
RUN_TIMEOUT_S = 180


def child(conn: Connection, started: float) -> None:
    """Inside the installed bundle: build the window on the demo data and time it."""
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
                marks["usable_cpu"] = time.process_time()
            if not window.loader.reading and window.loader.read_task is not None and usable:
                marks["all_loaded"] = now
                app.quit()

        timer = QTimer()
        timer.timeout.connect(poll)
        timer.start(5)
        QTimer.singleShot(120_000, app.quit)
        app.exec()
        window.close()
    conn.send(marks)


def _timed_run(executable: Path) -> dict[str, float]:
    from frozen_worker import start_in_bundle

    started = time.time()
    process, conn = start_in_bundle(executable, child, started)
    try:
        if not conn.poll(RUN_TIMEOUT_S):
            raise SystemExit(f"the installed app did not report within {RUN_TIMEOUT_S} s")
        marks: dict[str, float] = conn.recv()
    except EOFError:
        raise SystemExit("the installed app ended without reporting") from None
    finally:
        process.join(30)
        if process.exitcode is None:
            process.kill()
    return marks


def _self_test(executable: Path) -> float:
    started = time.monotonic()
    done = subprocess.run(
        [str(executable), "--self-test"], capture_output=True, text=True, timeout=RUN_TIMEOUT_S
    )
    if done.returncode != 0 or "self-test ok" not in done.stdout:
        raise SystemExit(f"event-explorer --self-test failed: {done.stderr.strip()}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--deb", type=Path, help="install this package first, remove it after")
    args = parser.parse_args()
    sys.path.insert(0, str(TESTS))
    import deb_package

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    result: dict[str, object] = {"benchmark": "startup_installed", "runs": args.runs}
    if args.deb:
        if deb_package.is_installed():
            raise SystemExit("event-explorer is already installed: measure it without --deb")
        result["deb_mb"] = round(args.deb.stat().st_size / 1e6, 1)
        result["apt_install_s"] = round(deb_package.install(args.deb), 1)
    elif not deb_package.COMMAND.exists():
        raise SystemExit(f"{deb_package.COMMAND} is not installed: give --deb PATH")
    try:
        runs = [_timed_run(deb_package.COMMAND) for _ in range(args.runs)]
        self_tests = [_self_test(deb_package.COMMAND) for _ in range(args.runs)]
    finally:
        if args.deb:
            deb_package.remove()
    keys = ["window_shown", "usable", "all_loaded", "usable_cpu"]
    result.update({f"{k}_s_median": round(statistics.median(r[k] for r in runs), 3) for k in keys})
    result.update({f"{k}_s_max": round(max(r[k] for r in runs), 3) for k in keys})
    result["self_test_s_median"] = round(statistics.median(self_tests), 3)
    result["goal_usable_s"] = 2.0
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
