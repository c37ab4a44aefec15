"""Benchmark: the inspector's latest state of a long aggregate from its events, and from
a snapshot near the end (no Kafka: an in-memory index, the real Decoder).

    .venv/bin/python tests/perf/bench_snapshot_start.py [--events 100000] [--later 100]

One aggregate of ``--events`` events; a snapshot covers all but the last ``--later``.
Prints one JSON object: ``from_events_s`` (the first pass over every event, as the
inspector's timeline job does), ``from_snapshot_s`` (choosing the start among the
snapshot records, building the replay, its first pass), ``blame_*`` the same for the
latest state's blame, and ``same_state`` (the two states are equal).

Not collected by pytest (no ``test_`` prefix).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.index.topic_index import TopicIndex
from app.replay.replayer import Replayer
from app.replay.snapshot_replay import replayer_from, start_at
from app.replay.snapshots import Snapshot, SnapshotRecord
from kafka_io.decode import Decoder
from kafka_io.event import Event

BASE_MS = 1_700_000_000_000


def events(n: int) -> list[Event]:
    out = []
    for i in range(n):
        kind = "MoneyWithdrawn" if i % 4 == 3 else "MoneyDeposited"
        value = f'{{"eventType":"{kind}","payload":{{"amount":{i % 97 + 1}}}}}'.encode()
        out.append(Event("bank-accounts", 0, i, BASE_MS + i, "acc-0", kind, "acc-0", (), None,
                         None, None, value))  # fmt: skip
    return out


def balance(state: Any, event: Event) -> Any:
    amount = event.data["payload"]["amount"]
    state = dict(state or {"balance": 0, "moves": 0})
    state["balance"] += -amount if event.type == "MoneyWithdrawn" else amount
    state["moves"] += 1
    return state


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return round(time.perf_counter() - start, 4), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--later", type=int, default=100)
    args = ap.parse_args()
    index = TopicIndex("bank-accounts", Decoder())
    index.append(events(args.events))
    rows = index.rows_for_aggregate("acc-0")
    covers = args.events - args.later
    truth = Replayer.from_index(index, "acc-0", balance)
    state = truth.step(covers).state
    # A snapshot per 1,000 events, as a snapshotting service would write them.
    records = [
        SnapshotRecord("acc-0", 0, k, BASE_MS + k, Snapshot(state if k == covers else {}, events=k))
        for k in [*range(1000, covers, 1000), covers]
    ]
    plain = Replayer.from_index(index, "acc-0", balance)
    from_events_s, full = timed(lambda: plain.run().state)
    blame_events_s, _ = timed(lambda: plain.blame())

    made: list[Replayer] = []

    def from_snapshot() -> Any:
        start = start_at(records, index.offset_col[rows], len(rows))
        made.append(replayer_from(index, "acc-0", balance, rows, start, "snapshots"))
        return made[-1].run().state

    from_snapshot_s, started = timed(from_snapshot)
    blame_snapshot_s, _ = timed(lambda: made[-1].blame())
    print(json.dumps({
        "events": args.events, "later_events": args.later, "snapshot_records": len(records),
        "from_events_s": from_events_s, "from_snapshot_s": from_snapshot_s,
        "blame_from_events_s": blame_events_s, "blame_from_snapshot_s": blame_snapshot_s,
        "same_state": full == started,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
