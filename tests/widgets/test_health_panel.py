"""The Health panel on its own: findings shown, filtered by severity, sorted; a click
says which event to select; the saga fields travel with the request."""

from __future__ import annotations

from gui_helpers import must
from pytestqt.qtbot import QtBot

from app.health.check import HealthReport
from app.health.findings import Finding, Kind, Other, Severity
from widgets.health_panel import HealthPanel, HealthRequest

FINDINGS = [
    Finding(Kind.UNDECODABLE, Severity.ERROR, "orders", None, 2, 17, "invalid JSON"),
    Finding(Kind.DUPLICATE_EVENT_ID, Severity.WARNING, "payments", "PAY-1", 0, 5,
            "event id 'PAY-1.1' also at p0@4", Other("payments", 0, 4)),
    Finding(Kind.UNHANDLED_TYPE, Severity.INFO, "orders", "ORD-9", 1, 3, "no fold handles X"),
]  # fmt: skip


def panel_with_report(qtbot: QtBot) -> HealthPanel:
    panel = HealthPanel()
    qtbot.addWidget(panel)
    panel.show_report(HealthReport(FINDINGS, ["orders: event ids: field:eventId"],
                                   ["orders", "payments"], 1234))  # fmt: skip
    return panel


def test_findings_and_summary(qtbot: QtBot) -> None:
    panel = panel_with_report(qtbot)
    table = panel.table.model()
    assert table.rowCount() == 3
    assert [table.index(r, 1).data() for r in range(3)] == [
        "undecodable", "duplicate_event_id", "unhandled_type",
    ]  # fmt: skip
    assert table.index(1, 5).data() == "5" and table.index(0, 3).data() == ""
    assert "1,234 events in orders, payments: 3 findings" in panel.summary.text()
    assert panel.notes.toPlainText() == "orders: event ids: field:eventId"


def test_severity_filter_and_sorting_keep_the_right_finding(qtbot: QtBot) -> None:
    panel = panel_with_report(qtbot)
    panel.level.setCurrentIndex(1)  # warnings and errors
    assert panel.table.model().rowCount() == 2
    panel.level.setCurrentIndex(2)  # errors
    assert [must(panel.finding_at(r)).kind for r in range(panel.table.model().rowCount())] == [
        Kind.UNDECODABLE
    ]
    panel.level.setCurrentIndex(0)
    panel.table.sortByColumn(2, panel.table.horizontalHeader().sortIndicatorOrder())  # topic
    topics = [must(panel.finding_at(r)).topic for r in range(3)]
    assert topics == sorted(topics)


def test_a_click_asks_for_the_event(qtbot: QtBot) -> None:
    panel = panel_with_report(qtbot)
    with qtbot.waitSignal(panel.finding_activated) as got:
        panel.table.clicked.emit(panel.table.model().index(1, 0))
    assert got.args == ["payments", 0, 5]


def test_the_request_carries_the_saga_fields(qtbot: QtBot) -> None:
    panel = HealthPanel()
    qtbot.addWidget(panel)
    panel.set_saga_types("OrderPlaced", "OrderShipped|OrderCancelled", "36h")
    with qtbot.waitSignal(panel.check_requested) as got:
        panel.check_button.click()
    assert got.args == [HealthRequest("OrderPlaced", "OrderShipped|OrderCancelled", "36h")]
    panel.show_running("Checking…")
    assert not panel.check_button.isEnabled()
    panel.show_error("no")
    assert panel.check_button.isEnabled() and "no" in panel.summary.text()
