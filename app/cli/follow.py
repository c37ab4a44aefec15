"""``events --follow`` and ``state --follow``: the command line's live mode, like
``kcat -C`` without ``-e``.

Following reads with the same read-only consumer as every read and goes on until
Ctrl-C or a closed pipe, which end it normally (exit 0).  ``--timeout`` bounds only the
first connection; after that a lost broker is a "reconnecting" line on stderr and
following resumes where it stopped.  A deleted topic ends it with a message (exit 2).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from app.cli.common import ExitCode, UsageError, out, say
from app.cli.filters import Filters
from app.cli.masking import masker_from
from app.index.query import query_mask
from app.index.topic_index import TopicIndex
from app.output.event_json import dumps, event_record
from app.replay.cold_read import read_aggregate
from app.replay.folds import FoldSpec
from app.replay.runner import run_fold
from app.replay.upcasting import Upcasting
from app.sources import FollowableSource, Source
from kafka_io.cancel import CancelToken
from kafka_io.event import Event, EventRef, iso_utc
from kafka_io.follow import FollowEnded


def followable(source: Source, command: str) -> FollowableSource:
    if not isinstance(source, FollowableSource):
        raise UsageError("--follow follows a topic of a cluster: give --bootstrap and --topic")
    return source


def matching(topic: str, batch: list[Event], filters: Filters) -> list[Event]:
    """The events of a batch that pass the filters (the query path every command uses)."""
    query = filters.query()
    if query.is_everything:
        return batch
    index = TopicIndex(topic)
    index.append(batch)
    mask = query_mask(index, query)
    return batch if mask is None else [batch[int(r)] for r in np.flatnonzero(mask)]


def print_event(ev: Event, as_json: bool) -> None:
    if as_json:
        out(dumps(event_record(ev)))
    else:
        mark = f"  !! {ev.error}" if ev.error else ""
        out(f"{iso_utc(ev.timestamp_ms)}  {ev.partition}:{ev.offset}  "
            f"{ev.aggregate or '-'}  {ev.type}{mark}")  # fmt: skip
    sys.stdout.flush()


def follow_events(
    args: argparse.Namespace, source: Source, topic: str, filters: Filters
) -> ExitCode:
    """Print the events produced from now on (or from ``--from``, then the new ones)."""
    live = followable(source, "events")
    masker = masker_from(args, "events")
    partitions, key = _narrowed(live, topic, filters.aggregate)
    start: dict[int, int] | None = None
    if filters.since_ms is not None:
        read = live.read(topic, partitions=partitions, key=key, from_ms=filters.since_ms)
        for batch in read:
            for ev in matching(topic, batch, filters):
                print_event(masker.event(ev), args.json)
        start = dict(read.report.reached)
    return _follow(live, topic, partitions, key, start,
                   lambda ev: print_event(masker.event(ev), args.json),
                   filters, "events")  # fmt: skip


def follow_state(
    args: argparse.Namespace,
    source: Source,
    topic: str,
    spec: FoldSpec,
    upcast: Upcasting | None = None,
) -> ExitCode:
    """The state now (or nothing yet), then the state after each new event of the
    aggregate, as ``--history`` rows (old event versions upcast first)."""
    prepare = None if upcast is None else upcast.apply
    live = followable(source, "state")
    masker = masker_from(args, "state")
    aggregate = args.aggregate
    got = read_aggregate(live, topic, aggregate)
    if got.note is not None:
        say("state", got.note)
    outcome = run_fold(spec, None, got.events, prepare=prepare)
    if outcome.failure is not None:
        say("state", outcome.failure.describe())
        return ExitCode.ERROR
    state: list[Any] = [outcome.state, len(got.events)]
    if got.events:
        _print_row(state[1], EventRef.of(got.events[-1]), masker.state(state[0]))
    else:
        say("state", f"{aggregate!r} has no events in {topic} yet; waiting for its first")
    partitions = got.partitions  # the partition the aggregate was found in, or all

    def step(ev: Event) -> None:
        done = run_fold(spec, state[0], [ev], prepare=prepare)
        if done.failure is not None:
            raise _FoldFailed(done.failure.describe())
        state[0], state[1] = done.state, state[1] + 1
        _print_row(state[1], EventRef.of(ev), masker.state(state[0]))

    key = aggregate.encode() if partitions is not None else None
    start = dict(got.report.reached) if got.report.reached else None
    try:
        return _follow(live, topic, partitions, key, start, step,
                       Filters(aggregate=aggregate), "state")  # fmt: skip
    except _FoldFailed as exc:
        say("state", str(exc))
        return ExitCode.ERROR


class _FoldFailed(Exception):
    pass


def _print_row(n: int, ref: EventRef, state: Any) -> None:
    out(dumps({"n": n, "event": ref.to_json(), "state": state}))
    sys.stdout.flush()


def _narrowed(
    source: FollowableSource, topic: str, aggregate: str | None
) -> tuple[list[int] | None, bytes | None]:
    """One aggregate's partition and key, when the source can tell where it lives."""
    if aggregate is None:
        return None, None
    partitions = source.partitions_for_aggregate(topic, aggregate)
    if partitions is None:
        why = source.pruning_note(topic)
        if why is not None:
            say("events", f"following every partition: {why}")
        return None, None
    return partitions, aggregate.encode()


def _follow(
    source: FollowableSource,
    topic: str,
    partitions: list[int] | None,
    key: bytes | None,
    start: dict[int, int] | None,
    each: Callable[[Event], None],
    filters: Filters,
    command: str,
) -> ExitCode:
    cancel = CancelToken()
    following = source.follow(
        topic, cancel, start=start, partitions=partitions, key=key,
        on_status=lambda text: say(command, text),
    )  # fmt: skip
    try:
        for batch in _batches(following):
            for ev in matching(topic, batch, filters):
                each(ev)
    except FollowEnded as exc:
        say(command, str(exc))
        return ExitCode.ERROR
    except (KeyboardInterrupt, BrokenPipeError):
        pass  # ending a follow is the normal way out
    finally:
        cancel.cancel()
    return ExitCode.OK


def _batches(following: Any) -> Iterator[list[Event]]:
    yield from following
