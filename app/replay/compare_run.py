"""Comparing two folds over a whole topic, on every core.

Aggregates never cross partitions, so the partitions are split into one group per core
(the largest first, each to the least loaded group) and each group is compared by its
own worker process.  A worker makes its own source and decoder from a recipe, loads the
fold files from their paths (a fold is user code: nothing of it can be sent), reads its
partitions through the one read door and folds them as they arrive
(``app.replay.compare.StreamCompare``): the parent never touches an event.  The parent
gathers progress, cancels by an event every worker watches (then terminates stragglers),
and redoes the exact way whatever a worker could not decide.

Why re-read instead of handing the workers the parent's index: taking a million rows
out of an index (key, headers, value of each) is a few seconds of Python in the
parent alone, one core, before any worker starts; a worker reading its own partitions
decodes them in the reader's batch path, in parallel.  An event file is read whole by
each worker (a file has no partitions to seek to); a small topic (or one whose folds
cannot cross a process) is compared in this process, the same way.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.replay import fold_guard
from app.replay.compare import AggregateDiff, CompareCancelled, StreamCompare, StreamResult
from app.replay.compare import compare_events as exact_compare
from app.replay.folds import FoldSpec
from app.replay.portable import FoldRef, SourceRecipe, UpcastRecipe
from app.replay.runner import DEFAULT_BUDGET_S, Cancellable
from app.replay.upcasting import Upcasting
from app.sources import ClusterSource, FileSource, Source
from kafka_io.cancel import CancelToken

# Below this many events, starting processes costs more than it saves.
IN_PROCESS_BELOW = 50_000
ProgressFn = Callable[[int, int], None]  # events compared, events expected


class CompareFailed(Exception):
    """A worker process failed (its error, in one line) or died."""


@dataclass
class CompareReport:
    differ: list[AggregateDiff]
    aggregates: int
    events: int
    processes: int  # 1: compared in this process
    seconds: float
    incomplete: list[str] = field(default_factory=list)  # why reads ended early
    redone: int = 0  # aggregates compared the exact way after the fast pass
    unkeyed: int = 0

    @property
    def failed(self) -> bool:
        return any(d.failures for d in self.differ)

    def summary(self) -> dict[str, int]:
        return {"aggregates": self.aggregates, "differ": len(self.differ)}


@dataclass(frozen=True)
class Part:
    """One worker's share: explicit partitions (a cluster) or p % of == number (a file)."""

    number: int
    partitions: tuple[int, ...] | None
    of: int


@dataclass(frozen=True)
class PartTask:
    part: Part
    source: SourceRecipe
    topic: str
    fold_a: FoldRef
    fold_b: FoldRef
    upcast: UpcastRecipe | None
    at_ms: int | None
    budget_s: float


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def plan_parts(source: Source, topic: str, workers: int) -> tuple[list[Part], int]:
    """The partition groups, and how many events the topic holds (0: unknown)."""
    if isinstance(source, ClusterSource):
        infos = [p for p in source.partitions(topic) if p.high > p.low]
        expected = sum(p.high - p.low for p in infos)
        groups: list[list[int]] = [[] for _ in range(max(1, min(workers, len(infos))))]
        loads = [0] * len(groups)
        for info in sorted(infos, key=lambda p: p.high - p.low, reverse=True):
            i = loads.index(min(loads))
            groups[i].append(info.partition)
            loads[i] += info.high - info.low
        return [Part(i, tuple(sorted(g)), len(groups)) for i, g in enumerate(groups)], expected
    expected = (source.expected_count() or 0) if isinstance(source, FileSource) else 0
    return [Part(i, None, workers) for i in range(workers)], expected


def run_part(
    source: Source,
    topic: str,
    part: Part,
    fold_a: FoldSpec,
    fold_b: FoldSpec,
    upcast: Upcasting | None,
    at_ms: int | None,
    budget_s: float,
    progress: Callable[[int], None],
    cancel: CancelToken,
) -> tuple[StreamResult, str | None]:
    """Compare one share of the topic; (what it found, why its read ended early)."""
    read = source.read(topic, partitions=part.partitions, cancel=cancel)
    with StreamCompare(
        fold_a, fold_b, upcast=upcast, at_ms=at_ms, budget_s=budget_s, cancel=cancel
    ) as stream:
        for batch in read:
            if part.partitions is None and part.of > 1:
                batch = [e for e in batch if e.partition % part.of == part.number]
            stream.feed(batch)
            progress(len(batch))
    if read.report.cancelled or cancel.cancelled:
        raise CompareCancelled()
    return stream.finish(), read.report.incomplete


