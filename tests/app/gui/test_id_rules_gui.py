"""Topic > Trace and health ids… in the window: a file whose ids sit where no common
name finds them traces nothing across topics and shows no version gap, until the ids are
named in the dialog; a bad rule is said in the dialog; the rules are remembered per file
and topic, and the topic is not read again for them."""

from __future__ import annotations

from pathlib import Path

import orjson
from gui_helpers import loaded, must, pump_until
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLineEdit
from pytestqt.qtbot import QtBot

from app.gui.fold_files import FoldFiles
from app.gui.main_window import MainWindow
from app.gui.settings import Settings
from app.gui.trace_jobs import NAME_THE_IDS
from app.health.findings import Kind
from app.trace.rules import IdRules
from widgets.health_panel import HealthRequest
from widgets.id_rules_dialog import IdRulesDialog

RULES = {"event_id": "field:ctx.uid", "correlation": "field:ctx.flow",
         "causation": "field:ctx.origin", "version": "field:rev"}  # fmt: skip


def line(topic: str, offset: int, kind: str, order: str, flow: str, uid: str,
         origin: str | None, rev: int) -> dict[str, object]:  # fmt: skip
    payload = {"eventType": kind, "aggregateId": order, "rev": rev,
               "ctx": {"flow": flow, "uid": uid, "origin": origin}}  # fmt: skip
    return {"topic": topic, "partition": 0, "offset": offset, "ts": 1_757_000_000_000 + offset,
            "key": order, "payload": orjson.dumps(payload).decode()}  # fmt: skip


def saga_file(path: Path) -> Path:
    """Two orders' sagas over orders and payments; order O-2 skips version 2."""
    lines = [
        line("orders", 0, "OrderPlaced", "O-1", "F-1", "u1", None, 1),
        line("payments", 0, "PaymentTaken", "P-1", "F-1", "u2", "u1", 1),
        line("orders", 1, "OrderPaid", "O-1", "F-1", "u3", "u2", 2),
        line("orders", 2, "OrderPlaced", "O-2", "F-2", "u4", None, 1),
        line("orders", 3, "OrderPaid", "O-2", "F-2", "u5", None, 3),
    ]
    path.write_bytes(b"\n".join(orjson.dumps(x) for x in lines) + b"\n")
    return path


def new_window(qtbot: QtBot, settings_path: Path) -> MainWindow:
    window = MainWindow(Settings(settings_path), FoldFiles(use_user_dir=False))
    qtbot.addWidget(window)
    window.show()
    return window


def traced_topics(window: MainWindow, topic: str, offset: int) -> set[str]:
    view = window.tracing.view
    before = view.trace
    window.tracing.tracer.trace_event(topic, 0, offset)
    pump_until(lambda: view.trace is not None and view.trace is not before, 60)
    trace = must(view.trace)
    return {trace.topic_name(n) for n in range(len(trace))}


def version_gaps(window: MainWindow) -> int:
    panel = window.tracing.panel
    before = panel.report
    window.tracing.health.check(HealthRequest())
    pump_until(lambda: panel.report is not None and panel.report is not before, 60)
    return [f.kind for f in must(panel.report).findings].count(Kind.VERSION_GAP)


def fill_dialog(rules: dict[str, str], then_fix: dict[str, str] | None = None) -> list[str]:
    """Answer the dialog the next exec() opens: fill ``rules`` and press OK; with
    ``then_fix``, fill that and press OK again.  Returns the errors the dialog said."""
    said: list[str] = []

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, IdRulesDialog):
            QTimer.singleShot(20, answer)
            return
        buttons = must(dialog.findChild(QDialogButtonBox))
        ok = must(buttons.button(QDialogButtonBox.StandardButton.Ok))
        for fields in (rules, then_fix):
            if fields is None:
                break
            for role, text in fields.items():
                edit = dialog.fields[role]
                assert isinstance(edit, QLineEdit)
                edit.setText(text)
            ok.click()
            said.append(dialog.error.text())
        if dialog.isVisible():
            dialog.reject()

    QTimer.singleShot(0, answer)
    return said


def test_ids_named_in_the_dialog_make_trace_and_health_see_them(
    qtbot: QtBot, tmp_path: Path
) -> None:
    path = saga_file(tmp_path / "checkout.jsonl")
    window = new_window(qtbot, tmp_path / "s.ini")
    window.open_file(path)
    pump_until(lambda: loaded(window), 30)
    # Nothing names these ids: a trace stays on its own topic, no version gap is seen.
    assert traced_topics(window, "orders", 0) == {"orders"}
    header = window.tracing.view.header.text()
    assert "orders has no correlation id" in header and NAME_THE_IDS in header
    assert version_gaps(window) == 0
    index_before = must(window.loader.dataset).index("orders")

    window.activate_topic("orders")
    said = fill_dialog({**RULES, "causation": "field:"}, then_fix=RULES)
    menu_action = next(a for a in window.actions() if a.text() == "Trace and health &ids…")
    menu_action.trigger()  # Topic > Trace and health ids…, on the topic shown
    assert "field:" in said[0] and said[1] == ""  # the bad rule was said, then accepted
    assert window.id_rules.book().for_topic("orders") == IdRules(**RULES)
    assert window.id_rules.book().for_topic("payments") == IdRules()  # each topic its own
    window.id_rules.set_rules("payments", IdRules(**RULES))

    assert traced_topics(window, "orders", 0) == {"orders", "payments"}
    assert version_gaps(window) == 1
    assert must(window.loader.dataset).index("orders") is index_before  # not read again

    # Remembered for this file: a new window traces across topics at once.
    again = new_window(qtbot, tmp_path / "s.ini")
    again.open_file(path)
    pump_until(lambda: loaded(again), 30)
    assert again.id_rules.book().for_topic("orders") == IdRules(**RULES)
    assert traced_topics(again, "payments", 0) == {"orders", "payments"}
