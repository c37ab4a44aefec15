"""The Replay menu in the window, on the demo data: compare two folds (both states side by
side where they part), event versions per type, the detail pane's Upcasted tab, and a
snapshot check of an event file; masked values stay hidden in each."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import loaded, must, pump_until
from PySide6.QtCore import QDateTime, QTimeZone
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMenu

from app.gui.corrections_dialog import CompareDialog
from app.gui.launch import build_window
from app.gui.main_window import MainWindow
from app.gui.settings import Settings
from app.masking.masker import Masker
from app.masking.rules import MaskingRules
from widgets.corrections_panel import CorrectionsPanel

FOLDS = Path(__file__).resolve().parents[3] / "resources" / "folds"


def shot(widget: Any, name: str, tmp_path: Path) -> None:
    """The picture, looked at by eye; EVENT_EXPLORER_SCREENSHOTS=resources/screenshots
    remakes the README's."""
    folder = Path(os.environ.get("EVENT_EXPLORER_SCREENSHOTS") or tmp_path)
    image = widget.grab()
    assert not image.isNull() and image.width() > 800
    assert image.save(str(folder / name))


def action(window: MainWindow, text: str) -> QAction:
    for menu in window.menuBar().findChildren(QMenu):
        for act in menu.actions():
            if act.text().replace("&", "") == text:
                return act
    raise AssertionError(f"no menu item {text!r}")


