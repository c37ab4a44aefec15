"""``event-explorer lag`` against the real broker: table, JSON lines, watch, no broker."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from app.cli.lag import add_lag_parser

pytestmark = pytest.mark.kafka
ROOT = Path(__file__).resolve().parents[3]
# The command as the lead's app.cli.main wires it: a parser with the lag sub-command.
DRIVER = (
    "import argparse, sys\n"
    "from app.cli.lag import add_lag_parser\n"
    "parser = argparse.ArgumentParser(prog='event-explorer')\n"
    "add_lag_parser(parser.add_subparsers(dest='command'))\n"
    "args = parser.parse_args(sys.argv[1:])\n"
    "sys.exit(args.func(args))\n"
)


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="event-explorer")
    add_lag_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.func(args))


def spawn(argv: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, *argv],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.fixture
def group_with_lag(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> Iterator[tuple[str, str]]:
    """A topic with 10 events per partition and a group that committed 3 and 7."""
    topic = make_topic(partitions=2)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for p in range(2):
        for _ in range(10):
            producer.produce(topic, b"e", partition=p)
    assert producer.flush(30) == 0
    group = f"cli-lag-{uuid.uuid4().hex[:8]}"
    consumer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": group})
    offsets = [TopicPartition(topic, 0, 3), TopicPartition(topic, 1, 7)]
    consumer.assign(offsets)
    consumer.commit(offsets=offsets, asynchronous=False)
    consumer.close()
    yield topic, group
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    admin.delete_consumer_groups([group], request_timeout=10)[group].exception(timeout=15)


def test_json_lines(
    kafka_bootstrap: str, group_with_lag: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    topic, group = group_with_lag
    assert run(["lag", "--bootstrap", kafka_bootstrap, "--group", group, "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    rows = [
        (r["group"], r["topic"], r["partition"], r["committed"], r["end"], r["lag"]) for r in lines
    ]
    assert rows == [(group, topic, 0, 3, 10, 7), (group, topic, 1, 7, 10, 3)]
    assert all(r["state"] == "EMPTY" and r["members"] == 0 for r in lines)


def test_table(
    kafka_bootstrap: str, group_with_lag: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    topic, group = group_with_lag
    assert run(["lag", "-b", kafka_bootstrap, "-g", group, "-g", "no-such-group-x"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == [
        "GROUP",
        "TOPIC",
        "PARTITION",
        "COMMITTED",
        "END",
        "LAG",
        "STATE",
        "MEMBERS",
    ]
    assert out[1].split() == [group, topic, "0", "3", "10", "7", "EMPTY", "0"]
    assert out[2].split() == [group, topic, "1", "7", "10", "3", "EMPTY", "0"]
    assert out[3].split()[0] == "no-such-group-x" and out[3].split()[1:6] == ["-"] * 5


def test_watch_repeats_and_judges(kafka_bootstrap: str, group_with_lag: tuple[str, str]) -> None:
    _, group = group_with_lag
    proc = spawn(["lag", "--bootstrap", kafka_bootstrap, "--group", group, "--watch", "0.3"])
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err  # Ctrl-C ends a watch, as it ends any command
    assert out.count("\n# ") >= 3  # one stamped table per round
    # Offsets that never move with events waiting and nobody in the group: STOPPED.
    assert f"{group}: STOPPED" in out and "no commits for" in out
    assert "Traceback" not in err


def test_unreachable_broker_is_one_line_and_non_zero() -> None:
    proc = spawn(["lag", "--bootstrap", "127.0.0.1:1"])
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("event-explorer lag: cannot reach 127.0.0.1:1")


def test_bad_profile_is_one_line(tmp_path: Path) -> None:
    proc = spawn(["lag", "--config", str(tmp_path / "missing.properties")])
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.count("\n") == 1 and "cannot read config file" in err
