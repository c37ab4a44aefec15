"""Why a read must end before its ranges are done: the topic deleted, a fatal or
authorization error, or no progress within the idle timeout.

librdkafka reports a lost broker through the error callback and retries for ever, and
reports a deleted topic only after ``topic.metadata.propagation.max.ms`` (30 s); a
bounded read has to decide for itself when to stop.  So a read that makes no progress
for a second asks the cluster whether its topic is still there, once a second.
Progress is a record or a partition's end of log; the time the caller spends with a
batch is not idle time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

from confluent_kafka import Consumer, KafkaError, KafkaException

from kafka_io.errors import ReadIncomplete, ReadStalled, TopicDeleted
from kafka_io.sensitive import scrub

# Codes that mean "this topic or partition is not there (any more)".  They are also seen
# for a moment while metadata spreads after a leader change, so the cluster is asked
# before the read is ended.
_GONE = frozenset(
    {KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_PARTITION, KafkaError._UNKNOWN_TOPIC}
)
_DENIED = frozenset({KafkaError.TOPIC_AUTHORIZATION_FAILED})
_PROBE_AFTER_S = 1.0  # idle this long: ask whether the topic is still there
_PROBE_EVERY_S = 1.0  # and ask again this often, at most
_CONFIRM_AFTER_S = 0.5  # sooner when the last answer said the topic is gone
_PROBE_TIMEOUT_S = 0.5  # short: the loop (and cancel) waits for the answer
_GONE_VOTES = 2  # answers in a row that say "no such topic" before the read ends

Verdict = tuple[type[ReadIncomplete], str]


class ReadWatch:
    """Collects a consumer's errors and says when its read has to end.

    ``on_error`` is the consumer's ``error_cb``: confluent-kafka calls it from
    ``consume()``, on the reading thread, so no lock is needed.
    """

    def __init__(
        self,
        topic: str,
        idle_timeout: float,
        secrets: Sequence[str] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``secrets``: values never to repeat in a status or a reason (librdkafka's
        texts are not ours to trust)."""
        self.topic = topic
        self._secrets = secrets
        self.idle_timeout = idle_timeout
        self._clock = clock
        self._last_progress = clock()
        self._new: list[KafkaError] = []
        self._last_error: str | None = None
        self._final: Verdict | None = None
        # An error that says the topic is gone makes the next probe come at once.
        self._gone_suspected = False
        self._gone_votes = 0
        self._next_probe = 0.0

    def on_error(self, err: KafkaError) -> None:
        self._new.append(err)

    def progressed(self) -> None:
        self._last_progress = self._clock()

    def take_statuses(self) -> list[str]:
        """Status lines for the errors seen since the last call (one per error)."""
        new, self._new = self._new, []
        statuses = []
        for err in new:
            text = scrub(err.str(), self._secrets)
            if err.fatal():
                self._final = self._final or (ReadIncomplete, text)
            elif err.code() in _DENIED:
                self._final = self._final or (ReadIncomplete, f"not authorized: {text}")
            elif err.code() in _GONE:
                self._gone_suspected = True
            self._last_error = text
            statuses.append(f"{text} (retrying)" if self._final is None else text)
        return statuses

    def verdict(self, consumer: Consumer, partitions: Iterable[int]) -> Verdict | None:
        """Why the read must end now, or None to go on."""
        if self._final is not None:
            return self._final
        now = self._clock()
        idle = now - self._last_progress
        if (self._gone_suspected or idle >= _PROBE_AFTER_S) and now >= self._next_probe:
            missing = self._missing(consumer, partitions)
            self._next_probe = now + (_CONFIRM_AFTER_S if missing else _PROBE_EVERY_S)
            self._gone_votes = self._gone_votes + 1 if missing else 0
            if missing and self._gone_votes >= _GONE_VOTES:
                return TopicDeleted, missing
        if idle > self.idle_timeout:
            cause = f"; last error: {self._last_error}" if self._last_error else ""
            return ReadStalled, f"no progress for {self.idle_timeout:g} s{cause}"
        return None

    def _missing(self, consumer: Consumer, partitions: Iterable[int]) -> str | None:
        """What of the read is gone from the cluster, asked of the cluster itself."""
        try:
            md = consumer.list_topics(self.topic, timeout=_PROBE_TIMEOUT_S)
        except KafkaException:
            return None  # no answer: the idle timeout decides
        tmd = md.topics.get(self.topic)
        if tmd is None or (tmd.error is not None and tmd.error.code() in _GONE):
            return f"the topic {self.topic} was deleted"
        if tmd.error is not None:
            return None
        lost = sorted(set(partitions) - set(tmd.partitions))
        if lost:
            which = ", ".join(map(str, lost))
            return f"the topic {self.topic} was deleted (it has no partition {which} now)"
        return None