class _Polled(CancelToken):
    """A token cancelled once ``is_set()`` says so: polled, never waited on.  (A process
    that ends while waiting on a multiprocessing Event leaves the parent's ``set()``
    waiting for it forever.)"""

    def __init__(self, is_set: Callable[[], bool]) -> None:
        super().__init__()
        self._is_set = is_set

    @property
    def cancelled(self) -> bool:
        if self._is_set():
            self.cancel()
        return super().cancelled


def _process_main(task: PartTask, messages: Any, stop: Any) -> None:
    """A worker process: its share, then one message with the result (or the failure)."""
    # Its results go through the queue: whatever the folds print belongs on stderr, and
    # os._exit in a fold is the fold's failure, as in the parent.
    sys.stdout = sys.stderr
    fold_guard.install_exit_guard()
    token = _Polled(stop.is_set)
    number = task.part.number
    try:
        source = task.source.make()
        upcast = task.upcast.resolve(source) if task.upcast is not None else None
        found = run_part(
            source, task.topic, task.part, task.fold_a.resolve(), task.fold_b.resolve(),
            upcast, task.at_ms, task.budget_s,
            lambda n: messages.put(("progress", number, n)), token,
        )  # fmt: skip
        messages.put(("done", number, found))
    except CompareCancelled:
        messages.put(("cancelled", number, None))
    except BaseException as exc:  # reaches the parent as one line, never lost
        messages.put(("failed", number, f"{type(exc).__name__}: {exc}"))


class _Workers:
    """The worker processes of one comparison, and their messages."""

    def __init__(self, tasks: list[PartTask]) -> None:
        ctx = multiprocessing.get_context("spawn")  # no fork: the parent may run Qt threads
        self.messages: Any = ctx.Queue()
        self.stop = ctx.Event()
        self.procs = {
            t.part.number: ctx.Process(
                target=_process_main,
                args=(t, self.messages, self.stop),
                daemon=True,
                name=f"compare-{t.part.number}",
            )
            for t in tasks
        }
        for proc in self.procs.values():
            proc.start()

    def results(
        self, cancel: Cancellable | None, progress: Callable[[int], None]
    ) -> dict[int, tuple[StreamResult, str | None]]:
        pending = set(self.procs)
        out: dict[int, tuple[StreamResult, str | None]] = {}
        gone_since: dict[int, float] = {}
        while pending:
            if cancel is not None and cancel.cancelled:
                raise CompareCancelled()
            try:
                kind, number, payload = self.messages.get(timeout=0.1)
            except queue_module.Empty:
                for number in pending:  # a worker that died without a word
                    if self.procs[number].exitcode is not None:
                        since = gone_since.setdefault(number, time.monotonic())
                        if time.monotonic() - since > 2.0:
                            code = self.procs[number].exitcode
                            raise CompareFailed(
                                f"compare worker {number} ended (exit code {code})"
                            ) from None
                continue
            if kind == "progress":
                progress(payload)
            elif kind == "done":
                out[number] = payload
                pending.discard(number)
            elif kind == "cancelled":
                raise CompareCancelled()
            else:
                raise CompareFailed(f"compare worker {number} failed: {payload}")
        return out

    def close(self) -> None:
        self.stop.set()
        deadline = time.monotonic() + 3.0
        for proc in self.procs.values():
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():  # a fold stuck in C code: no cooperation left to wait for
                proc.terminate()
                proc.join(1.0)
        self.messages.close()
        self.messages.cancel_join_thread()


