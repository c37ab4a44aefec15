"""An event file (Avro container export, or kcat -J lines) as a source of events."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from app.sources.decoders import file_decoder_factory
from kafka_io.cancel import CancelToken
from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.eventfile import detect_file_kind, iter_file_batches, open_event_file
from kafka_io.reader import ProgressCallback, ReadProgress
from kafka_io.rules import EventRules


@dataclass
class FileSource:
    """An exported event file (Avro container) or kcat ``-J`` JSON lines."""

    path: Path
    rules: EventRules = field(default_factory=EventRules)
    _decoder: Decoder | None = None
    _topics: list[str] | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def identity(self) -> str:
        st = self.path.stat()
        return f"file:{self.path.resolve()}:{st.st_size}:{st.st_mtime_ns}"

    def decoder(self) -> Decoder:
        if self._decoder is None:
            self._decoder = file_decoder_factory(self.path, self.rules)()
        return self._decoder

    def topic_names(self) -> list[str]:
        if self._topics is None:
            if detect_file_kind(self.path) == "avro":
                self._topics = sorted(open_event_file(self.path).topics)
            else:
                seen: set[str] = set()
                for batch in iter_file_batches(self.path, decoder=self.decoder()):
                    seen.update(ev.topic for ev in batch)
                self._topics = sorted(seen)
        return self._topics

    def read(
        self,
        topic: str,
        *,
        partitions: Iterable[int] | None = None,
        from_ms: int | None = None,
        to_ms: int | None = None,
        cancel: CancelToken | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Iterator[list[Event]]:
        wanted = set(partitions) if partitions is not None else None
        progress = ReadProgress(topic)
        for chunk in iter_file_batches(self.path, decoder=self.decoder()):
            if cancel is not None and cancel.cancelled:
                return
            batch = [
                ev
                for ev in chunk
                if ev.topic == topic
                and (wanted is None or ev.partition in wanted)
                and (from_ms is None or ev.timestamp_ms >= from_ms)
                and (to_ms is None or ev.timestamp_ms <= to_ms)
            ]
            for ev in batch:
                progress.read[ev.partition] = progress.read.get(ev.partition, 0) + 1
            # A file has no watermarks: what was read so far is also what is expected.
            progress.total = dict(progress.read)
            if on_progress:
                on_progress(progress)
            if batch:
                yield batch

    def partitions_for_aggregate(self, topic: str, aggregate: str) -> list[int] | None:
        return None
