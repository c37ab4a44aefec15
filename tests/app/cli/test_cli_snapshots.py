"""Snapshots on a compacted topic of the real broker: ``snapshots check`` finds the one
written wrong, the unusable ones and the tombstone, and ``state --from-snapshot`` starts
from a snapshot (saying so) or falls back to the events."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from kafka_helpers import Rec, produce

from app.cli.main import main

pytestmark = pytest.mark.kafka
T0 = 1_700_000_000_000
ACCOUNTS = [f"acc-{i}" for i in range(6)]
WRONG, AHEAD, BROKEN, DELETED = "acc-1", "acc-2", "acc-3", "acc-4"

FOLDS = """
from app.folds import Snapshot, fold, snapshots

@fold("ledger", topics=["bank-snap-*"])
def ledger(state, event):
    state = dict(state or {"balance": 0, "moves": 0})
    amount = event.data["payload"]["amount"]
    state["balance"] += -amount if event.type == "MoneyWithdrawn" else amount
    state["moves"] += 1
    return state

@snapshots("SNAPSHOT_TOPIC", for_topics=["bank-snap-*"])
def account_snapshot(record):
    return Snapshot(record.data["state"], events=record.data["version"])
"""


def _moves(account: int) -> list[tuple[str, int]]:
    """Each account's events: 6 of them, a withdrawal every third."""
    return [
        ("MoneyWithdrawn" if n % 3 == 2 else "MoneyDeposited", 10 * (account + 1) + n)
        for n in range(6)
    ]


def _state_after(account: int, n: int) -> dict[str, int]:
    balance = 0
    for kind, amount in _moves(account)[:n]:
        balance += -amount if kind == "MoneyWithdrawn" else amount
    return {"balance": balance, "moves": n}


def _snapshot(acc: str, version: int, state: dict | None = None) -> Rec:
    i = ACCOUNTS.index(acc)
    body = {"aggregateId": acc, "version": version, "state": state or _state_after(i, version)}
    return Rec(json.dumps(body).encode(), acc.encode())


