"""The one door to data: what every source (a Kafka cluster, an event file) offers.

The CLI, the GUI's jobs and the tests read only through a ``Source``: it lists its
topics and groups, makes the decoder with each topic's settings, and reads a topic (or
one aggregate of it) in batches with progress and cancel.  A read is a ``Read``: iterate
it for the batches, then look at its ``report`` to learn whether it was complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from app.sources.settings import SourceSettings
from kafka_io.cancel import CancelToken
from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.metadata import GroupInfo, TopicInfo
from kafka_io.profile import ConnectionProfile
from kafka_io.read_stats import ReadStats
from kafka_io.registry import Registry
from kafka_io.registry import make_registry as registry_client


@dataclass(frozen=True)
class Listing:
    """What a source holds: its topics and, for a cluster, its consumer groups."""

    topics: list[TopicInfo]
    groups: list[GroupInfo] = field(default_factory=list)
    groups_error: str | None = None
    # Said in place of the groups when there are none to show ("none in a file").
    groups_note: str = "(none)"


@dataclass
class Progress:
    """Records read and expected per partition of a running read, and a status line.

    ``per_partition`` False: one bar for the whole read (a file is read front to back,
    its "partition 0" counts the file's records)."""

    title: str
    read: dict[int, int] = field(default_factory=dict)
    total: dict[int, int] = field(default_factory=dict)
    status: str = ""
    per_partition: bool = True

    @property
    def done(self) -> int:
        return sum(self.read.values())

    @property
    def expected(self) -> int:
        return sum(self.total.values())


ProgressCallback = Callable[[Progress], None]


@dataclass
class ReadReport:
    """How a read ended: what it got, and whether that is everything it was asked for."""

    events: int = 0
    cancelled: bool = False
    # Why the read stopped before its end (a damaged file, a lost broker...), or None.
    incomplete: str | None = None
    # partition -> offsets in the planned range that held no record
    gaps: dict[int, int] = field(default_factory=dict)
    # Messages seen on the way (retries), for a status line.
    errors: list[str] = field(default_factory=list)
    # The partitions a cluster read was assigned (a one-aggregate read assigns one).
    assigned: list[int] = field(default_factory=list)
    # partition -> the next offset the read really got to (an open transaction stops a
    # partition at its last stable offset): what an index may record as done.
    reached: dict[int, int] = field(default_factory=dict)
    # partition -> offsets an open transaction still holds back.
    pending: dict[int, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.cancelled and self.incomplete is None

    def take_stats(self, stats: ReadStats) -> None:
        """What a reader counted on the way: cancel, gaps, retries, partitions, reach."""
        self.cancelled = stats.cancelled
        self.gaps = dict(stats.gaps)
        self.errors = list(stats.errors)
        self.assigned = list(stats.assigned)
        self.reached = dict(stats.reached)
        self.pending = dict(stats.pending)


class Read:
    """Batches of a read, then its report: ``for batch in read: ...; read.report``."""

    def __init__(self, batches: Callable[[ReadReport], Iterator[list[Event]]]) -> None:
        self.report = ReadReport()
        self._batches = batches(self.report)

    def __iter__(self) -> Iterator[list[Event]]:
        for batch in self._batches:
            self.report.events += len(batch)
            yield batch

    def events(self) -> Iterator[Event]:
        for batch in self:
            yield from batch


class Source(Protocol):
    """Anything that can list its topics and read them in batches."""

    settings: SourceSettings

    @property
    def name(self) -> str: ...

    @property
    def identity(self) -> str:
        """A stable id of the cluster or file, for the persisted index."""
        ...

    @property
    def location(self) -> str:
        """Where the source is (bootstrap servers, a file's path): what settings such as
        per-topic rules are remembered under."""
        ...

    @property
    def preloads(self) -> bool:
        """True: one pass reads every topic, done when the source is opened (an event
        file).  False: each topic is read when it is asked for (a cluster)."""
        ...

    @property
    def has_groups(self) -> bool:
        """Whether the source has consumer groups whose lag can be sampled."""
        ...

    def clone(self, settings: SourceSettings | None = None) -> Source:
        """The same source for another thread (no client shared), or with other settings."""
        ...

    def listing(self) -> Listing: ...

    def topic_names(self) -> list[str]: ...

    def make_decoder(self) -> Decoder:
        """A fresh decoder with the source's settings (one per thread: decoders cache)."""
        ...

    def read(
        self,
        topic: str | None,
        *,
        partitions: Iterable[int] | None = None,
        from_ms: int | None = None,
        to_ms: int | None = None,
        key: bytes | None = None,
        end_offset: int | None = None,
        cancel: CancelToken | None = None,
        on_progress: ProgressCallback | None = None,
        decoder: Decoder | None = None,
    ) -> Read:
        """A topic's events (``topic`` None: every topic, a file's one pass).

        ``partitions``, ``from_ms``/``to_ms`` (inclusive), ``key`` (only records with
        this key: one aggregate) and ``end_offset`` (inclusive) narrow the read.
        """
        ...

    def partitions_for_aggregate(self, topic: str, aggregate: str) -> list[int] | None:
        """The partitions that can hold an aggregate's events (None: all of them)."""
        ...

    def pruning_note(self, topic: str) -> str | None:
        """How the source tells an aggregate's partition, with the evidence (the detected
        partitioner, say); None when it reads everything anyway (a file)."""
        ...


class Following(Protocol):
    """A topic being followed: iterate for its new batches (until cancelled); the next
    offset of each partition is where following stands."""

    @property
    def positions(self) -> dict[int, int]: ...

    def __iter__(self) -> Iterator[list[Event]]: ...


@runtime_checkable
class FollowableSource(Source, Protocol):
    """A source whose topics grow while you look (a cluster): it can follow one."""

    def follow(
        self,
        topic: str,
        cancel: CancelToken,
        *,
        start: Mapping[int, int] | None = None,
        partitions: Iterable[int] | None = None,
        key: bytes | None = None,
        on_status: Callable[[str], None] | None = None,
        decoder: Decoder | None = None,
    ) -> Following: ...

    def clone(self, settings: SourceSettings | None = None) -> FollowableSource: ...


def make_registry(profile: ConnectionProfile) -> Registry | None:
    """The profile's schema registry client, if it names one."""
    return registry_client(profile.registry_config())