def rows(table: Any) -> list[list[str]]:
    return [
        [must(table.item(r, c)).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def wait_idle(panel: CorrectionsPanel, timeout: float = 120) -> None:
    pump_until(lambda: not panel.progress.isVisible(), timeout)


def test_compare_from_the_menu_lists_exactly_the_changed_accounts(
    window: MainWindow, tmp_path: Path
) -> None:
    changed = tmp_path / "bank_account.py"
    # The change under review: a closed account is now "shut".
    text = (FOLDS / "bank_account.py").read_text()
    assert 'state["status"] = "closed"' in text
    changed.write_text(text.replace('state["status"] = "closed"', 'state["status"] = "shut"'))
    index = must(window.topic_view.index)
    closed = index.type_names.index("AccountClosed")
    expected: dict[str, int] = {}  # account -> the row of its first AccountClosed
    for row in index.log_order().tolist():
        if index.type_col[row] == closed:
            expected.setdefault(str(index.aggregate_of(row)), row)
    assert expected, "the demo closes some accounts"

    action(window, "Compare folds…").trigger()
    dialog = must(window.findChild(CompareDialog))
    loaded_folds = len(dialog.specs)
    dialog.add_folds(window.corrections.choices.folds_in(changed))
    mine = dialog.fold_b.currentIndex()
    assert mine == loaded_folds and dialog.specs[mine].source == str(changed)
    dialog.fold_a.setCurrentIndex(mine)  # A: mine
    dialog.fold_b.setCurrentIndex(0)  # B: the loaded one (what runs now)
    assert dialog.specs[0].name == "bank-account" and dialog.specs[0].source != str(changed)
    dialog.accept()
    panel = window.corrections.panel
    assert window.corrections.dock.isVisible()
    wait_idle(panel)
    listed = rows(panel.compare)
    assert [r[0] for r in listed] == sorted(expected)
    for aggregate, where, kind, _ in listed:
        ref = index.ref(expected[aggregate])
        assert where == f"p{ref.partition}@{ref.offset}" and kind == "AccountClosed"
    assert panel.status.text().startswith(f"{len(expected):,} of ")

    # Clicking one: both states where they part, and the inspector on that event.
    panel.compare.selectRow(0)
    first = listed[0][0]
    pump_until(lambda: panel.state_a.topLevelItemCount() > 0 and first in panel.divergence.text())
    status_a = must(panel.state_a.item_at_path("status")).text(1)
    status_b = must(panel.state_b.item_at_path("status")).text(1)
    assert "shut" in status_a and "closed" in status_b
    pump_until(lambda: window.inspector.aggregate == first, 30)
    pump_until(lambda: window.inspector.state_tree.topLevelItemCount() > 0, 30)
    QApplication.processEvents()
    shot(window, "compare.png", tmp_path)

    # Masked: the differing field's values are nowhere in the panel.
    window.masking.set(Masker(MaskingRules(fields=("status",))))
    try:
        panel.compare.clearSelection()
        panel.compare.selectRow(0)
        pump_until(lambda: panel.state_a.item_at_path("status") is not None)
        for tree in (panel.state_a, panel.state_b):
            texts = [item.text(1) for item in tree.items()]
            assert not any("shut" in t or "closed" in t for t in texts), texts
    finally:
        window.masking.set(Masker())


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_compare_against_a_git_revision_up_to_a_moment(window: MainWindow, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    mine = repo / "bank_account.py"
    text = (FOLDS / "bank_account.py").read_text()
    mine.write_text(text)  # what runs in production: committed
    _git(repo, "init", "-q")
    _git(repo, "add", "bank_account.py")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "prod")
    mine.write_text(text.replace('state["status"] = "closed"', 'state["status"] = "shut"'))
    elsewhere = tmp_path / "elsewhere" / "bank_account.py"
    elsewhere.parent.mkdir()
    elsewhere.write_text(text)
    index = must(window.topic_view.index)
    closed = index.type_names.index("AccountClosed")
    closes = sorted(
        (int(index.timestamp_col[r]), str(index.aggregate_of(r)))
        for r in range(len(index)) if index.type_col[r] == closed
    )  # fmt: skip
    at_ms = closes[len(closes) // 2][0] // 1000 * 1000  # a whole second amid the closings
    expected = sorted({acc for ts, acc in closes if ts <= at_ms})
    assert 0 < len(expected) < len({acc for _, acc in closes})

    action(window, "Compare folds…").trigger()
    dialog = must(window.findChild(CompareDialog))
    choices = window.corrections.choices
    # Bad input: one line in the dialog, nothing else lost.
    for file, revision, said in (
        (elsewhere, "HEAD", "is not in a git work tree"),
        (mine, "no-such-rev", "no git revision 'no-such-rev'"),
        (mine, "", "Give a git revision"),
    ):
        dialog.add_folds(choices.folds_in(file))
        dialog.fold_a.setCurrentIndex(len(dialog.specs) - 1)
        dialog.revision.setText(revision)
        dialog.from_git.click()
        assert said in dialog.problem.text(), dialog.problem.text()
        assert dialog.problem.isVisibleTo(dialog)
    dialog.revision.setText("HEAD")
    dialog.from_git.click()
    assert not dialog.problem.isVisibleTo(dialog), dialog.problem.text()
    label_b = dialog.chosen_labels()[1]
    assert dialog.chosen()[0].source == str(mine)
    assert label_b == "bank-account (bank_account.py@HEAD)"
    dialog.until.setChecked(True)
    dialog.at.setDateTime(QDateTime.fromMSecsSinceEpoch(at_ms, QTimeZone.utc()))
    assert dialog.at_ms == at_ms
    dialog.accept()
    panel = window.corrections.panel
    wait_idle(panel)
    assert [r[0] for r in rows(panel.compare)] == expected
    assert panel.label_b.text() == f"B: {label_b}" and "events up to" in panel.status.text()


def test_versions_and_the_upcasted_tab(window: MainWindow, tmp_path: Path) -> None:
    window.activate_topic("property-listings")
    pump_until(lambda: loaded(window) and window.topic_view.topic == "property-listings")
    index = must(window.topic_view.index)
    counted: dict[tuple[str, str], int] = {}
    old_row = None
    for row in range(len(index)):
        ev = index.event(row)
        version = ev.data.get("eventVersion") if isinstance(ev.data, dict) else None
        key = (ev.type, "(none)" if version is None else str(version))
        counted[key] = counted.get(key, 0) + 1
        if key == ("PropertyListed", "1.0") and old_row is None:
            old_row = row
    assert ("PropertyListed", "2.0") in counted and old_row is not None

    action(window, "Event versions").trigger()
    panel = window.corrections.panel
    wait_idle(panel)
    shown = {(r[0], r[1]): int(r[2].replace(",", "")) for r in rows(panel.versions)}
    assert shown == counted

    # The detail pane: the version, the upcaster that ran and the value after it.
    assert window.topic_view.select_row_id(old_row, scroll=True)
    tab = window.corrections.upcast_tab
    pump_until(lambda: "1.0 → 2.0" in tab.summary.text())
    assert tab.tabs.isTabVisible(tab.position)
    assert "property_listed_v2" in tab.summary.text() or "PropertyListed" in tab.summary.text()
    after = json.loads(tab.upcasted.toPlainText())
    before = json.loads(tab.original.toPlainText())
    assert isinstance(before["address"], str) and after["address"]["street"] == before["address"]
    assert after["price"] == {"amount": before["price"], "currency": "EUR"}
    tab.tabs.setCurrentIndex(tab.position)
    shot(window, "upcasted.png", tmp_path)

    window.masking.set(Masker(MaskingRules(fields=("address",))))
    try:
        window.topic_view.select_row_id(old_row, scroll=True)
        pump_until(lambda: before["address"] not in tab.original.toPlainText())
        for text in (tab.original.toPlainText(), tab.upcasted.toPlainText()):
            assert before["address"] not in text
    finally:
        window.masking.set(Masker())
    window.activate_topic("bank-accounts")
    pump_until(lambda: loaded(window) and window.topic_view.topic == "bank-accounts")


# --------------------------------------------------------------------------- snapshots

ADAPTER = """
from app.folds import Snapshot, snapshots

@snapshots("account-snapshots", for_topics=["bank-*"])
def account_snapshot(record):
    return Snapshot(record.data["state"], events=record.data["version"])
"""


def _line(topic: str, offset: int, aggregate: str, kind: str, data: Any) -> str:
    return json.dumps({
        "topic": topic, "partition": 0, "offset": offset,
        "timestamp": f"2024-01-01T00:00:{offset:02d}Z", "key": aggregate, "type": kind,
        "aggregate": aggregate, "headers": [], "data": data, "schema_id": None, "error": None,
    })  # fmt: skip


@pytest.fixture
def snapshot_file(tmp_path: Path) -> Path:
    """Bank events and their snapshots: ACC-1's right, ACC-2's wrong, ACC-3's deleted."""
    lines, offset = [], 0
    opened = {"owner": "Ann", "currency": "EUR", "initialDeposit": 100}
    for acc in ("ACC-1", "ACC-2", "ACC-3"):
        lines.append(_line("bank-accounts", offset, acc, "AccountOpened", {"payload": opened}))
        offset += 1
        body = {"payload": {"amount": 25}}
        lines.append(_line("bank-accounts", offset, acc, "MoneyDeposited", body))
        offset += 1
    right = {"balance": 125, "transactions": 1, "status": "open"}
    snaps = [("ACC-1", right), ("ACC-2", {**right, "balance": 999}), ("ACC-3", right)]
    for n, (acc, state) in enumerate(snaps):
        data = {"version": 2, "state": state}
        lines.append(_line("account-snapshots", n, acc, "AccountSnapshot", data))
    lines.append(_line("account-snapshots", 3, "ACC-3", "AccountSnapshot", None))
    path = tmp_path / "bank.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_check_snapshots_from_the_menu(qapp: Any, tmp_path: Path, snapshot_file: Path) -> None:
    adapter = tmp_path / "snapshots.py"
    fold = (FOLDS / "bank_account.py").read_text()
    # The snapshots above keep only balance, transactions and status.
    fold = fold.replace(
        "    return state\n",
        "    return {k: state[k] for k in ('balance', 'transactions', 'status')}\n",
    )
    adapter.write_text(fold + ADAPTER)
    settings = Settings(tmp_path / "settings.ini")
    window = build_window(None, settings, use_user_folds=False)
    window.show()
    try:
        window.folds.add(adapter, remember=False)
        window.inspector_ctl.set_registry(window.folds.registry)
        assert window.open_file(snapshot_file)
        pump_until(lambda: loaded(window))
        window.activate_topic("bank-accounts")
        pump_until(lambda: loaded(window) and window.topic_view.topic == "bank-accounts")
        assert window.inspector_ctl.fold_for("bank-accounts").source == str(adapter)
        action(window, "Check snapshots").trigger()
        panel = window.corrections.panel
        wait_idle(panel)
        table = rows(panel.snapshots)
        by_aggregate = {r[1]: r[0] for r in table}
        assert by_aggregate == {"ACC-1": "agrees", "ACC-2": "drift", "ACC-3": "deleted"}
        assert "1 drifted" in panel.status.text() and "1 tombstones" in panel.status.text()
        drift_row = next(i for i, r in enumerate(table) if r[1] == "ACC-2")
        panel.snapshots.selectRow(drift_row)
        assert "balance: events give 125, the snapshot says 999" in (
            panel.snapshot_diff.toPlainText()
        )
        shot(window, "snapshots.png", tmp_path)

        # An aggregate's state started from its snapshot, next to its events' replay.
        index = must(window.topic_view.index)
        for aggregate, same in (("ACC-1", True), ("ACC-2", False)):
            last = int(index.rows_for_aggregate(aggregate)[-1])
            assert window.topic_view.select_row_id(last, scroll=True)
            action(window, "State from snapshot").trigger()
            wait_idle(panel)
            text = panel.snapshot_diff.toPlainText()
            assert f"{aggregate} after event 2: from snapshot v2" in text
            assert "then 0 events" in text
            if same:
                assert "The same as the replay of every event." in text
            else:
                assert "balance: events give 125, from the snapshot 999" in text

        window.masking.set(Masker(MaskingRules(fields=("balance",))))
        text = panel.snapshot_diff.toPlainText()
        assert "balance" in text and "999" not in text and "125" not in text
        panel.snapshots.clearSelection()
        panel.snapshots.selectRow(drift_row)
        text = panel.snapshot_diff.toPlainText()
        assert "balance" in text and "999" not in text and "125" not in text
    finally:
        window.close()
        window.deleteLater()
