"""An event file (Avro container export, or kcat -J lines) as a source of events.

A file is read front to back in one pass; ``read(None)`` gives every topic's events
(what the GUI does when a file is opened), ``read(topic)`` one topic's.  A damaged file
gives what it holds before the damage, and the read's report says where it stopped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from app.sources.base import Listing, Progress, ProgressCallback, Read, ReadReport
from app.sources.settings import SourceSettings
from kafka_io.cancel import CancelToken
from kafka_io.decode import Decoder, ValueFormat
from kafka_io.event import Event
from kafka_io.eventfile import (
    EventFileError,
    detect_file_kind,
    iter_file_batches,
    open_event_file,
)
from kafka_io.metadata import TopicInfo
from kafka_io.proto_decode import PlainProto


@dataclass
class FileSource:
    path: Path
    settings: SourceSettings = field(default_factory=SourceSettings)
    _topics: list[str] | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def identity(self) -> str:
        st = self.path.stat()
        return f"file:{self.path.resolve()}:{st.st_size}:{st.st_mtime_ns}"

    @property
    def location(self) -> str:
        return str(self.path.resolve())

    def check(self) -> None:
        """Raise EventFileError (one line) if the file is not an event file at all."""
        if detect_file_kind(self.path) == "avro":
            open_event_file(self.path)

    @property
    def preloads(self) -> bool:
        return True

    @property
    def has_groups(self) -> bool:
        return False

    def clone(self, settings: SourceSettings | None = None) -> FileSource:
        return FileSource(self.path, self.settings if settings is None else settings)

    def expected_count(self) -> int | None:
        """Events in the file, when its header says (an export's does)."""
        if detect_file_kind(self.path) != "avro":
            return None
        return open_event_file(self.path).count

    def make_decoder(self) -> Decoder:
        """The file's own schemas and formats (no registry needed); given settings win."""
        settings = self.settings
        schemas: dict[int, str] = {}
        formats: dict[str, ValueFormat | str] = {}
        protos: dict[str | None, PlainProto] = {}
        if detect_file_kind(self.path) == "avro":
            event_file = open_event_file(self.path)
            schemas, formats = dict(event_file.schemas), dict(event_file.formats)
            protos = event_file.plain_protos()
        formats.update(settings.formats())
        protos.update(settings.protos())
        return Decoder(
            settings.default.value_format,
            settings.rulebook(),
            schemas=schemas,
            formats=formats,
            protos=protos,
        )

    def listing(self) -> Listing:
        infos = [TopicInfo(name, (), cleanup_policy="file") for name in self.topic_names()]
        return Listing(infos, groups_note="(none in a file)")

    def topic_names(self) -> list[str]:
        if self._topics is None:
            if detect_file_kind(self.path) == "avro":
                self._topics = sorted(open_event_file(self.path).topics)
            else:
                seen: set[str] = set()
                for batch in self.read(None):
                    seen.update(ev.topic for ev in batch)
                self._topics = sorted(seen)
        return self._topics

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
        wanted = set(partitions) if partitions is not None else None
        narrow = not (
            topic is None
            and wanted is None
            and from_ms is None
            and to_ms is None
            and key is None
            and end_offset is None
        )

        def keep(ev: Event) -> bool:
            return (
                (topic is None or ev.topic == topic)
                and (wanted is None or ev.partition in wanted)
                and (from_ms is None or ev.timestamp_ms >= from_ms)
                and (to_ms is None or ev.timestamp_ms <= to_ms)
                and (key is None or ev.key_bytes == key)
                and (end_offset is None or ev.offset <= end_offset)
            )

        def batches(report: ReadReport) -> Iterator[list[Event]]:
            expected = self.expected_count() or 0
            progress = Progress(topic or self.name, per_partition=False)
            done = 0
            chunks = iter_file_batches(self.path, decoder=decoder or self.make_decoder())
            try:
                for chunk in chunks:
                    if cancel is not None and cancel.cancelled:
                        report.cancelled = True
                        return
                    done += len(chunk)
                    # A file is read front to back: one bar for the file, not per partition.
                    progress.read = {0: done}
                    progress.total = {0: max(expected, done)}
                    if on_progress:
                        on_progress(progress)
                    batch = [ev for ev in chunk if keep(ev)] if narrow else chunk
                    if batch:
                        yield batch
            except EventFileError as exc:
                report.incomplete = _damage(str(exc), self.path, done)

        return Read(batches)

    def partitions_for_aggregate(self, topic: str, aggregate: str) -> list[int] | None:
        return None

    def pruning_note(self, topic: str) -> str | None:
        return None


_DAMAGED = re.compile(r"^.*?damaged after [\d,]+ events: ")


def _damage(message: str, path: Path, done: int) -> str:
    """ "damaged after 15,000 events: <reason>", whatever the reader's wording."""
    reason = _DAMAGED.sub("", message)
    for prefix in (f"{path}: ", f"{path.name}: "):
        reason = reason.removeprefix(prefix)
    return f"damaged after {done:,} events: {reason}"
