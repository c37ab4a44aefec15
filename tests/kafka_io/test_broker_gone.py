"""A broker that goes away in the middle of a read: reported, retried, cancellable, and
given up after the idle timeout with what was read kept.

Uses brokers of its own (the session's must stay up for the other tests).
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
from kafka_io.errors import KafkaUnavailable, ReadIncomplete, ReadStalled
from kafka_io.event import Event
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


@pytest.mark.timeout(240)
def test_a_broker_silent_past_the_idle_timeout_ends_the_read_keeping_what_was_read() -> None:
    handle = broker_harness.start()
    try:
        admin = AdminClient({"bootstrap.servers": handle.bootstrap})
        admin.create_topics([NewTopic("doomed", 1, 1)])["doomed"].result(30)
        produce(handle.bootstrap, "doomed", [Rec(b'{"eventType":"E"}', b"k")] * RECORDS)

        statuses: list[str] = []
        killed = threading.Event()

        def on_progress(progress: ReadProgress) -> None:
            if not killed.is_set() and progress.done >= 1000:
                os.killpg(handle.pid, signal.SIGKILL)
                killed.set()
            if progress.status:
                statuses.append(progress.status)

        profile = ConnectionProfile(handle.bootstrap, timeout_s=3)  # the idle timeout
        reader = TopicReader(profile, "doomed", Decoder(), batch_size=500)
        got: list[Event] = []
        with pytest.raises(ReadStalled) as caught:
            for batch in reader.read([PartitionRange(0, 0, RECORDS)], on_progress=on_progress):
                got += batch
        assert killed.is_set()
        err = caught.value
        assert isinstance(err, ReadIncomplete) and isinstance(err, KafkaUnavailable)
        assert "no progress for 3 s" in str(err)
        assert "\n" not in str(err)
        assert statuses and "retrying" in statuses[0], "the loss was reported while retrying"
        # The reason names the last error librdkafka gave, not only the silence.
        assert reader.stats.incomplete is not None
        assert "last error" in reader.stats.incomplete
        assert not reader.stats.complete and not reader.stats.cancelled
        assert 1000 <= len(got) < RECORDS
        assert [e.offset for e in got] == list(range(len(got)))
        assert reader.stats.events == len(got)
        assert reader.stats.reached == {0: len(got)}
        assert reader.stats.pending == {}
    finally:
        broker_harness.stop(handle)
