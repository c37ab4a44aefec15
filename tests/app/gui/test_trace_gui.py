"""Trace and health in the window, on the bundled demo data: the Health panel finds the
demo's saga faults, a finding's event is traced across three topics, and the events
either one names can be selected in the window's table."""

from __future__ import annotations

from typing import Any

from gui_helpers import must, pump_until
from pytestqt.qtbot import QtBot

from app.gui.trace_jobs import HealthController, TraceController, health_config, row_at
from app.health.findings import Kind
from resources.demo.checkout import SAGA_ENDS, SAGA_STARTS
from widgets.health_panel import HealthPanel, HealthRequest
from widgets.trace_view import TraceView


def test_health_then_trace_on_the_demo(qtbot: QtBot, window: Any) -> None:
    pump_until(lambda: not window.loader.reading)
    panel = HealthPanel()
    qtbot.addWidget(panel)
    HealthController(window.workers, panel, lambda: window.loader.dataset,
                     lambda: window.folds.registry, parent=panel)  # fmt: skip
    panel.set_saga_types("|".join(SAGA_STARTS), "|".join(SAGA_ENDS))
    panel.request_check()
    pump_until(lambda: panel.report is not None, timeout=180)
    report = must(panel.report)
    kinds = [f.kind for f in report.findings]
    for kind in (Kind.BROKEN_CAUSATION, Kind.UNFINISHED_SAGA, Kind.DUPLICATE_EVENT_ID,
                 Kind.VERSION_GAP):  # fmt: skip
        assert kinds.count(kind) == 1, kind
    assert sorted(report.topics) == sorted(window.loader.dataset.indexes)

    broken = next(f for f in report.findings if f.kind is Kind.BROKEN_CAUSATION)
    view = TraceView()
    qtbot.addWidget(view)
    controller = TraceController(window.workers, view, lambda: window.loader.dataset, parent=view)
    controller.trace_event(broken.topic, must(broken.partition), must(broken.offset))
    pump_until(lambda: view.trace is not None, timeout=120)
    trace = must(view.trace)
    assert {trace.topic_name(n) for n in range(len(trace))} == {"orders", "payments", "shipments"}
    assert int(trace.broken.sum()) == 1
    focus = must(view.selected_node())
    assert trace.position(focus).offset == broken.offset and trace.broken[focus]

    # What the window does with event_activated / finding_activated: show that event.
    with qtbot.waitSignal(view.event_activated) as got:
        view.tree.doubleClicked.emit(view.tree.currentIndex())
    topic, partition, offset = got.args
    window.activate_topic(topic)
    row = must(row_at(window.loader.dataset.index(topic), partition, offset))
    assert window.topic_view.select_row_id(row)
    selected = window.topic_view.selected_events()
    assert [(e.topic, e.partition, e.offset) for e in selected] == [(topic, partition, offset)]


def test_bad_saga_fields_are_said_in_the_panel(qtbot: QtBot, window: Any) -> None:
    panel = HealthPanel()
    qtbot.addWidget(panel)
    HealthController(window.workers, panel, lambda: window.loader.dataset, parent=panel)
    panel.set_saga_types("OrderPlaced", "OrderShipped", "soon")
    panel.request_check()
    assert "not a duration" in panel.summary.text() and panel.check_button.isEnabled()
    assert health_config(HealthRequest("", "A|B", "36")).saga_window_ms == 36 * 3_600_000


def test_nothing_open_is_said_not_crashed(qtbot: QtBot, window: Any) -> None:
    view = TraceView()
    qtbot.addWidget(view)
    TraceController(window.workers, view, lambda: None).trace_event("orders", 0, 0)
    assert "Open a file or a topic first" in view.header.text()
