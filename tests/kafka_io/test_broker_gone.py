"""A broker that goes away in the middle of a read: reported, retried, cancellable.

Uses a broker of its own (the session's must stay up for the other tests).
"""

from __future__ import annotations

import os
import signal
import threading

import broker as broker_harness
import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from kafka_helpers import Rec, produce

from kafka_io.cancel import CancelToken
from kafka_io.decode import Decoder
from kafka_io.profile import ConnectionProfile
from kafka_io.reader import PartitionRange, ReadProgress, TopicReader

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
RECORDS = 200_000


def test_a_broker_lost_mid_read_is_reported_and_the_read_can_be_cancelled() -> None:
    handle = broker_harness.start()
    try:
        admin = AdminClient({"bootstrap.servers": handle.bootstrap})
        admin.create_topics([NewTopic("doomed", 1, 1)])["doomed"].result(30)
        produce(handle.bootstrap, "doomed", [Rec(b'{"eventType":"E"}', b"k")] * RECORDS)

        cancel = CancelToken()
        statuses: list[str] = []
        killed = threading.Event()

        def on_progress(progress: ReadProgress) -> None:
            if not killed.is_set() and progress.done >= 1000:
                os.killpg(handle.pid, signal.SIGKILL)  # the broker vanishes mid-read
                killed.set()
            if progress.status:
                statuses.append(progress.status)
                cancel.cancel()  # the user, told, gives up

        reader = TopicReader(
            ConnectionProfile(handle.bootstrap), "doomed", Decoder(), batch_size=500
        )
        got = sum(len(b) for b in reader.read([PartitionRange(0, 0, RECORDS)], cancel, on_progress))
        assert killed.is_set()
        assert statuses, "the lost broker was never reported"
        assert "retrying" in statuses[0]
        assert "no data" not in statuses[0], "the loss itself was reported, not a timeout"
        assert reader.stats.cancelled
        assert 1000 <= got < RECORDS
    finally:
        broker_harness.stop(handle)
