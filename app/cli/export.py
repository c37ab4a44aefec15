"""``event-explorer export``: a topic, or what of it matches the filters, to an event file.

The export keeps each record's coordinates and its raw key, header and value bytes (see
``kafka_io.eventfile``).  The filters are those of ``events`` and mean the same: each
batch read is checked with the same query code, and the records that pass are written
as they were read.  With ``--aggregate`` only the aggregate's partition is read when the
source can tell which one it is.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Generator, Iterator
from itertools import chain
from pathlib import Path

import numpy as np

from app.cli.common import (
    NothingMatched,
    UsageError,
    add_source_options,
    incomplete_exit,
    source_from,
)
from app.cli.filters import (
    Filters,
    add_filter_options,
    filters_from,
    say_not_in_its_partition,
    say_reading_everything,
)
from app.cli.masking import masker_from
from app.index.query import query_mask
from app.index.topic_index import TopicIndex
from app.output.export import FORMATS, export_events
from app.sources import FileSource, ReadReport, Source
from kafka_io.decode import Decoder
from kafka_io.event import Event


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="write a topic, or the events that match, to a self-contained Avro event file",
    )
    add_source_options(p)
    p.add_argument("--out", "-o", type=Path, required=True, help="FILE.avro to write")
    add_filter_options(p)
    p.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    source, topic = source_from(args)
    filters = filters_from(args)
    target: Path = args.out
    if not target.parent.is_dir():
        raise UsageError(f"cannot write {target}: no folder {target.parent}")
    if isinstance(source, FileSource) and target.resolve() == source.path.resolve():
        raise UsageError(f"{target} is the file being read; export to another file")
    if target.suffix.lower() not in FORMATS:
        raise UsageError(f"cannot export to {target.name}: use one of {', '.join(FORMATS)}")
    decoder = source.make_decoder()
    masker = masker_from(args, "export")
    selection = Selection(source, topic, filters, decoder)
    events: Iterator[Event] = iter(selection)
    if masker.active:  # the masked values, as JSON: the raw bytes never leave
        events = map(masker.event, events)
    first = next(events, None)  # nothing matched: leave the target as it was
    if first is None:
        if selection.report.incomplete is None:
            raise NothingMatched(f"{filters.nothing_matched(topic)}; {target} not written")
        return incomplete_exit(selection.report, "export")
    # Masked values are JSON now: the file must not claim the raw bytes' schemas.
    kept = None if masker.active else decoder
    count = export_events(target, chain([first], events), kept)
    print(f"exported {count} events of {topic} to {target}", file=sys.stderr)
    return incomplete_exit(selection.report, "export")


class Selection:
    """The events of a topic that pass the filters, in read order; then ``report``."""

    def __init__(self, source: Source, topic: str, filters: Filters, decoder: Decoder) -> None:
        self.source, self.topic, self.filters, self.decoder = source, topic, filters, decoder
        self.report = ReadReport()

    def __iter__(self) -> Iterator[Event]:
        aggregate = self.filters.aggregate
        parts = self.source.partitions_for_aggregate(self.topic, aggregate) if aggregate else None
        if aggregate and parts is None:
            say_reading_everything("export", self.source, self.topic)
        seen = yield from self._matching(parts)
        if parts and not seen and self.report.complete:
            say_not_in_its_partition("export", self.source, self.topic, aggregate or "", parts)
            yield from self._matching(None)

    def _matching(self, partitions: list[int] | None) -> Generator[Event, None, bool]:
        """Yield the matching events; return whether the aggregate was seen at all."""
        f = self.filters
        read = self.source.read(
            self.topic,
            partitions=partitions,
            from_ms=f.since_ms,
            to_ms=f.until_ms,
            decoder=self.decoder,
        )
        self.report = read.report
        query = f.query()
        seen = False
        for batch in read:
            if query.is_everything:
                yield from batch
                continue
            index = TopicIndex(self.topic)
            index.append(batch)
            seen = seen or (f.aggregate is not None and index.aggregate_id(f.aggregate) is not None)
            mask = query_mask(index, query)
            rows = range(len(batch)) if mask is None else np.flatnonzero(mask)
            for row in rows:
                yield batch[int(row)]
        return seen
