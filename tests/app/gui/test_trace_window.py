"""Trace and Health reached from the main window on the demo data: Go > Trace (its
shortcut, the table's context menu, the Aggregate timeline's context menu), Topic >
Check stream health with the demo's saga types, a finding or a traced event shown in the
table, and masking: ids from masked fields never reach either view."""

from __future__ import annotations

import re
from typing import Any

import pytest
from gui_helpers import must, pump_until
from PySide6.QtCore import QAbstractItemModel, QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu

from app.gui.tracing import HEALTH_ACTION, INSPECTOR_TRACE, TRACE_ACTION
from app.health.findings import Kind
from app.masking.masker import Masker
from app.masking.rules import MaskingRules
from resources.demo.checkout import SAGA_ENDS, SAGA_STARTS

ID_FIELDS = ("eventId", "correlationId", "causationId")
MASKED = tuple(f for name in ID_FIELDS for f in (name, f"header:{name}"))


def action(window: Any, text: str) -> QAction:
    return next(a for a in window.actions() if a.text() == text)


def model_text(model: QAbstractItemModel | None) -> str:
    model = must(model)
    roles = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole)
    return "\n".join(
        str(model.data(model.index(r, c), role))
        for r in range(model.rowCount())
        for c in range(model.columnCount())
        for role in roles
    )


def ids_in(text: str) -> set[str]:
    """Event ids (ORD-200013.2) and correlation ids (chk-300013) in ``text``."""
    return set(re.findall(r"\b(?:[A-Z]{3}-[0-9]+\.[0-9]+|chk-[0-9]+)\b", text))


def select(window: Any, topic: str, row: int) -> None:
    window.activate_topic(topic)
    pump_until(lambda: window.topic_view.topic == topic and window.topic_view.index is not None)
    assert window.topic_view.select_row_id(row, scroll=True)


def traced(window: Any) -> Any:
    view = window.tracing.view
    pump_until(lambda: view.trace is not None and view.tree_model is not None, timeout=120)
    return must(view.trace)


def test_trace_from_the_menu_shortcut_table_and_inspector(qtbot: Any, window: Any) -> None:
    tracing = window.tracing
    trace_action = action(window, TRACE_ACTION)
    assert trace_action.shortcut().toString() == "Ctrl+Shift+T"
    # The shortcut, with the focus in the table, traces its selected event.
    select(window, "shipments", 3)
    selected = window.topic_view.selected_events()[0]
    window.windowHandle().requestActivate()
    assert QTest.qWaitForWindowActive(window, 5000)
    window.table.setFocus()
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    QTest.keyClick(window.table, Qt.Key.Key_T, ctrl_shift)
    trace = traced(window)
    focus = must(tracing.view.selected_node())
    assert trace.topic_name(focus) == "shipments"
    assert trace.position(focus).offset == selected.offset

    # The table's context menu offers the same action.
    tracing.view.clear()
    select(window, "payments", 5)
    window.table._context_menu(QPoint(10, 10))
    menu = next(m for m in window.table.findChildren(QMenu) if m.isVisible())
    assert trace_action in menu.actions()
    menu.close()

    trace_action.trigger()
    trace = traced(window)
    assert tracing.trace_dock.isVisible()
    first = window.topic_view.selected_events()[0]
    focus = must(tracing.view.selected_node())
    assert trace.position(focus).offset == first.offset
    assert trace.topic_name(focus) == "payments"
    assert {trace.topic_name(n) for n in range(len(trace))} >= {"orders", "payments"}

    # The Aggregate timeline's context menu traces the event it shows.
    timeline = window.inspector.timeline
    pump_until(lambda: window.inspector.step >= 0 and window.inspector_ctl.replayer is not None)
    from_inspector = next(a for a in timeline.actions() if a.text() == INSPECTOR_TRACE)
    assert timeline.contextMenuPolicy() == Qt.ContextMenuPolicy.ActionsContextMenu
    tracing.view.clear()
    step = window.inspector.step
    ref = must(window.inspector_ctl.replayer).ref(step)
    from_inspector.trigger()
    trace = traced(window)
    node = must(tracing.view.selected_node())
    assert trace.position(node).offset == ref.offset and trace.topic_name(node) == "payments"

    # Double-clicking a traced event shows it in the table.
    with qtbot.waitSignal(tracing.view.event_activated) as got:
        tracing.view.tree.doubleClicked.emit(tracing.view.tree.currentIndex())
    topic, partition, offset = got.args
    pump_until(
        lambda: window.topic_view.topic == topic and bool(window.topic_view.selected_events())
    )
    ev = window.topic_view.selected_events()[0]
    assert (ev.topic, ev.partition, ev.offset) == (topic, partition, offset)


