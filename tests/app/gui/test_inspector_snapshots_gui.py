"""The inspector started from snapshots, in the window against the real broker: a
compacted snapshot topic; the timeline begins with the snapshot step, state, blame and
diff follow it, unusable snapshots are said and skipped, and following a live topic and
as-of mode keep working with the toggle on; masked fields never show."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import loaded, must, pump_until, shown_state
from kafka_helpers import Rec, produce
from PySide6.QtWidgets import QApplication
from test_corrections_gui import action, shot  # the Replay tests' menu finder, picture

from app.audit.as_of import AsOf
from app.gui.launch import build_window
from app.gui.main_window import MainWindow
from app.gui.settings import Settings
from app.masking.masker import Masker
from app.masking.rules import MaskingRules

pytestmark = pytest.mark.kafka
T0 = 1_700_000_000_000
ACCOUNTS = ["acc-0", "acc-1", "acc-2", "acc-3"]
GOOD, WRONG, AHEAD, BROKEN = ACCOUNTS
EVENTS = 6  # per account

FOLDS = """
from app.folds import Snapshot, fold, snapshots

@fold("ledger", topics=["ledger-*"])
def ledger(state, event):
    state = dict(state or {"balance": 0, "moves": 0})
    state["balance"] += event.data["amount"]
    state["moves"] += 1
    return state

@snapshots("SNAPSHOT_TOPIC", for_topics=["ledger-*"])
def account_snapshot(record):
    return Snapshot(record.data["state"], events=record.data["version"])
"""


def amount(account: int, n: int) -> int:
    return 10 * (account + 1) + n


def state_after(account: int, n: int, start: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fold's state after events ``len(start's moves)..n-1`` applied to ``start``."""
    state = dict(start or {"balance": 0, "moves": 0})
    for i in range(state["moves"], n):
        state["balance"] += amount(account, i)
        state["moves"] += 1
    return state


def snapshot(acc: str, version: int, state: dict[str, Any] | None = None) -> Rec:
    """Written half a second after the event it covers (as-of mode looks at this)."""
    i = ACCOUNTS.index(acc)
    body = {"version": version, "state": state or {**state_after(i, version), "owner": "Ada"}}
    written = T0 + (version - 1) * 1000 + 500
    return Rec(json.dumps(body).encode(), acc.encode(), timestamp_ms=written)


@dataclass
class Ledger:
    topic: str
    snapshots: str
    folds: Path
    wrong: dict[str, Any]


