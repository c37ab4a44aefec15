"""A profile's topic lock: the app shows and reads only the topics it names.

``LockedClusterSource`` is a ``ClusterSource`` whose listings leave the other topics
out and whose reads of another topic are refused (``TopicLocked``, one clear line), so
the CLI and the GUI, which both read through a source, get the same lock.
``tests/app/profiles/test_lock.py`` fails when ``ClusterSource`` gains a method about a
topic that the lock does not cover.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any

from app.sources import ClusterSource, Following, Listing, Read, SourceSettings
from kafka_io.cancel import CancelToken
from kafka_io.lag import LagSample
from kafka_io.metadata import PartitionInfo
from kafka_io.partition_detect import Detection
from kafka_io.properties import ProfileError
from kafka_io.reader import PartitionRange


class TopicLocked(ProfileError):
    """A topic outside the profile's locked topics was asked for."""


@dataclass(frozen=True)
class TopicLock:
    patterns: tuple[str, ...] = ()
    profile: str = ""

    def allows(self, topic: str) -> bool:
        return not self.patterns or any(fnmatchcase(topic, p) for p in self.patterns)

    def check(self, topic: str) -> None:
        if not self.allows(topic):
            raise TopicLocked(
                f"topic {topic!r} is outside the topics profile {self.profile} allows "
                f"({', '.join(self.patterns)})"
            )

    def visible(self, topics: Iterable[str]) -> list[str]:
        return [t for t in topics if self.allows(t)]

    def lag(self, sample: LagSample) -> LagSample:
        """A lag sample with only the partitions of allowed topics, and only the groups
        that have some (a group of other topics is not shown)."""
        if not self.patterns:
            return sample
        groups = []
        for group in sample.groups:
            kept = tuple(p for p in group.partitions if self.allows(p.topic))
            if kept:
                groups.append(replace(group, partitions=kept))
        marks = {tp: end for tp, end in sample.watermarks.items() if self.allows(tp[0])}
        return replace(sample, groups=tuple(groups), watermarks=marks)


@dataclass
class LockedClusterSource(ClusterSource):
    lock: TopicLock = field(default_factory=TopicLock)

    def clone(self, settings: SourceSettings | None = None) -> LockedClusterSource:
        return LockedClusterSource(
            self.profile,
            self.settings if settings is None else settings,
            _cluster_id=self._cluster_id,
            lock=self.lock,
        )

    def listing(self) -> Listing:
        found = super().listing()
        topics = [t for t in found.topics if self.lock.allows(t.name)]
        return replace(found, topics=topics)

    def topic_names(self) -> list[str]:
        return self.lock.visible(super().topic_names())

    def partitions(self, topic: str) -> tuple[PartitionInfo, ...]:
        self.lock.check(topic)
        return super().partitions(topic)

    def read(self, topic: str | None, **kwargs: Any) -> Read:
        if topic is not None:
            self.lock.check(topic)
        return super().read(topic, **kwargs)

    def read_ranges(self, topic: str, ranges: list[PartitionRange], **kwargs: Any) -> Read:
        self.lock.check(topic)
        return super().read_ranges(topic, ranges, **kwargs)

    def follow(self, topic: str, cancel: CancelToken, **kwargs: Any) -> Following:
        self.lock.check(topic)
        return super().follow(topic, cancel, **kwargs)

    def detection(self, topic: str) -> Detection:
        self.lock.check(topic)
        return super().detection(topic)

    def partitions_for_aggregate(self, topic: str, aggregate: str) -> list[int] | None:
        self.lock.check(topic)
        return super().partitions_for_aggregate(topic, aggregate)

    def pruning_note(self, topic: str) -> str | None:
        self.lock.check(topic)
        return super().pruning_note(topic)
