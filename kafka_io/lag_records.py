"""What one lag sampling round saw: frozen records, shared by the sampler and its readers.

Kept apart from the sampler (``kafka_io.lag``, which re-exports them) so that code
which only reads samples, and tests that make them up, need none of the sampling.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

TopicPartitionKey = tuple[str, int]
# Where the oldest waiting record's timestamp came from: the record at the committed
# offset itself, or the first record after it when that offset holds none any more
# (deleted by retention, removed by compaction, or a transaction marker).
RecordSource = Literal["record", "next_record"]


@dataclass(frozen=True, slots=True)
class PartitionOffsets:
    """One partition as one group sees it."""

    topic: str
    partition: int
    committed: int | None  # None: the group has never committed here
    end: int | None  # high watermark; None when it could not be read
    error: str | None = None
    # The oldest unconsumed record, read from the log when records are waiting: its
    # timestamp (ms) and its offset (the committed offset, or the first after it).
    # None when nothing is waiting, or when no record could be read in time.
    oldest_ms: int | None = None
    oldest_offset: int | None = None

    @property
    def lag(self) -> int | None:
        if self.committed is None or self.end is None:
            return None
        # Offsets are read a few ms before the watermark, never after, so a negative
        # difference can only come from a truncated or recreated topic.
        return max(self.end - self.committed, 0)

    @property
    def oldest_source(self) -> RecordSource | None:
        if self.oldest_ms is None or self.oldest_offset is None:
            return None
        return "record" if self.oldest_offset == self.committed else "next_record"


@dataclass(frozen=True, slots=True)
class GroupOffsets:
    """One consumer group at one instant."""

    group: str
    state: str  # Kafka's group state name: STABLE, EMPTY, DEAD, PREPARING_REBALANCE, ...
    members: int
    partitions: tuple[PartitionOffsets, ...] = ()
    error: str | None = None

    @property
    def total_lag(self) -> int | None:
        lags = [p.lag for p in self.partitions if p.lag is not None]
        return sum(lags) if lags else None


@dataclass(frozen=True, slots=True)
class LagSample:
    """Everything one sampling round saw.

    ``watermarks`` holds the high watermark of every partition read in this round,
    including topics watched for their rate only; ``time_ms`` is when they were read,
    so each sample adds one (offset, time) point per partition to the history that
    turns lag in records into lag in seconds where the record itself could not be read.
    """

    time_ms: int
    groups: tuple[GroupOffsets, ...] = ()
    watermarks: Mapping[TopicPartitionKey, int] = field(default_factory=dict)
    error: str | None = None
    elapsed_s: float = 0.0
    # Problems that did not spoil the round: a watched topic that does not exist,
    # a partition whose watermark or oldest waiting record could not be read.
    warnings: tuple[str, ...] = ()
    # Offsets whose record was read from the log in this round to time the oldest
    # waiting event (the others came from the cache): the cost beyond the admin calls.
    record_lookups: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "watermarks", MappingProxyType(dict(self.watermarks)))

    @property
    def ok(self) -> bool:
        return self.error is None