@pytest.fixture(scope="module")
def ledger(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    from confluent_kafka.admin import AdminClient, NewTopic

    stamp = time.time_ns() % 10**9
    topic, snaps = f"ledger-{stamp}", f"ledger-snapshots-{stamp}"
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    compacted = {"cleanup.policy": "compact", "segment.ms": "100",
                 "min.cleanable.dirty.ratio": "0.01"}  # fmt: skip
    futures = admin.create_topics([NewTopic(topic, 1, 1), NewTopic(snaps, 1, 1, config=compacted)])
    for fut in futures.values():
        fut.result(30)
    produce(kafka_bootstrap, topic, [
        Rec(json.dumps({"eventType": "Moved", "amount": amount(i, n)}).encode(), acc.encode(),
            timestamp_ms=T0 + n * 1000 + i)
        for n in range(EVENTS) for i, acc in enumerate(ACCOUNTS)
    ])  # fmt: skip
    wrong = {**state_after(1, 4), "owner": "Bob"}
    wrong["balance"] += 1000  # the snapshot written wrong: the inspector shows what it says
    produce(kafka_bootstrap, snaps, [
        snapshot(GOOD, 4), snapshot(WRONG, 4, wrong), snapshot(AHEAD, 2), snapshot(AHEAD, 99),
        Rec(json.dumps({"state": {}}).encode(), BROKEN.encode(), timestamp_ms=T0 + 500),
    ])  # fmt: skip
    folds = tmp_path_factory.mktemp("folds") / "ledger_folds.py"
    folds.write_text(FOLDS.replace("SNAPSHOT_TOPIC", snaps))
    yield Ledger(topic, snaps, folds, wrong)
    admin.delete_topics([topic, snaps])


@pytest.fixture
def window(
    qapp: QApplication, kafka_bootstrap: str, ledger: Ledger, tmp_path: Path
) -> Iterator[MainWindow]:
    args = argparse.Namespace(bootstrap=kafka_bootstrap, x_options=[], config=None, registry=None,
                              registry_auth=None, file=None, folds=[])  # fmt: skip
    win = build_window(args, Settings(tmp_path / "s.ini"), use_user_folds=False)
    win.resize(1500, 950)
    win.show()
    try:
        win.folds.add(ledger.folds, remember=False)
        win.inspector_ctl.set_registry(win.folds.registry)
        pump_until(lambda: ledger.topic in win.cluster_tree.topic_names(), 60)
        win.activate_topic(ledger.topic)
        pump_until(lambda: loaded(win) and win.topic_view.topic == ledger.topic, 60)
        yield win
    finally:
        win.close()
        win.deleteLater()


def inspect(window: MainWindow, acc: str, nth: int = -1) -> None:
    """Select the account's ``nth`` event in the table (the inspector follows)."""
    index = must(window.topic_view.index)
    assert window.topic_view.select_row_id(int(index.rows_for_aggregate(acc)[nth]), scroll=True)


def timeline_types(window: MainWindow) -> list[str]:
    return [ref.type for ref in window.inspector.timeline_model.refs]


def switch_on(window: MainWindow, acc: str, steps: int) -> None:
    """From the Replay menu; waits for the timeline of ``steps`` steps."""
    box = must(window.inspector_ctl.snapshots).box
    assert box.isVisible() and not box.isChecked()
    action(window, "Inspector from snapshots").trigger()
    assert box.isChecked()
    pump_until(lambda: window.inspector.aggregate == acc and window.inspector.step_count == steps)


def test_the_inspector_starts_from_the_latest_usable_snapshot(
    window: MainWindow, ledger: Ledger, tmp_path: Path
) -> None:
    inspect(window, GOOD)
    pump_until(lambda: window.inspector.step_count == EVENTS)
    assert "snapshot" not in " ".join(timeline_types(window))
    switch_on(window, GOOD, 1 + EVENTS - 4)
    assert timeline_types(window) == ["snapshot v4", "Moved", "Moved"]
    label = window.inspector.aggregate_label.text()
    assert label.startswith(f"{GOOD}  ·  from snapshot v4 (p0@0), then 2 events"), label
    assert f"({ledger.snapshots})" in window.inspector.note.text()

    last = shown_state(window, 2)
    assert last.state == {**state_after(0, EVENTS), "owner": "Ada"}
    snap_ref = window.inspector.timeline_model.refs[0]
    assert last.blame["owner"] is not None and last.blame["owner"].type == "snapshot v4"
    assert (last.blame["balance"].offset, last.blame["balance"].type) != (0, "snapshot v4")
    assert last.blame["balance"].type == "Moved"

    first = shown_state(window, 0)
    assert first.state == {**state_after(0, 4), "owner": "Ada"}
    assert first.changed == {"balance", "moves", "owner"}
    assert {ref.type for ref in first.blame.values()} == {"snapshot v4"}
    assert all(ref.offset == snap_ref.offset for ref in first.blame.values())
    assert "covering 4 events" in window.inspector.state_title.text()

    # The diff from the snapshot to the last step: the two later events' changes.
    window.inspector.diff_from.setValue(1)
    window.inspector.diff_to.setValue(3)
    window.inspector.diff_button.click()
    tree = window.inspector.diff_tree
    pump_until(lambda: tree.topLevelItemCount() > 0)
    changes = {tree.topLevelItem(i).text(1): tree.topLevelItem(i).text(3)  # type: ignore[union-attr]
               for i in range(tree.topLevelItemCount())}  # fmt: skip
    assert changes == {"balance": str(state_after(0, EVENTS)["balance"]), "moves": str(EVENTS)}

    # An event inside the snapshot: the snapshot step shows it.
    inspect(window, GOOD, 1)
    pump_until(lambda: window.inspector.step == 0)
    window.panes.inspector_dock.show()
    window.inspector.tabs.setCurrentIndex(0)  # the state, with what set each field
    QApplication.processEvents()
    shot(window, "inspector-snapshot.png", tmp_path)

    # The snapshot written wrong is what the state starts from, and says so by its blame.
    inspect(window, WRONG)
    pump_until(lambda: window.inspector.aggregate == WRONG and window.inspector.step_count == 3)
    got = shown_state(window, 2)
    assert got.state == state_after(1, EVENTS, ledger.wrong)
    assert got.state["balance"] != state_after(1, EVENTS)["balance"]


def test_unusable_snapshots_are_said_and_the_replay_falls_back(
    window: MainWindow, ledger: Ledger
) -> None:
    inspect(window, AHEAD)
    pump_until(lambda: window.inspector.step_count == EVENTS)
    switch_on(window, AHEAD, 1 + EVENTS - 2)  # v99 is ahead: v2 is used
    note = window.inspector.note.text()
    assert "Not used: snapshot v99" in note and "ahead of the history" in note
    assert "from snapshot v2" in window.inspector.aggregate_label.text()
    assert shown_state(window, EVENTS - 2).state == {**state_after(2, EVENTS), "owner": "Ada"}

    inspect(window, BROKEN)
    pump_until(lambda: window.inspector.aggregate == BROKEN and "adapter" in (
        window.inspector.note.text()))  # fmt: skip
    note = window.inspector.note.text()
    assert "ledger_folds.py) failed: KeyError" in note
    assert "no usable snapshot" in note.lower()
    assert window.inspector.step_count == EVENTS and "snapshot" not in " ".join(
        timeline_types(window)
    )
    assert "from snapshot" not in window.inspector.aggregate_label.text()
    assert shown_state(window, EVENTS - 1).state == state_after(3, EVENTS)


def test_as_of_mode_and_following_with_snapshots(
    window: MainWindow, ledger: Ledger, kafka_bootstrap: str
) -> None:
    inspect(window, GOOD)
    pump_until(lambda: window.inspector.step_count == EVENTS)
    switch_on(window, GOOD, 3)
    # As of just after the 5th event: the snapshot (written after the 4th), then 1 event.
    window.inspector_ctl.set_as_of(AsOf.moment(T0 + 4 * 1000 + 100))
    pump_until(lambda: window.inspector.step_count == 2)
    assert timeline_types(window) == ["snapshot v4", "Moved"]
    assert shown_state(window, 1).state == {**state_after(0, 5), "owner": "Ada"}
    # As of just before the snapshot was written: nothing to start from yet.
    window.inspector_ctl.set_as_of(AsOf.moment(T0 + 3 * 1000 + 100))
    pump_until(lambda: window.inspector.step_count == 4)
    assert "snapshot" not in " ".join(timeline_types(window))
    assert "no usable snapshot" in window.inspector.note.text().lower()
    window.inspector_ctl.set_as_of(None)
    pump_until(lambda: window.inspector.step_count == 3)

    assert window.topics.toggle_follow()
    try:
        pump_until(lambda: window.topics.follows.is_live(ledger.topic), 60)
        body = json.dumps({"eventType": "Moved", "amount": 500}).encode()
        produce(kafka_bootstrap, ledger.topic, [Rec(body, GOOD.encode())])
        pump_until(lambda: window.inspector.step_count == 4, 30)
        assert timeline_types(window) == ["snapshot v4", "Moved", "Moved", "Moved"]
        expected = {**state_after(0, EVENTS), "owner": "Ada"}
        expected["balance"] += 500
        expected["moves"] += 1
        pump_until(lambda: window.inspector.step == 3, 30)
        assert shown_state(window, 3).state == expected
        assert "then 3 events" in window.inspector.aggregate_label.text()
    finally:
        window.topics.toggle_follow(ledger.topic)


def test_masked_fields_of_a_snapshot_never_show(window: MainWindow, ledger: Ledger) -> None:
    window.masking.set(Masker(MaskingRules(fields=("owner", "balance"))))
    try:
        inspect(window, WRONG)
        pump_until(lambda: window.inspector.step_count == EVENTS)
        switch_on(window, WRONG, 3)
        for step, events in ((0, 4), (2, EVENTS)):
            view = shown_state(window, step)
            texts = [item.text(1) for item in window.inspector.state_tree.items()]
            texts += [str(view.state), window.inspector.state_title.text()]
            balance = str(state_after(1, events, ledger.wrong)["balance"])
            assert any(str(events) == t for t in texts)  # moves: not masked
            assert not any("Bob" in t or balance in t for t in texts), texts
    finally:
        window.masking.set(Masker())


def test_trace_and_audit_report_of_the_snapshot_step_use_the_event_it_stands_for(
    window: MainWindow, ledger: Ledger
) -> None:
    # The snapshot step's own record is on the snapshot topic: tracing it on the event
    # topic, or reporting as of its write time, would be about another event.
    index = must(window.topic_view.index)
    events = len(index.rows_for_aggregate(GOOD))  # more than EVENTS once a test followed
    inspect(window, GOOD)
    pump_until(lambda: window.inspector.step_count == events)
    switch_on(window, GOOD, 1 + events - 4)
    shown_state(window, 0)
    last_covered = index.ref(int(index.rows_for_aggregate(GOOD)[3]))  # v4: its 4th event
    traced: list[tuple[str, int, int]] = []
    tracer = window.tracing.tracer
    original = tracer.trace_event
    tracer.trace_event = lambda *where: traced.append(where)  # type: ignore[method-assign]
    try:
        window.tracing.trace_inspected()
    finally:
        tracer.trace_event = original  # type: ignore[method-assign]
    assert traced == [(ledger.topic, last_covered.partition, last_covered.offset)]
    target = window.auditing._target()
    assert target == (GOOD, AsOf.moment(last_covered.timestamp_ms))
