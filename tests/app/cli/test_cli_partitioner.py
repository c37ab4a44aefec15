"""The command line narrows an aggregate's read to its partition whatever producer wrote
the topic, takes --partitioner, and says why when it reads everything."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest
from confluent_kafka import Producer

from app.cli.main import main
from kafka_io.partitioners import partition_for

pytestmark = pytest.mark.kafka


def produce(bootstrap: str, topic: str) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})  # CRC32: librdkafka's default
    for i in range(200):
        account = f"acc-{i % 20}"
        body = {"eventType": "MoneyDeposited", "payload": {"amount": i}}
        producer.produce(topic, key=account, value=orjson.dumps(body))
    assert producer.flush(30) == 0


def test_detected_given_and_wrong_partitioners(
    kafka_bootstrap: str, make_topic: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    topic = make_topic(partitions=6)
    produce(kafka_bootstrap, topic)
    base = ["-b", kafka_bootstrap, "-t", topic, "-a", "acc-3", "--json"]
    assert main(["events", *base]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 10 and "reading every partition" not in err
    assert main(["events", *base, "--partitioner", "crc32"]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 10 and err == ""
    # Told the wrong one: the aggregate is not where murmur2 puts it; said, then found.
    moved = next(
        a for a in (f"acc-{i}" for i in range(20))
        if partition_for("murmur2", a.encode(), 6) != partition_for("crc32", a.encode(), 6)
    )  # fmt: skip
    wrong = ["-b", kafka_bootstrap, "-t", topic, "-a", moved, "--partitioner", "murmur2"]
    assert main(["state", *wrong, "--fold", "events", "--json"]) == 0
    out, err = capsys.readouterr()
    assert "not in partition" in err and "murmur2 (as given)" in err
    assert orjson.loads(out)["events_applied"] == 10
    assert main(["events", *base, "--partitioner", "nonsense"]) == 2
    _out, err = capsys.readouterr()
    assert "unknown partitioner 'nonsense'" in err and len(err.splitlines()) == 1
