"""`events --follow` and `state --follow` against the real broker, as a user runs them: in
a process of their own, ended by Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Producer

pytestmark = pytest.mark.kafka
ROOT = Path(__file__).resolve().parents[3]


class Running:
    """The command in a subprocess; its stdout lines as they come."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", *args], cwd=ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_lines(
        self, n: int, timeout: float = 60, tick: Callable[[], None] | None = None
    ) -> None:
        deadline = time.monotonic() + timeout
        while len(self.lines) < n:
            assert self.proc.poll() is None, self.proc.stderr.read() if self.proc.stderr else ""
            assert time.monotonic() < deadline, f"only {len(self.lines)} lines"
            if tick is not None:
                tick()
            time.sleep(0.2)

    def interrupt(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(30)
        self.reader.join(10)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code, err


def event(account: str, n: int) -> bytes:
    return orjson.dumps({"eventType": "MoneyDeposited", "payload": {"amount": n, "n": n}})


def test_events_follow_prints_new_events_with_the_filter(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(partitions=3)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    producer.produce(topic, key="acc-1", value=event("acc-1", -1))  # before: not printed
    producer.flush(30)
    run = Running("events", "-b", kafka_bootstrap, "-t", topic, "--follow", "--json",
                  "--aggregate", "acc-1")  # fmt: skip
    sent = [0]

    def produce_more() -> None:  # until the follower is listening: it starts at the end
        for account in ("acc-1", "acc-2"):
            producer.produce(topic, key=account, value=event(account, sent[0]))
        sent[0] += 1
        producer.flush(10)

    run.wait_lines(1, tick=produce_more)
    for _ in range(5):
        produce_more()
    run.wait_lines(6)
    code, err = run.interrupt()
    assert code == 0, err
    records = [orjson.loads(line) for line in run.lines]
    numbers = [r["data"]["payload"]["n"] for r in records]
    assert {r["aggregate"] for r in records} == {"acc-1"}  # the filter applies
    assert numbers == list(range(numbers[0], sent[0]))  # in order, none twice, none lost
    assert -1 not in numbers


def test_state_follow_prints_the_state_after_each_new_event(
    kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = make_topic(partitions=2)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for n in range(3):
        producer.produce(topic, key="acc-9", value=event("acc-9", n))
    producer.flush(30)
    run = Running("state", "-b", kafka_bootstrap, "-t", topic, "-a", "acc-9", "--follow",
                  "--fold", "events")  # fmt: skip
    run.wait_lines(1)
    first = orjson.loads(run.lines[0])
    assert first["n"] == 3 and first["state"]["count"] == 3
    time.sleep(2)  # following from where the first read ended: nothing is lost meanwhile
    producer.produce(topic, key="acc-9", value=event("acc-9", 3))
    producer.produce(topic, key="acc-other", value=event("acc-other", 99))
    producer.flush(30)
    run.wait_lines(2)
    code, err = run.interrupt()
    assert code == 0, err
    second = orjson.loads(run.lines[1])
    assert second["n"] == 4 and second["state"]["count"] == 4
    assert second["event"]["offset"] >= first["event"]["offset"]


def test_follow_an_unreachable_cluster_fails_within_the_timeout() -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "app", "events", "-b", "127.0.0.1:1", "-t", "t", "--follow",
         "--timeout", "2"], cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert time.monotonic() - started < 30