def test_health_from_the_menu_on_the_demo(qtbot: Any, window: Any) -> None:
    tracing = window.tracing
    health = action(window, HEALTH_ACTION)
    assert health.shortcut().toString() == "Ctrl+Shift+H"
    health.trigger()
    assert tracing.health_dock.isVisible()
    request = tracing.panel.request()
    assert (request.saga_starts, request.saga_ends) == ("|".join(SAGA_STARTS), "|".join(SAGA_ENDS))
    pump_until(lambda: tracing.panel.report is not None, timeout=240)
    report = must(tracing.panel.report)
    kinds = [f.kind for f in report.findings]
    for kind in (Kind.BROKEN_CAUSATION, Kind.UNFINISHED_SAGA, Kind.DUPLICATE_EVENT_ID,
                 Kind.VERSION_GAP):  # fmt: skip
        assert kinds.count(kind) == 1, kind
    # A click on a finding shows its event in the table.
    view_row = next(r for r in range(tracing.panel.proxy.rowCount())
                    if must(tracing.panel.finding_at(r)).kind is Kind.VERSION_GAP)  # fmt: skip
    finding = must(tracing.panel.finding_at(view_row))
    tracing.panel.table.selectRow(view_row)
    pump_until(lambda: window.topic_view.topic == finding.topic
               and bool(window.topic_view.selected_events()))  # fmt: skip
    ev = window.topic_view.selected_events()[0]
    assert (ev.partition, ev.offset) == (finding.partition, finding.offset)


@pytest.fixture
def masked_ids(window: Any) -> Any:
    window.masking.set(Masker(MaskingRules(MASKED)))
    yield window
    window.masking.set(Masker())


def test_masked_ids_never_reach_the_trace_or_health_views(masked_ids: Any) -> None:
    window = masked_ids
    tracing = window.tracing
    tracing.panel.set_saga_types("|".join(SAGA_STARTS), "|".join(SAGA_ENDS))
    tracing.check_health()
    pump_until(lambda: tracing.panel.report is not None, timeout=240)
    report = must(tracing.panel.report)
    shown = model_text(tracing.panel.model) + tracing.panel.summary.text()
    assert "[masked]" in shown and ids_in(shown) == set()
    assert [f.kind for f in report.findings].count(Kind.BROKEN_CAUSATION) == 1
    broken = next(f for f in report.findings if f.kind is Kind.BROKEN_CAUSATION)
    tracing.trace(broken.topic, must(broken.partition), must(broken.offset))
    trace = traced(window)
    assert int(trace.broken.sum()) == 1 and len(trace) > 2
    view = tracing.view
    must(view.tree_model)
    view.tree.expandAll()
    QApplication.processEvents()
    shown = "\n".join((view.header.text(), model_text(view.tree_model),
                       model_text(view.timeline_model)))  # fmt: skip
    assert "[masked]" in shown and ids_in(shown) == set()

    # Masking lifted: what was shown masked is cleared, and a new trace shows the ids.
    window.masking.set(Masker())
    assert view.trace is None and tracing.panel.report is None
    tracing.trace(broken.topic, must(broken.partition), must(broken.offset))
    traced(window)
    assert ids_in(model_text(view.timeline_model))
