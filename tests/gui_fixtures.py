"""Fixtures of the GUI tests (loaded by tests/conftest.py as a plugin).

Qt's offscreen platform is chosen here, in configuration, before any test imports Qt.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="module")
def demo_window(qapp: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A main window on the bundled demo data, loaded once per module."""
    from gui_helpers import loaded, pump_until

    from app.gui.launch import build_window
    from app.gui.settings import Settings

    settings = Settings(tmp_path_factory.mktemp("settings") / "settings.ini")
    window = build_window(None, settings, use_user_folds=False)
    window.show()
    pump_until(lambda: loaded(window))
    yield window
    window.close()
    window.deleteLater()


@pytest.fixture
def window(demo_window: Any) -> Any:
    """The demo window with its filters cleared, on the bank-accounts topic."""
    demo_window.filter_bar.clear()
    demo_window.filter_bar.flush()
    if demo_window.topic_view.topic != "bank-accounts":
        demo_window.activate_topic("bank-accounts")
    return demo_window


@pytest.fixture(autouse=True)
def _collect_qt_garbage_on_the_gui_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a GUI test, collect what it dropped, here on the GUI thread.

    A window a test made and let go of is garbage in a reference cycle; if the cyclic
    collector happens to run on a worker thread (any allocation can trigger it), PySide
    deletes the window's C++ side there, and its timers, registered with the GUI
    thread, cannot be unregistered from another thread: the GUI thread later fires a
    timer of a deleted object and the process dies in QTimerInfoList::activateTimers.
    """
    yield
    if "gui" in request.node.path.parts or "widgets" in request.node.path.parts:
        gc.collect()


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "settings.ini"
