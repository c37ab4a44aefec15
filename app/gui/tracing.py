"""Trace and Health in the main window: their docks, the ways in, and the way back.

* **Trace** (Go > Trace event across topics, Ctrl+Shift+T; the table's context menu; the
  Aggregate timeline's context menu) traces the selected event, or the inspector's
  event, into the Trace dock.
* **Health** (Topic > Check stream health, Ctrl+Shift+H) checks every topic read so far
  into the Health dock; on the bundled demo its saga types are filled in.
* A double-click on a traced event or a finding shows that event in the table (as the
  search box does), and both views mask ids as the window masks values: a change of
  masking clears what they show, so nothing shown unmasked stays on screen.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu

from app.gui.fold_files import FoldFiles
from app.gui.id_rules import IdRulesChoice
from app.gui.inspector import InspectorController
from app.gui.layout import Panes
from app.gui.loader import Loader
from app.gui.masking_view import Masking
from app.gui.search_view import SearchController
from app.gui.topic_view import TopicView
from app.gui.trace_jobs import HealthController, TraceController
from app.gui.worker import Workers
from app.masking.masker import Masker
from app.replay.snapshot_replay import topic_event_of
from app.sources import FileSource
from resources import demo_path
from widgets.aggregate_inspector import AggregateInspector
from widgets.event_table_view import EventTable
from widgets.health_panel import HealthPanel
from widgets.trace_view import TraceView

TRACE_ACTION = "&Trace event across topics"
HEALTH_ACTION = "Check stream &health"
INSPECTOR_TRACE = "Trace this event across topics"
NOTHING_SELECTED = "Select an event in the table (or the Aggregate timeline) to trace it."
SNAPSHOT_STEP = "The snapshot step covers no event of the topic: select one of its events to trace."


class Window(Protocol):
    """What this needs of the main window (a protocol: the window imports this module)."""

    workers: Workers
    loader: Loader
    folds: FoldFiles
    panes: Panes
    table: EventTable
    topic_view: TopicView
    inspector: AggregateInspector
    inspector_ctl: InspectorController
    search: SearchController
    masking: Masking
    id_rules: IdRulesChoice


class Tracing(QObject):
    def __init__(self, window: Window, view_menu: QMenu) -> None:
        main = window.panes.inspector_dock.parentWidget()
        assert isinstance(main, QMainWindow)  # the docks' window is the main window
        super().__init__(main)
        self.window, self.main = window, main
        self.view = TraceView()
        self.panel = HealthPanel()
        self.trace_dock = self._dock("Trace", "traceDock", self.view)
        self.health_dock = self._dock("Health", "healthDock", self.panel)
        for dock in (self.trace_dock, self.health_dock):
            view_menu.addAction(dock.toggleViewAction())
        dataset = lambda: window.loader.dataset  # noqa: E731
        rules = window.id_rules.book  # Topic > Trace and health ids…
        self.tracer = TraceController(window.workers, self.view, dataset, rules, parent=self)
        self.health = HealthController(
            window.workers, self.panel, dataset, lambda: window.folds.registry, rules, parent=self
        )
        self.tracer.masker = self.health.masker = self._masker
        self.view.event_activated.connect(window.search.open_position)
        self.panel.finding_activated.connect(window.search.open_position)
        window.masking.changed.connect(self._masking_changed)
        self._menu_ways_in()

    def _dock(self, title: str, name: str, widget: TraceView | HealthPanel) -> QDockWidget:
        main, inspector_dock = self.main, self.window.panes.inspector_dock
        dock = QDockWidget(title, main)
        dock.setObjectName(name)  # saveState() needs names
        dock.setWidget(widget)
        main.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        main.tabifyDockWidget(inspector_dock, dock)
        inspector_dock.raise_()  # the inspector stays in front at start
        return dock

    def _menu_ways_in(self) -> None:
        """The menu's Trace action in the table's context menu (one action, one shortcut),
        and a Trace item in the Aggregate timeline's."""
        window = self.window
        trace = next(a for a in self.main.actions() if a.text() == TRACE_ACTION)
        window.table.context_actions.append(trace)
        timeline = window.inspector.timeline
        from_inspector = QAction(INSPECTOR_TRACE, timeline)
        from_inspector.triggered.connect(lambda _checked=False: self.trace_inspected())
        timeline.addAction(from_inspector)
        timeline.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

    def _masker(self) -> Masker:
        return self.window.masking.masker

    # --- the ways in ---------------------------------------------------------------------

    def trace_selected(self) -> None:
        """The menu and shortcut: the inspector's event when its timeline has the focus,
        else the table's (first) selected event."""
        if self.window.inspector.timeline.hasFocus():
            self.trace_inspected()
            return
        events = self.window.topic_view.selected_events()
        if not events:
            self._show_trace_dock()
            self.view.show_message(NOTHING_SELECTED)
            return
        ev = events[0]
        self.trace(ev.topic, ev.partition, ev.offset)

    def trace_inspected(self) -> None:
        """The event the Aggregate timeline shows."""
        ctl, step = self.window.inspector_ctl, self.window.inspector.step
        replayer = ctl.replayer
        if replayer is None or ctl.topic is None or not 0 <= step < len(replayer):
            self._show_trace_dock()
            self.view.show_message(NOTHING_SELECTED)
            return
        ref = topic_event_of(replayer, ctl.index, step) if ctl.index is not None else None
        if ref is None:  # a snapshot step that covers no event of the topic
            self._show_trace_dock()
            self.view.show_message(SNAPSHOT_STEP)
            return
        self.trace(ctl.topic, ref.partition, ref.offset)

    def trace(self, topic: str, partition: int, offset: int) -> None:
        self._show_trace_dock()
        self.tracer.trace_event(topic, partition, offset)

    def check_health(self) -> None:
        self.health_dock.show()
        self.health_dock.raise_()
        self._demo_sagas()
        self.health.check()

    # --- helpers -------------------------------------------------------------------------

    def _show_trace_dock(self) -> None:
        self.trace_dock.show()
        self.trace_dock.raise_()

    def _demo_sagas(self) -> None:
        """On the bundled demo, the saga types its checkout uses (when none are given)."""
        dataset = self.window.loader.dataset
        request = self.panel.request()
        if dataset is None or request.saga_ends.strip():
            return
        source = dataset.source
        if isinstance(source, FileSource) and source.path.resolve() == demo_path().resolve():
            from resources.demo.checkout import SAGA_ENDS, SAGA_STARTS

            self.panel.set_saga_types("|".join(SAGA_STARTS), "|".join(SAGA_ENDS))

    def _masking_changed(self, _masker: Masker) -> None:
        if self.view.trace is not None:
            self.view.clear()
            self.view.show_message("Masking changed: trace the event again.")
        if self.panel.report is not None:
            self.panel.clear("Masking changed: check again.")
