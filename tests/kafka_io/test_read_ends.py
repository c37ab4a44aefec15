"""A read that cannot finish still ends, keeps what it read and says why.

The topic deleted in the middle of a read: the read ends at once (well within its idle
timeout) with ``TopicDeleted`` naming the topic, carrying the partial stats.
"""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from kafka_helpers import Rec, produce

from kafka_io.decode import Decoder
from kafka_io.errors import KafkaIOError, ReadIncomplete, TopicDeleted, TopicNotFound
from kafka_io.event import Event
from kafka_io.profile import ConnectionProfile
from kafka_io.reader import PartitionRange, TopicReader

pytestmark = pytest.mark.kafka
RECORDS = 60_000


@pytest.mark.timeout(240)
def test_a_topic_deleted_mid_read_ends_the_read_with_a_message_naming_it(
    kafka_bootstrap: str,
) -> None:
    topic = f"deleted-{uuid.uuid4().hex[:10]}"  # not make_topic's: this test deletes it
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(30)
    records = [Rec(b'{"eventType":"E"}', partition=i % 2) for i in range(RECORDS)]
    # Small record batches on the broker, and a consumer that fetches little ahead: most
    # of the topic is still on the broker when it goes.  The idle timeout is far away:
    # only noticing the deletion can end this read in time.
    produce(kafka_bootstrap, topic, records, **{"batch.num.messages": 200})
    small_fetches = {
        "queued.min.messages": "200",
        "queued.max.messages.kbytes": "64",
        "max.partition.fetch.bytes": "4096",
    }
    profile = ConnectionProfile(kafka_bootstrap, small_fetches)
    reader = TopicReader(profile, topic, Decoder(), batch_size=100, idle_timeout=120)
    got: list[Event] = []
    with pytest.raises(TopicDeleted) as caught:
        for batch in reader.read([PartitionRange(p, 0, RECORDS // 2) for p in (0, 1)]):
            got += batch
            if len(got) == len(batch):  # after the first batch, from another client
                admin.delete_topics([topic])[topic].result(30)
    err = caught.value
    assert isinstance(err, ReadIncomplete) and isinstance(err, TopicNotFound)
    assert isinstance(err, KafkaIOError)
    assert topic in str(err) and "deleted" in str(err)
    assert "\n" not in str(err)
    assert err.stats is reader.stats
    assert 0 < len(got) < RECORDS
    assert reader.stats.events == len(got)
    assert reader.stats.incomplete is not None and "deleted" in reader.stats.incomplete
    assert not reader.stats.complete
    # What was yielded is what the stats say was reached: an index may record it.
    for p in (0, 1):
        offsets = [e.offset for e in got if e.partition == p]
        assert offsets == list(range(len(offsets)))
        assert reader.stats.reached[p] == len(offsets)
    assert reader.stats.reached[0] + reader.stats.reached[1] < RECORDS


def test_a_topic_that_never_existed_ends_the_read_too(kafka_bootstrap: str) -> None:
    topic = f"never-{uuid.uuid4().hex[:10]}"
    reader = TopicReader(ConnectionProfile(kafka_bootstrap), topic, Decoder(), idle_timeout=120)
    with pytest.raises(TopicDeleted, match=topic):
        list(reader.read([PartitionRange(0, 0, 10)]))
    assert reader.stats.reached == {0: 0}
    assert reader.stats.events == 0
