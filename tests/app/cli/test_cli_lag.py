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
from datetime import datetime
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
    # Records were just produced: young, but measured, not unknown.
    assert all(r["age_source"] == "record" and 0 <= r["lag_seconds"] < 60 for r in lines)


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
        "AGE",
        "STATE",
        "MEMBERS",
    ]
    first, second = out[1].split(), out[2].split()
    assert first[:6] + first[7:] == [group, topic, "0", "3", "10", "7", "EMPTY", "0"]
    assert second[:6] + second[7:] == [group, topic, "1", "7", "10", "3", "EMPTY", "0"]
    assert all(row[6].endswith("s") and not row[6].startswith("~") for row in (first, second))
    assert out[3].split()[0] == "no-such-group-x" and out[3].split()[1:7] == ["-"] * 6


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


HOUR_MS = 3_600_000


@pytest.fixture
def stopped_an_hour_ago(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> Iterator[tuple[str, str, dict[int, int]]]:
    """Ten records a minute apart from an hour ago; a group that stopped at offset 2."""
    topic = make_topic(partitions=1)
    start = time.time_ns() // 1_000_000 - HOUR_MS
    stamps = {i: start + i * 60_000 for i in range(10)}
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for i in range(10):
        producer.produce(topic, b"e", partition=0, timestamp=stamps[i])
    assert producer.flush(30) == 0
    group = f"cli-age-{uuid.uuid4().hex[:8]}"
    consumer = Consumer(
        {"bootstrap.servers": kafka_bootstrap, "group.id": group, "enable.auto.commit": False}
    )
    offsets = [TopicPartition(topic, 0, 2)]
    consumer.assign(offsets)
    consumer.commit(offsets=offsets, asynchronous=False)
    consumer.close()
    yield topic, group, stamps
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    admin.delete_consumer_groups([group], request_timeout=10)[group].exception(timeout=15)


def epoch_ms(stamp: str) -> int:
    return round(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)


def test_json_has_lag_seconds_from_the_first_sample(
    kafka_bootstrap: str, stopped_an_hour_ago: tuple[str, str, dict[int, int]]
) -> None:
    topic, group, stamps = stopped_an_hour_ago
    proc = spawn(["lag", "-b", kafka_bootstrap, "-g", group, "--json"])
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert (row["topic"], row["committed"], row["lag"]) == (topic, 2, 8)
    # The record at offset 2 was written 58 minutes ago: its age, not "since we looked".
    expected = (epoch_ms(row["time"]) - stamps[2]) / 1000
    assert expected > 3000
    assert row["lag_seconds"] == pytest.approx(expected, abs=0.01)
    assert row["age_source"] == "record"


def test_watch_says_how_old_the_waiting_records_are_from_the_first_round(
    kafka_bootstrap: str, stopped_an_hour_ago: tuple[str, str, dict[int, int]]
) -> None:
    _, group, _ = stopped_an_hour_ago
    proc = spawn(["lag", "-b", kafka_bootstrap, "-g", group, "--watch", "0.3"])
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err  # Ctrl-C ends the watch
    statuses = [line for line in out.splitlines() if line.startswith(f"{group}: ")]
    assert len(statuses) >= 2
    # 58 minutes from the first round on, not a count of seconds since watching began.
    assert all("[lag 58 min" in line for line in statuses), statuses
    rows = [line.split() for line in out.splitlines() if line.startswith(group + " ")]
    assert rows and all(row[6].startswith("58m") for row in rows)


def test_deleted_committed_record_is_noted(
    kafka_bootstrap: str,
    stopped_an_hour_ago: tuple[str, str, dict[int, int]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    topic, group, stamps = stopped_an_hour_ago
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    deleted = admin.delete_records([TopicPartition(topic, 0, 5)], request_timeout=10)
    for future in deleted.values():
        future.result(timeout=15)
    assert run(["lag", "-b", kafka_bootstrap, "-g", group, "--json"]) == 0
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (row["committed"], row["age_source"], row["oldest_offset"]) == (2, "next_record", 5)
    expected = (epoch_ms(row["time"]) - stamps[5]) / 1000
    assert row["lag_seconds"] == pytest.approx(expected, abs=0.01)
    assert run(["lag", "-b", kafka_bootstrap, "-g", group]) == 0
    table = capsys.readouterr().out
    assert "offset 2 holds no record any more; age of the next one, at offset 5" in table


def test_an_age_that_cannot_be_read_is_null_and_the_reason_is_on_stderr(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(partitions=1)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "transactional.id": f"tx-{topic}"})
    producer.init_transactions()
    producer.begin_transaction()
    producer.produce(topic, b"e", partition=0)
    producer.commit_transaction()  # the record at 0, the commit marker at 1
    group = f"cli-marker-{uuid.uuid4().hex[:8]}"
    consumer = Consumer(
        {"bootstrap.servers": kafka_bootstrap, "group.id": group, "enable.auto.commit": False}
    )
    offsets = [TopicPartition(topic, 0, 1)]
    consumer.assign(offsets)
    consumer.commit(offsets=offsets, asynchronous=False)
    consumer.close()
    try:
        proc = spawn(["lag", "-b", kafka_bootstrap, "-g", group, "--json"])
        out, err = proc.communicate(timeout=60)
    finally:
        admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
        admin.delete_consumer_groups([group], request_timeout=10)[group].exception(timeout=15)
    assert proc.returncode == 0, err
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert (row["committed"], row["lag"]) == (1, 1)
    assert (row["lag_seconds"], row["age_source"]) == (None, None)  # unknown, not 0
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"warning: {topic}[0]: no timestamp for the record at offset 1" in err
