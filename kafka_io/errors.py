"""Errors kafka_io raises to its callers, each meant to be shown as one clear line."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the stats module needs nothing from here; only the type is shared
    from kafka_io.read_stats import ReadStats


class KafkaIOError(Exception):
    """Base of every error kafka_io lets out."""


class KafkaUnavailable(KafkaIOError):
    """The cluster could not be reached (or stopped answering) within the timeout."""


class TopicNotFound(KafkaIOError):
    """The topic does not exist on the cluster."""


class ConfigError(KafkaIOError):
    """librdkafka rejected a property given with ``-X`` or in the config file.

    The message names the property and never carries the value of a secret one.
    """

    def __init__(self, message: str, prop: str | None = None) -> None:
        super().__init__(message)
        self.prop = prop


class ReadIncomplete(KafkaIOError):
    """A read ended before the end of its ranges, for a reason other than cancel.

    Raised by ``TopicReader.read`` after the batches it did read were yielded: those
    stay with the caller, and ``stats`` (the reader's own) says how far each partition
    got (``stats.reached``) and why the read stopped (``stats.incomplete``).  An
    exception rather than only a flag, so no caller can take a partial read for a
    whole one by forgetting to look.
    """

    def __init__(self, topic: str, reason: str, stats: ReadStats) -> None:
        super().__init__(
            f"reading {topic} stopped before the end: {reason} "
            f"({stats.events} events read are kept)"
        )
        self.topic = topic
        self.reason = reason
        self.stats = stats


class TopicDeleted(ReadIncomplete, TopicNotFound):
    """The topic was deleted while it was being read."""


class ReadStalled(ReadIncomplete, KafkaUnavailable):
    """No progress for longer than the idle timeout: the broker is unreachable (or the
    partition leaderless, or authentication keeps failing)."""
