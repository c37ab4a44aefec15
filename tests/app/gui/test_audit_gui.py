"""The GUI's audit pieces on the demo data: the states job run by Workers, the sortable
states table with its exports, and the audit report job."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.audit.as_of import AsOf
from app.audit.states import StatesResult
from app.audit.verify import verify_offline
from app.gui.audit_jobs import AuditDone, audit_report_job, states_job
from app.gui.worker import Workers
from app.index.topic_index import TopicIndex
from app.replay.discovery import discover_folds
from app.replay.folds import FoldSpec
from app.replay.replayer import Replayer
from app.sources import FileSource
from resources import demo_path
from widgets.states_table import StatesTable

TOPIC = "bank-accounts"


@pytest.fixture(scope="module")
def demo_index() -> TopicIndex:
    source = FileSource(demo_path())
    index = TopicIndex(TOPIC, decoder=source.make_decoder())
    for batch in source.read(TOPIC):
        index.append(batch)
    return index


@pytest.fixture(scope="module")
def fold() -> FoldSpec:
    return discover_folds(use_user_dir=False).registry.get("bank-account")


def _midpoint(index: TopicIndex) -> int:
    ts = index.timestamp_col
    return int(ts.min() + (ts.max() - ts.min()) // 3)


def test_states_job_runs_in_a_worker_with_progress(
    qtbot: QtBot, demo_index: TopicIndex, fold: FoldSpec
) -> None:
    workers = Workers(max_threads=1, progress_interval=0.0)
    at = _midpoint(demo_index)
    seen: list[tuple[int, int]] = []
    task = workers.submit(
        "states",
        states_job(demo_index, fold, AsOf.moment(at), FileSource(demo_path()).make_decoder),
        on_progress=seen.append,
    )
    with qtbot.waitSignal(task.result, timeout=120_000) as got:
        pass
    result: StatesResult = got.args[0]
    assert result.rows and not result.cancelled and seen and seen[-1][0] == seen[-1][1]
    # Every aggregate with an event by T, and none other.
    by_t = {
        demo_index.aggregate_names[a]
        for a in demo_index.aggregate_col[demo_index.timestamp_col <= at]
        if a >= 0
    }
    assert {r.aggregate for r in result.rows} == by_t
    for row in result.rows[:: max(1, len(result.rows) // 5)]:
        assert row.aggregate is not None
        one = Replayer.from_index(demo_index, row.aggregate, fold).state_at(timestamp_ms=at)
        assert row.state == one.state and row.events_applied == one.events_applied
    workers.shutdown()


def test_states_table_sorts_by_value_and_exports_what_it_shows(
    qtbot: QtBot, demo_index: TopicIndex, fold: FoldSpec, tmp_path: Path
) -> None:
    from app.audit.states import states_at

    rows = states_at(demo_index, fold, AsOf.moment(_midpoint(demo_index))).rows
    table = StatesTable()
    qtbot.addWidget(table)
    table.set_rows(rows, "As of the middle")
    model = table.model
    balance = model.fields.index("state.balance") + 5
    assert model.headerData(balance, Qt.Orientation.Horizontal) == "balance"
    table.view.sortByColumn(balance, Qt.SortOrder.DescendingOrder)
    shown = table.sorted_rows()
    balances = [r.state["balance"] for r in shown]
    assert balances == sorted(balances, reverse=True) and len(shown) == len(rows)
    assert any(b < 0 for b in balances) or min(balances) >= 0  # numbers, not text order
    table.view.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    assert [r.events_applied for r in table.sorted_rows()] == sorted(r.events_applied for r in rows)

    table.ask_path = lambda kind: tmp_path / f"states.{kind}"  # type: ignore[method-assign]
    table.export_csv_button.click()
    table.export_json_button.click()
    lines = list(csv.DictReader(io.StringIO((tmp_path / "states.csv").read_text())))
    assert [line["aggregate"] for line in lines] == [r.aggregate for r in table.sorted_rows()]
    assert float(lines[0]["state.balance"]) == table.sorted_rows()[0].state["balance"]
    docs = [json.loads(line) for line in (tmp_path / "states.json").read_text().splitlines()]
    assert docs == [r.to_json() for r in table.sorted_rows()]

    activated: list[str] = []
    table.aggregate_activated.connect(activated.append)
    table.view.doubleClicked.emit(table.proxy.index(0, 0))
    assert activated == [table.sorted_rows()[0].aggregate]


def test_audit_report_job_writes_a_report_that_verifies(
    qtbot: QtBot, demo_index: TopicIndex, fold: FoldSpec, tmp_path: Path
) -> None:
    workers = Workers(max_threads=1)
    aggregate = demo_index.aggregate_names[int(demo_index.aggregate_col[0])]
    job = audit_report_job(
        FileSource(demo_path()),
        TOPIC,
        aggregate,
        fold,
        AsOf.moment(_midpoint(demo_index) * 2),
        tmp_path / "r",
    )
    task = workers.submit("audit", job)
    with qtbot.waitSignal(task.result, timeout=180_000) as got:
        pass
    done: AuditDone = got.args[0]
    assert (done.folder / "report.pdf").stat().st_size > 1000
    verdict = verify_offline(done.folder)
    assert verdict.verified, verdict.problem
    assert done.manifest["aggregate"] == aggregate
    workers.shutdown()