def compare_topic(
    source: Source,
    topic: str,
    fold_a: FoldSpec,
    fold_b: FoldSpec,
    *,
    upcast: Upcasting | None = None,
    at_ms: int | None = None,
    processes: int | None = None,
    cancel: Cancellable | None = None,
    progress: ProgressFn | None = None,
    budget_s: float = DEFAULT_BUDGET_S,
) -> CompareReport:
    """Every aggregate of ``topic`` replayed with both folds; those whose states differ.

    ``processes``: worker processes (default: one per core; 1 compares here).  Raises
    CompareCancelled when ``cancel`` is set."""
    started = time.monotonic()
    wanted = processes if processes is not None else cores()
    parts, expected = plan_parts(source, topic, max(1, wanted))
    tasks = _tasks(source, topic, parts, fold_a, fold_b, upcast, at_ms, budget_s)
    done = [0]

    def step(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(done[0], max(expected, done[0]))

    if tasks is None or len(tasks) < 2 or (processes is None and expected < IN_PROCESS_BELOW):
        if cancel is not None and cancel.cancelled:
            raise CompareCancelled()
        token = _Polled(lambda: cancel is not None and cancel.cancelled)
        whole = Part(0, None, 1)
        found = {
            0: run_part(source, topic, whole, fold_a, fold_b, upcast, at_ms, budget_s, step, token)
        }
        used = 1
    else:
        workers = _Workers(tasks)
        try:
            found = workers.results(cancel, step)
        finally:
            workers.close()
        used = len(tasks)
    return _merge(source, topic, found, fold_a, fold_b, upcast, at_ms, used, started)


def _tasks(
    source: Source, topic: str, parts: list[Part], fold_a: FoldSpec, fold_b: FoldSpec,
    upcast: Upcasting | None, at_ms: int | None, budget_s: float,
) -> list[PartTask] | None:  # fmt: skip
    """The workers' tasks; None when something cannot cross a process boundary."""
    recipe = SourceRecipe.of(source)
    ref_a, ref_b = FoldRef.of(fold_a), FoldRef.of(fold_b)
    up = UpcastRecipe.of(upcast, topic)
    if recipe is None or ref_a is None or ref_b is None or up is False:
        return None
    return [PartTask(p, recipe, topic, ref_a, ref_b, up, at_ms, budget_s) for p in parts]


def _merge(
    source: Source, topic: str, found: dict[int, tuple[StreamResult, str | None]],
    fold_a: FoldSpec, fold_b: FoldSpec, upcast: Upcasting | None, at_ms: int | None,
    used: int, started: float,
) -> CompareReport:  # fmt: skip
    differ: list[AggregateDiff] = []
    redo: set[str] = set()
    where: dict[str, set[int]] = defaultdict(set)
    events = unkeyed = 0
    incomplete = []
    for result, why in found.values():
        differ += result.differ
        redo |= result.redo
        events += result.events
        unkeyed += result.unkeyed
        for agg, partition in result.seen.items():
            where[agg].add(partition)
        if why is not None:
            incomplete.append(why)
    redo |= {agg for agg, parts in where.items() if len(parts) > 1}  # across two workers
    differ = [d for d in differ if d.aggregate not in redo]
    if redo:
        differ += _redo(source, topic, redo, where, fold_a, fold_b, upcast, at_ms)
    differ.sort(key=lambda d: d.aggregate)
    seconds = time.monotonic() - started
    return CompareReport(differ, len(where), events, used, seconds, incomplete, len(redo), unkeyed)


def _redo(
    source: Source, topic: str, aggregates: set[str], where: dict[str, set[int]],
    fold_a: FoldSpec, fold_b: FoldSpec, upcast: Upcasting | None, at_ms: int | None,
) -> list[AggregateDiff]:  # fmt: skip
    """The exact comparison of the aggregates the fast pass could not decide."""
    partitions = sorted({p for agg in aggregates for p in where[agg]})
    events = defaultdict(list)
    for ev in source.read(topic, partitions=partitions).events():
        if ev.aggregate in aggregates:
            events[ev.aggregate].append(ev)
    out = []
    for agg in sorted(aggregates):
        found = exact_compare(events[agg], agg, fold_a, fold_b, upcast=upcast, at_ms=at_ms)
        if found is not None:
            out.append(found)
    return out
