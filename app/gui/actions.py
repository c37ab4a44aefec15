"""The window's menus and shortcuts, as a table: one row per action.

Adding a command to the app is adding a row here (and the method it calls), not
another block of QAction boilerplate in the window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

Std = QKeySequence.StandardKey
Shortcut = QKeySequence.StandardKey | str | None


@dataclass(frozen=True)
class ActionSpec:
    menu: str  # "&File", "&Go", ... ; "-" rows are separators
    text: str
    # a method of the window, or of one of its parts ("opener.open_demo"), looked up when
    # triggered; "submenu:NAME" a named submenu; "menu:NAME" names the menu itself
    # (filled by the window, e.g. View with the docks)
    slot: str
    shortcut: Shortcut = None


SPECS: tuple[ActionSpec, ...] = (
    ActionSpec("&File", "&Open…", "opener.open_file_dialog", Std.Open),
    ActionSpec("&File", "Open &recent", "submenu:recent_files"),
    ActionSpec("&File", "Open &demo data", "opener.open_demo"),
    ActionSpec("&File", "-", ""),
    ActionSpec("&File", "&Connect…", "opener.connect_dialog", "Ctrl+K"),
    ActionSpec("&File", "Recent co&nnections", "submenu:recent_connections"),
    ActionSpec("&File", "&Import profile…", "profile_actions.import_dialog"),
    ActionSpec("&File", "-", ""),
    ActionSpec("&File", "&Export shown events…", "exporter.dialog", "Ctrl+E"),
    ActionSpec("&File", "Load &folds…", "fold_actions.load_dialog", "Ctrl+L"),
    ActionSpec("&File", "-", ""),
    ActionSpec("&File", "&Quit", "close", Std.Quit),
    ActionSpec("&Go", "&Go to offset or time…", "goto_dialog", "Ctrl+G"),
    ActionSpec("&Go", "&Reload topic", "reload_topic", Std.Refresh),
    ActionSpec("&Go", "Refresh topics and &groups", "refresh_listing", "Ctrl+Shift+R"),
    ActionSpec("&Go", "Next event of aggregate", "step_next", "Alt+Right"),
    ActionSpec("&Go", "Previous event of aggregate", "step_previous", "Alt+Left"),
    ActionSpec("&Go", "Find aggregate", "focus_aggregate", Std.Find),
    ActionSpec("&Go", "Find an id in &every topic", "focus_search", "Ctrl+Shift+F"),
    ActionSpec("&Go", "&Trace event across topics", "tracing.trace_selected", "Ctrl+Shift+T"),
    ActionSpec("&Topic", "&Rules…", "topics.rules_dialog"),
    ActionSpec("&Topic", "Trace and health &ids…", "id_rules.dialog"),
    ActionSpec("&Topic", "&Follow live", "topics.toggle_follow", "Ctrl+T"),
    ActionSpec("&Topic", "Open a &window of it…", "windows.dialog", "Ctrl+Shift+W"),
    ActionSpec("&Topic", "&Earlier events of aggregate", "windows.read_earlier", "Ctrl+Shift+B"),
    ActionSpec("&Topic", "Check stream &health", "tracing.check_health", "Ctrl+Shift+H"),
    ActionSpec("&Audit", "&As of a moment or offsets", "as_of_mode.toggle", "Ctrl+Shift+A"),
    ActionSpec("&Audit", "&States of every aggregate", "auditing.states", "Ctrl+Shift+S"),
    ActionSpec("&Audit", "Export audit &report…", "audit_report_dialog", "Ctrl+Shift+E"),
    ActionSpec("&Replay", "&Compare folds…", "corrections.compare_dialog", "Ctrl+Shift+D"),
    ActionSpec("&Replay", "Check &snapshots", "corrections.check_snapshots", "Ctrl+Shift+N"),
    ActionSpec(
        "&Replay", "State from s&napshot", "corrections.state_from_snapshot", "Ctrl+Shift+P"
    ),
    ActionSpec("&Replay", "Event &versions", "corrections.version_facts", "Ctrl+Shift+V"),
    ActionSpec(
        "&Replay", "Inspector from snaps&hots", "inspector_ctl.snapshots.toggle", "Ctrl+Shift+O"
    ),
    ActionSpec("&View", "Show &masked values", "toggle_unmask"),
    ActionSpec("&View", "-", ""),
    ActionSpec("&View", "", "menu:view"),
    ActionSpec("&Help", "&About", "about"),
)


def build_menus(window: QMainWindow, specs: tuple[ActionSpec, ...] = SPECS) -> dict[str, QMenu]:
    """Menus and actions from ``specs``; returns the named submenus (filled later)."""
    menus: dict[str, QMenu] = {}
    submenus: dict[str, QMenu] = {}
    bar = window.menuBar()
    for spec in specs:
        menu = menus.get(spec.menu)
        if menu is None:
            menu = menus[spec.menu] = bar.addMenu(spec.menu)
        if spec.slot.startswith("menu:"):
            submenus[spec.slot.removeprefix("menu:")] = menu
        elif spec.text == "-":
            menu.addSeparator()
        elif spec.slot.startswith("submenu:"):
            submenus[spec.slot.removeprefix("submenu:")] = menu.addMenu(spec.text)
        else:
            menu.addAction(make_action(window, spec.text, _slot(window, spec.slot), spec.shortcut))
    return submenus


def make_action(
    window: QMainWindow, text: str, slot: Callable[[], object], shortcut: Shortcut = None
) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(lambda _checked=False: slot())
    window.addAction(action)
    return action


def _slot(window: QMainWindow, path: str) -> Callable[[], object]:
    """``path`` resolved when the action fires: the parts are made after the menus."""

    def call() -> object:
        target: object = window
        for name in path.split("."):
            target = getattr(target, name)
        return target() if callable(target) else None

    return call
