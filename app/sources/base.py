"""Where events come from: a Kafka cluster or an event file, behind one small interface.

The CLI, the GUI workers and the tests all read through these, so a file and a cluster
give the same Events and the same answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.profile import ConnectionProfile
from kafka_io.reader import CancelToken, ProgressCallback
from kafka_io.registry import Registry
from kafka_io.registry import make_registry as registry_client


class Source(Protocol):
    """Anything that can list its topics and read one of them in batches."""

    @property
    def name(self) -> str: ...

    @property
    def identity(self) -> str:
        """A stable id of the cluster or file, for the persisted index."""
        ...

    def topic_names(self) -> list[str]: ...

    def read(
        self,
        topic: str,
        *,
        partitions: Iterable[int] | None = None,
        from_ms: int | None = None,
        to_ms: int | None = None,
        cancel: CancelToken | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Iterator[list[Event]]: ...

    def partitions_for_aggregate(self, topic: str, aggregate: str) -> list[int] | None:
        """The partitions that can hold an aggregate's events (None: all of them)."""
        ...

    def decoder(self) -> Decoder: ...


def make_registry(profile: ConnectionProfile) -> Registry | None:
    """The profile's schema registry client, if it names one."""
    return registry_client(profile.registry_config())
