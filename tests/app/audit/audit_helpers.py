"""A bank topic on the real broker, a fold file, and the report a test starts from."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from kafka_helpers import Rec, produce

from app.cli.main import main
from kafka_io.murmur2 import partition_for_key

T0 = 1_700_000_000_000
ACCOUNTS = 5
BALANCE_FOLD = """
from app.folds import fold

@fold("balance", topics=["bank-*"])
def balance(state, event):
    state = dict(state or {"balance": 0, "deposits": 0})
    if event.type == "MoneyDeposited":
        state["balance"] += event.data["payload"]["amount"]
        state["deposits"] += 1
    elif event.type == "MoneyWithdrawn":
        state["balance"] -= event.data["payload"]["amount"]
    return state
"""


@dataclass
class Produced:
    """One produced record and where it landed."""

    account: str
    kind: str
    amount: int
    timestamp_ms: int
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes | None]]
    partition: int = -1
    offset: int = -1

    def sha256(self) -> str:
        """The documented canonical encoding, written out here independently."""

        def blob(b: bytes | None) -> bytes:
            return struct.pack(">i", -1) if b is None else struct.pack(">i", len(b)) + b

        data = struct.pack(">Biqq", 1, self.partition, self.offset, self.timestamp_ms)
        data += blob(self.key) + blob(self.value) + struct.pack(">i", len(self.headers))
        for name, value in self.headers:
            data += blob(name.encode()) + blob(value)
        return hashlib.sha256(data).hexdigest()


@dataclass
class Bank:
    bootstrap: str
    topic: str
    fold_file: Path
    records: list[Produced] = field(default_factory=list)

    def of(self, account: str, upto_ms: int | None = None) -> list[Produced]:
        return [
            r for r in self.records
            if r.account == account and (upto_ms is None or r.timestamp_ms <= upto_ms)
        ]  # fmt: skip

    def balance(self, account: str, upto_ms: int | None = None) -> dict[str, int]:
        balance = deposits = 0
        for r in self.of(account, upto_ms):
            if r.kind == "MoneyDeposited":
                balance, deposits = balance + r.amount, deposits + 1
            else:
                balance -= r.amount
        return {"balance": balance, "deposits": deposits}

    def args(self) -> list[str]:
        return ["-b", self.bootstrap, "-t", self.topic, "--folds", str(self.fold_file),
                "--fold", "balance", "--partitioner", "murmur2"]  # fmt: skip


def bank_records(n: int, start: int = 0) -> list[Produced]:
    out = []
    for i in range(start, start + n):
        account = f"acc-{i % ACCOUNTS}"
        kind = "MoneyWithdrawn" if i % 5 == 4 else "MoneyDeposited"
        amount = (i * 7) % 50 + 1
        value = json.dumps(
            {"eventType": kind, "aggregateId": account, "payload": {"amount": amount}}
        ).encode()
        headers: list[tuple[str, bytes | None]] = [("trace", f"t{i}".encode())] if i % 3 else []
        out.append(
            Produced(account, kind, amount, T0 + i * 60_000, account.encode(), value, headers)
        )
    return out


def produce_bank(bootstrap: str, topic: str, records: list[Produced], partitions: int = 3) -> None:
    """Produce in order and learn each record's place: its key's murmur2 partition, and
    within a partition the delivery order is the produce order."""
    landed = produce(
        bootstrap,
        topic,
        [Rec(r.value, key=r.key, timestamp_ms=r.timestamp_ms, headers=r.headers) for r in records],
    )
    offsets: dict[int, list[int]] = {}
    for partition, offset in landed:
        offsets.setdefault(partition, []).append(offset)
    for partition in offsets:
        offsets[partition].sort(reverse=True)
    for r in records:
        r.partition = partition_for_key(r.key, partitions)
        r.offset = offsets[r.partition].pop()


def create_topic(bootstrap: str, name: str, partitions: int = 3) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    deadline = time.monotonic() + 60
    while True:  # a topic just deleted may still be "marked for deletion"
        try:
            admin.create_topics([NewTopic(name, partitions, 1)])[name].result(30)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def delete_topic(bootstrap: str, name: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.delete_topics([name])[name].result(30)
    deadline = time.monotonic() + 60
    while name in admin.list_topics(timeout=10).topics and time.monotonic() < deadline:
        time.sleep(0.2)


def new_bank(bootstrap: str, folder: Path, n: int = 150) -> Bank:
    topic = f"bank-audit-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic)
    fold_file = folder / "balance_fold.py"
    fold_file.write_text(BALANCE_FOLD)
    bank = Bank(bootstrap, topic, fold_file, bank_records(n))
    produce_bank(bootstrap, topic, bank.records)
    return bank


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def copy_report(report: Path, to: Path) -> Path:
    shutil.copytree(report, to)
    return to


def manifest_of(report: Path) -> dict[str, Any]:
    return json.loads((report / "manifest.json").read_text())


def write_manifest(report: Path, doc: dict[str, Any]) -> None:
    (report / "manifest.json").write_text(json.dumps(doc, indent=2, sort_keys=True))
