"""``event-explorer state`` and ``folds`` against the real broker and an exported file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from kafka_helpers import Rec, produce

from app.cli.main import main
from kafka_io.event import iso_utc
from kafka_io.murmur2 import partition_for_key

pytestmark = pytest.mark.kafka
T0 = 1_700_000_000_000

BALANCE_FOLD = """
from app.replay.folds import fold

@fold("balance", topics=["bank-*"])
def balance(state, event):
    state = dict(state or {"balance": 0, "deposits": 0})
    if event.type == "MoneyDeposited":
        state["balance"] += event.data["payload"]["amount"]
        state["deposits"] += 1
    elif event.type == "MoneyWithdrawn":
        state["balance"] -= event.data["payload"]["amount"]
    return state

@fold("fragile", topics=["bank-*"])
def fragile(state, event):
    if event.data["payload"]["amount"] == 13:
        raise ValueError("unlucky amount")
    return (state or 0) + 1
"""


def _bank_events(n: int) -> list[tuple[str, str, int, int]]:
    """(account, type, amount, timestamp) for n events over 5 accounts."""
    out = []
    for i in range(n):
        kind = "MoneyWithdrawn" if i % 5 == 4 else "MoneyDeposited"
        out.append((f"acc-{i % 5}", kind, (i * 7) % 50 + 1, T0 + i * 60_000))
    return out


def _produce(bootstrap: str, topic: str, events: list[tuple[str, str, int, int]]) -> None:
    produce(
        bootstrap,
        topic,
        [
            Rec(
                json.dumps(
                    {"eventType": kind, "aggregateId": acc, "payload": {"amount": amount}}
                ).encode(),
                key=acc.encode(),
                timestamp_ms=ts,
            )
            for acc, kind, amount, ts in events
        ],
    )


def _expected(events: list[tuple[str, str, int, int]], acc: str, upto_ms: int) -> dict[str, int]:
    balance = deposits = 0
    for a, kind, amount, ts in events:
        if a == acc and ts <= upto_ms:
            if kind == "MoneyDeposited":
                balance += amount
                deposits += 1
            else:
                balance -= amount
    return {"balance": balance, "deposits": deposits}


@pytest.fixture
def bank(kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path):
    topic = make_topic(4, prefix="bank-accounts")
    events = _bank_events(200)
    _produce(kafka_bootstrap, topic, events)
    folds = tmp_path / "bank_folds.py"
    folds.write_text(BALANCE_FOLD)
    return topic, events, folds


def _state(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(["state", *argv, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else {}


def test_state_at_timestamp_and_offset_match_an_independent_fold(
    kafka_bootstrap: str,
    bank,
    capsys,
) -> None:
    topic, events, folds = bank
    src = ["-b", kafka_bootstrap, "-t", topic, "--folds", str(folds), "--fold", "balance"]
    at = T0 + 120 * 60_000 + 30_000  # between two events
    # Before the aggregate's first event the state is None: no event applied.
    code, doc = _state(capsys, *src, "-a", "acc-3", "--at", iso_utc(T0 + 60_000))
    assert code == 0
    assert doc["state"] is None and doc["events_applied"] == 0
    code, doc = _state(capsys, *src, "-a", "acc-3", "--at", iso_utc(at))
    assert code == 0
    assert doc["state"] == _expected(events, "acc-3", at)
    assert doc["aggregate"] == "acc-3" and doc["fold"] == "balance"
    assert doc["events_applied"] == sum(1 for a, *_r, ts in events if a == "acc-3" and ts <= at)
    assert doc["last_event"]["partition"] == partition_for_key(b"acc-3", 4)

    # By offset: acc-3's events are the only ones in its partition with that key; the
    # 10th of them sits at some offset we learn from --history.
    code = main(["state", *src, "-a", "acc-3", "--history"])
    steps = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and len(steps) == 40
    tenth = steps[9]
    code, doc = _state(capsys, *src, "-a", "acc-3", "--offset", str(tenth["event"]["offset"]))
    assert doc["state"] == tenth["state"]
    assert doc["state"] == _expected(events, "acc-3", T0 + 5 * 60_000 * 9 + 3 * 60_000)


def test_state_from_an_exported_file_equals_the_cluster(
    kafka_bootstrap: str,
    bank,
    capsys,
    tmp_path: Path,
) -> None:
    topic, events, folds = bank
    exported = tmp_path / "bank.avro"
    assert main(["export", "-b", kafka_bootstrap, "-t", topic, "-o", str(exported)]) == 0
    capsys.readouterr()
    args = ["--folds", str(folds), "--fold", "balance", "-a", "acc-1", "--blame"]
    _, from_cluster = _state(capsys, "-b", kafka_bootstrap, "-t", topic, *args)
    _, from_file = _state(capsys, "--file", str(exported), *args)
    assert from_cluster == from_file
    assert from_file["state"] == _expected(events, "acc-1", T0 + 10**9)
    assert set(from_file["blame"]) == {"balance", "deposits"}


def test_a_failing_fold_exits_non_zero_naming_the_event(
    kafka_bootstrap: str,
    bank,
    capsys,
) -> None:
    topic, events, folds = bank
    # acc-? with amount 13: find the account whose event has it.
    acc = next(a for a, _k, amount, _t in events if amount == 13)
    code = main(["state", "-b", kafka_bootstrap, "-t", topic, "--folds", str(folds),
                 "--fold", "fragile", "-a", acc])  # fmt: skip
    captured = capsys.readouterr()
    assert code != 0
    assert "unlucky amount" in captured.err
    assert "partition" in captured.err and "offset" in captured.err
    doc = json.loads(captured.out)
    assert doc["error"]["event"]["partition"] == partition_for_key(acc.encode(), 4)


def test_folds_lists_sources(bank, capsys) -> None:
    _topic, _events, folds = bank
    assert main(["folds", "--folds", str(folds), "--json"]) == 0
    rows = {r["name"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows["balance"]["source"].endswith("bank_folds.py")
    assert {"merge", "events"} <= set(rows)
