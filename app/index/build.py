"""Reading what an index lacks as column batches in log order, on every core.

``BuildRead`` reads offset ranges of a cluster topic through ``kafka_io.parallel_read``
(worker processes by partition, or the calling thread for small reads), has each
worker turn its batches into column batches (``app.index.batch.Columnizer``), merges
them into log order (``app.index.merge``) and yields ``ColumnBatch``es ready for
``TopicIndex.append_columns``.  Iterate it, then look at ``report`` (a ``ReadReport``,
as the read door's reads give).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Sequence

from app.index.batch import ColumnBatch, Columnizer, new_stream_id
from app.index.merge import LogMerge
from app.sources import ClusterSource, Progress
from app.sources.base import ProgressCallback, ReadReport
from kafka_io.bulk_decode import decode_columns
from kafka_io.cancel import CancelToken
from kafka_io.decode import Decoder
from kafka_io.errors import ReadIncomplete
from kafka_io.parallel_read import ParallelRead
from kafka_io.read_stats import PartitionRange, ReadProgress, ReadStats
from kafka_io.worker_pool import Converter, plain, rebuild

# Below this many records a read stays in the calling thread: starting worker
# processes (an interpreter each, plus a consumer's connection) costs about a second.
PARALLEL_MIN_RECORDS = 300_000
MAX_WORKERS = 8


def auto_workers(ranges: Sequence[PartitionRange], cpus: int | None = None) -> int:
    """Worker processes worth starting for ``ranges`` (0: read in this thread)."""
    total = sum(r.total for r in ranges)
    busy = sum(1 for r in ranges if r.total > 0)
    if total < PARALLEL_MIN_RECORDS or busy < 2:
        return 0
    return max(0, min(cpus or os.cpu_count() or 1, busy, MAX_WORKERS))


def _columnizer(base: int, worker: int, decoder: Decoder) -> Converter:
    """A worker's converter: its records decoded in bulk, as its stream's column batches."""
    columnize = Columnizer(base + worker + 1)
    return lambda records: columnize(decode_columns(decoder, records))


class DecoderRecipe:
    """Makes, in a worker process, the decoder the source would make: the same
    settings and registry, rebuilt from plain parts (pickle refuses read-only mappings)."""

    def __init__(self, source: ClusterSource) -> None:
        self.profile = plain(source.profile)
        self.settings = plain(source.settings)

    def __call__(self) -> Decoder:
        return ClusterSource(rebuild(self.profile), rebuild(self.settings)).make_decoder()


class BuildRead:
    """Column batches of ``ranges`` in log order; then ``report``."""

    def __init__(
        self,
        source: ClusterSource,
        topic: str,
        ranges: Sequence[PartitionRange],
        *,
        max_ts: dict[int, int] | None = None,
        workers: int | None = None,
        cancel: CancelToken | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.source = source
        self.topic = topic
        self.ranges = list(ranges)
        self.workers = auto_workers(self.ranges) if workers is None else workers
        self.cancel = cancel
        self.on_progress = on_progress
        self.merge = LogMerge([r.partition for r in self.ranges if r.total > 0], max_ts)
        self.report = ReadReport()
        self.pids: list[int] = []
        self._read: ParallelRead | None = None

    def __iter__(self) -> Iterator[ColumnBatch]:
        def progress(p: ReadProgress) -> None:
            if self.on_progress is not None:
                self.on_progress(Progress(p.topic, dict(p.read), dict(p.total), p.status))

        make_decoder = self.source.clone().make_decoder if self.workers <= 0 else None
        read = ParallelRead(
            self.source.profile,
            self.topic,
            self.ranges,
            make_decoder or DecoderRecipe(self.source),
            functools.partial(_columnizer, new_stream_id()),
            workers=self.workers,
            cancel=self.cancel,
            on_progress=progress,
        )
        self._read = read
        merge = self.merge
        stopped = True
        deliveries = iter(read)
        try:
            for delivery in deliveries:
                self.pids = read.pids
                merge.add(delivery.payload)
                merge.finished(delivery.finished)
                out = merge.release()
                if out is not None:
                    self.report.events += len(out)
                    yield out
            stopped = False
        except ReadIncomplete as exc:
            # What was read is kept (flushed below); the report says the read is not whole.
            self.report.incomplete = str(exc)
            stopped = False
        finally:
            if stopped:
                close = getattr(deliveries, "close", None)
                if close is not None:
                    close()  # the caller stopped: stop the workers now
            self._fill_report(read.stats)
        if not stopped:
            rest = merge.flush()
            if rest is not None:
                self.report.events += len(rest)
                yield rest

    def _fill_report(self, stats: ReadStats) -> None:
        report = self.report
        report.take_stats(stats)
        if report.incomplete is None and stats.incomplete is not None and not stats.cancelled:
            report.incomplete = stats.incomplete
