"""Starting the desktop app: ``event-explorer`` with no command lands here.

With no source on the command line it opens the bundled demo file, found through
``importlib.resources`` so it works from a checkout and when installed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QMessageLogContext, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from app.gui.fold_files import FoldFiles
from app.gui.fold_safety import FoldSafety
from app.gui.main_window import MainWindow
from app.gui.settings import APPLICATION, ORGANIZATION, Settings
from kafka_io.profile import ConnectionProfile, ProfileError

SELF_TEST_TIMEOUT_MS = 60_000
# Qt messages that say nothing to a user: the offscreen platform (CI, screenshots,
# --self-test) cannot resize native windows and says so for every dock.
QUIET_QT_MESSAGES = ("does not support propagateSizeHints",)


def _qt_message(kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    if any(quiet in message for quiet in QUIET_QT_MESSAGES):
        return
    sys.stderr.write(f"qt: {message}\n")


def _arg(args: argparse.Namespace | None, name: str, default: object = None) -> object:
    return getattr(args, name, default) if args is not None else default


def build_window(
    args: argparse.Namespace | None = None,
    settings: Settings | None = None,
    *,
    use_user_folds: bool = True,
) -> MainWindow:
    """The window with its source opened (or opening) as ``args`` say; not shown yet."""
    settings = settings or Settings()
    given = [str(p) for p in _arg(args, "folds", []) or []]  # type: ignore[attr-defined]
    remembered = [p for p in settings.fold_files() if Path(p).exists()]
    folds = FoldFiles(given, remembered=remembered, use_user_dir=use_user_folds)
    window = MainWindow(settings, folds)
    window.masking.given = tuple(_arg(args, "mask", []) or [])  # type: ignore[arg-type]
    if window.masking.given:
        window.masking.set(window.masking.masker)
    bootstrap = _arg(args, "bootstrap")
    config = _arg(args, "config")
    file = _arg(args, "file")
    import_file, profile_name = _arg(args, "import_profile"), _arg(args, "profile")
    if import_file:
        # A double-clicked .evx-profile: show it, keep its secrets, then connect with it.
        actions = window.profile_actions
        actions.imported.connect(actions.connect_profile)
        QTimer.singleShot(0, lambda: actions.import_file(Path(str(import_file))))
    elif profile_name:
        window.profile_actions.connect_profile(str(profile_name))
    elif bootstrap or config:
        try:
            profile = ConnectionProfile.from_args(
                bootstrap,  # type: ignore[arg-type]
                _arg(args, "x_options", []) or [],  # type: ignore[arg-type]
                config,  # type: ignore[arg-type]
                _arg(args, "registry"),  # type: ignore[arg-type]
                _arg(args, "registry_auth"),  # type: ignore[arg-type]
            )
        except ProfileError as exc:
            window.show_failure_text(str(exc))
        else:
            window.connect_profile(profile)
    elif file:
        window.open_file(Path(str(file)))
    else:
        window.opener.open_demo()
    return window


def run_gui(args: argparse.Namespace | None) -> int:
    qInstallMessageHandler(_qt_message)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Event Explorer")
    window = build_window(args)
    safety = FoldSafety(window)
    window.show()
    if _arg(args, "self_test", False):
        return _self_test(app, window)
    code = int(app.exec())
    window.settings.sync()
    return safety.leave_if_stuck(code)


def _self_test(app: QApplication, window: MainWindow) -> int:
    """Start, load the source, check the table shows events, quit: for packaging tests."""
    outcome = {"code": 1}

    def loaded() -> None:
        window.source_loaded.disconnect(loaded)
        rows = window.topic_view.model.rowCount()
        if rows > 0:
            print(f"self-test ok: {rows} events in {window.topic_view.topic}")
            outcome["code"] = 0
        else:
            print("self-test failed: no events shown", file=sys.stderr)
        window.close()
        app.quit()

    def timeout() -> None:
        print("self-test failed: the source did not load in time", file=sys.stderr)
        window.close()
        app.quit()

    window.source_loaded.connect(loaded)
    QTimer.singleShot(SELF_TEST_TIMEOUT_MS, timeout)
    app.exec()
    return outcome["code"]