def _records_left(bootstrap: str, topic: str) -> tuple[int, int]:
    """(records the topic holds, its end offset), read as the tool does: assigned,
    never committing."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"t-{time.time_ns()}",
                         "enable.auto.commit": False, "enable.partition.eof": True})  # fmt: skip
    low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    consumer.assign([TopicPartition(topic, 0, low)])
    seen = 0
    try:
        while high > 0:
            msg = consumer.poll(5)
            assert msg is not None, "no record and no end of partition within 5 s"
            if msg.error() is not None:
                break  # the end of the partition
            seen += 1
    finally:
        consumer.close()
    return seen, high


@dataclass
class Bank:
    topic: str
    snapshots: str
    folds: Path
    wrong_state: dict[str, int]


@pytest.fixture(scope="module")
def bank(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Bank:
    from confluent_kafka.admin import AdminClient, NewTopic

    stamp = time.time_ns() % 10**9
    topic, snaps = f"bank-snap-{stamp}", f"account-snapshots-{stamp}"
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    compacted = {"cleanup.policy": "compact", "segment.ms": "100",
                 "min.cleanable.dirty.ratio": "0.01",
                 "delete.retention.ms": "86400000"}  # fmt: skip
    futures = admin.create_topics([NewTopic(topic, 1, 1), NewTopic(snaps, 1, 1, config=compacted)])
    for fut in futures.values():
        fut.result(30)
    events = []
    for step in range(6):
        for i, acc in enumerate(ACCOUNTS):
            kind, amount = _moves(i)[step]
            body = json.dumps({"eventType": kind, "payload": {"amount": amount}}).encode()
            events.append(Rec(body, acc.encode(), timestamp_ms=T0 + step * 1000 + i))
    produce(kafka_bootstrap, topic, events)
    # Three batches, a segment apart: the first (version 2 of everyone) is superseded by
    # the second, which compaction can clean once the third rolls it out of the active
    # segment.
    wrong = _state_after(1, 4)
    wrong["balance"] += 100  # the snapshot written wrong
    produce(kafka_bootstrap, snaps, [_snapshot(acc, 2) for acc in ACCOUNTS])
    time.sleep(0.5)
    second = [_snapshot(acc, 4) for acc in ("acc-0", "acc-5")]
    second += [_snapshot(WRONG, 4, wrong), _snapshot(AHEAD, 99)]
    second += [Rec(json.dumps({"aggregateId": BROKEN, "state": {}}).encode(), BROKEN.encode())]
    second += [Rec(None, DELETED.encode())]  # a tombstone: acc-4 has no snapshots any more
    produce(kafka_bootstrap, snaps, second)
    time.sleep(0.5)
    produce(kafka_bootstrap, snaps, [_snapshot("acc-5", 5)])
    deadline = time.monotonic() + 90
    while True:
        left, end = _records_left(kafka_bootstrap, snaps)
        if left < end:
            break
        assert time.monotonic() < deadline, "the broker did not compact the snapshot topic"
        time.sleep(0.5)
    folds = tmp_path_factory.mktemp("snapfolds") / "ledger.py"
    folds.write_text(FOLDS.replace("SNAPSHOT_TOPIC", snaps))
    return Bank(topic, snaps, folds, wrong)


def _check(capsys: pytest.CaptureFixture[str], bank: Bank, bootstrap: str, *more: str):
    code = main(["snapshots", "check", "-b", bootstrap, "-t", bank.topic, "--folds",
                 str(bank.folds), "--fold", "ledger", *more])  # fmt: skip
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_check_finds_the_snapshot_written_wrong_and_the_unusable_ones(
    kafka_bootstrap: str, bank: Bank, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _check(capsys, bank, kafka_bootstrap, "--json", "--all")
    assert code == 1, err
    *rows, summary = [json.loads(line) for line in out.splitlines()]
    verdicts = [r for r in rows if "status" in r]
    by_status: dict[str, list[str]] = {}
    for v in verdicts:
        by_status.setdefault(v["status"], []).append(v["aggregate"])
    assert by_status["drift"] == [WRONG]
    drift = next(v for v in verdicts if v["status"] == "drift")
    right = _state_after(1, 4)
    assert drift["diff"]["changed"] == {
        "balance": {"old": right["balance"], "new": bank.wrong_state["balance"]}
    }
    assert sorted(by_status["unusable"]) == [AHEAD, BROKEN]
    problems = {v["aggregate"]: v["problem"] for v in verdicts if v["status"] == "unusable"}
    assert "covers 99 events but the aggregate has 6" in problems[AHEAD]
    assert "KeyError" in problems[BROKEN] and "version" in problems[BROKEN]
    # What compaction left: the latest snapshot of each account that has one (its
    # version-2 snapshot is gone), both of acc-5 if the last is still in the active
    # segment; and the tombstone, shown, deleting acc-4's.
    agrees = sorted(by_status["agrees"])
    assert "acc-0" in agrees and DELETED not in agrees and "acc-5" in agrees
    assert all(v["events"] in (4, 5) for v in verdicts if v["status"] == "agrees")
    assert [r["aggregate"] for r in rows if r.get("tombstone")] == [DELETED]
    assert summary["drift"] == 1 and summary["unusable"] == 2 and summary["tombstones"] == 1
    assert summary["compacted_away"] > 0


def test_text_output_says_what_drifted(
    kafka_bootstrap: str, bank: Bank, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _check(capsys, bank, kafka_bootstrap)
    assert code == 1
    right, wrong = _state_after(1, 4)["balance"], bank.wrong_state["balance"]
    assert f"balance: events give {right}, the snapshot says {wrong}" in out
    assert f"deleted  {DELETED}" in out
    assert "agrees" not in out  # only with --all


def test_a_masked_field_never_appears_in_the_drift_output(
    kafka_bootstrap: str, bank: Bank, capsys: pytest.CaptureFixture[str]
) -> None:
    right, wrong = _state_after(1, 4)["balance"], bank.wrong_state["balance"]
    for extra in ([], ["--json"]):
        code, out, _ = _check(capsys, bank, kafka_bootstrap, "--mask", "balance", *extra)
        assert code == 1 and WRONG in out and "balance" in out
        shown = out.replace(bank.topic, "").replace(bank.snapshots, "")
        assert str(right) not in shown and str(wrong) not in shown


def _state(capsys: pytest.CaptureFixture[str], bank: Bank, bootstrap: str, *argv: str):
    code = main(["state", "-b", bootstrap, "-t", bank.topic, "--folds", str(bank.folds),
                 "--json", *argv])  # fmt: skip
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_state_starts_from_the_latest_snapshot_and_says_so(
    kafka_bootstrap: str, bank: Bank, capsys: pytest.CaptureFixture[str]
) -> None:
    code, doc, err = _state(capsys, bank, kafka_bootstrap, "-a", "acc-0", "--from-snapshot")
    assert code == 0, err
    assert doc["state"] == _state_after(0, 6) and doc["events_applied"] == 6
    assert doc["snapshot"]["covers"] == {"events": 4} and doc["snapshot"]["then_events"] == 2
    assert "from snapshot v4" in err and "then 2 events" in err
    # At a position before the snapshot: the events from the first one.
    code, doc, err = _state(capsys, bank, kafka_bootstrap, "-a", "acc-0", "--n", "3",
                            "--from-snapshot")  # fmt: skip
    assert code == 0 and doc["state"] == _state_after(0, 3) and doc["snapshot"] is None
    assert "no usable snapshot at or before the target: 3 events replayed" in err


@pytest.mark.parametrize("account", [AHEAD, BROKEN, DELETED])
def test_state_falls_back_to_the_events_past_a_bad_or_deleted_snapshot(
    kafka_bootstrap: str, bank: Bank, capsys: pytest.CaptureFixture[str], account: str
) -> None:
    code, doc, err = _state(capsys, bank, kafka_bootstrap, "-a", account, "--from-snapshot")
    assert code == 0, err
    assert doc["state"] == _state_after(ACCOUNTS.index(account), 6)
    assert doc["snapshot"] is None and "6 events replayed" in err
    if account != DELETED:
        assert "not used" in err


def test_no_adapter_and_bad_options_are_one_line(
    kafka_bootstrap: str, bank: Bank, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    make_topic: Callable[..., str],
) -> None:  # fmt: skip
    other = make_topic(1, prefix="ledger")
    produce(kafka_bootstrap, other, [Rec(b'{"eventType": "X", "payload": {"amount": 1}}', b"a")])
    code = main(["snapshots", "check", "-b", kafka_bootstrap, "-t", other, "--folds",
                 str(bank.folds), "--fold", "ledger"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "no snapshot adapter" in err
    code = main(["state", "-b", kafka_bootstrap, "-t", bank.topic, "--folds", str(bank.folds),
                 "-a", "acc-0", "--from-snapshot", "--history"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--from-snapshot gives one state" in err
