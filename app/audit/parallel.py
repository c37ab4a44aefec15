"""Folding chunks of aggregates on both cores: the caller's process and one forked child.

Folds are Python: one process folds one core's worth.  Most of the time of ``states``
over a big topic is fold calls (a fold is user code; the decode is a fraction), so a
second process halves it.  The child is forked, so it shares the index's columns and
the loaded folds copy-on-write and nothing has to be shipped to it but its answers,
pickled back chunk by chunk.

Safe because the child only slices numpy arrays, decodes and calls folds: it touches
no Kafka client, no Qt and no lock another thread could hold.  Only where ``fork``
exists (Linux, macOS); elsewhere, and when asked for one worker, everything runs here.
A chunk whose answer cannot be pickled (a fold returning an odd object) is folded again
in the caller's process, so the result never depends on the number of workers.
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from app.replay import runner
from app.replay.runner import Cancellable

T = TypeVar("T")
ChunkFn = Callable[[int], list[T]]


def usable_workers(asked: int | None) -> int:
    """How many processes to fold with: ``asked``, or one per core (at most two)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    cores = os.cpu_count() or 1
    return max(1, min(asked if asked is not None else cores, 2, cores))


def run_chunks(
    weights: Sequence[int],
    fold_chunk: ChunkFn[T],
    *,
    workers: int = 1,
    cancel: Cancellable | None = None,
    on_chunk: Callable[[int, list[T]], None],
) -> bool:
    """Call ``fold_chunk(i)`` for every chunk ``i`` and hand each answer to
    ``on_chunk(i, answer)`` in this process.  ``weights`` (events per chunk) balance the
    two processes.  Returns False if cancelled before the end."""
    mine = list(range(len(weights)))
    if workers < 2 or len(weights) < 2:
        return _run_here(mine, fold_chunk, cancel, on_chunk)
    theirs: list[int] = []
    load = [0, 0]
    mine = []
    for i in sorted(range(len(weights)), key=lambda c: -weights[c]):
        side = 0 if load[0] <= load[1] else 1
        (mine if side == 0 else theirs).append(i)
        load[side] += weights[i]
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(theirs, fold_chunk, send), daemon=True)
    with warnings.catch_warnings():
        # Python 3.12+ warns on any fork of a process with threads (librdkafka's, the
        # fold watchdog's): the child here uses none of them, nor any lock they hold.
        warnings.simplefilter("ignore", DeprecationWarning)
        child.start()
    send.close()
    pending = set(theirs)
    try:
        for i in sorted(mine):
            if cancel is not None and cancel.cancelled:
                return False
            on_chunk(i, fold_chunk(i))
            _drain(receive, pending, on_chunk, block=False)
        while pending:
            if cancel is not None and cancel.cancelled:
                return False
            if not _drain(receive, pending, on_chunk, block=True):
                break  # the child died: fold what it left here
        return _run_here(sorted(pending), fold_chunk, cancel, on_chunk)
    finally:
        receive.close()
        if child.is_alive():
            child.terminate()
        child.join()


def _run_here(
    chunks: list[int],
    fold_chunk: ChunkFn[T],
    cancel: Cancellable | None,
    on_chunk: Callable[[int, list[T]], None],
) -> bool:
    for i in chunks:
        if cancel is not None and cancel.cancelled:
            return False
        on_chunk(i, fold_chunk(i))
    return True


def _drain(
    receive: Connection,
    pending: set[int],
    on_chunk: Callable[[int, list[Any]], None],
    *,
    block: bool,
) -> bool:
    """Take the child's answers that have arrived (or wait for one); False: it is gone."""
    while block or receive.poll():
        block = False
        try:
            i, answer = receive.recv()
        except (EOFError, OSError):
            return False
        if answer is not None:  # None: the child could not send it; folded here later
            pending.discard(i)
            on_chunk(i, answer)
    return True


def _child(chunks: list[int], fold_chunk: ChunkFn[Any], send: Connection) -> None:
    # The parent's fold watchdog thread did not survive the fork: a fresh one, so a
    # fold that never returns is still interrupted here.
    runner._WATCHDOG = runner._Watchdog()
    for i in chunks:
        try:
            send.send((i, fold_chunk(i)))
        except Exception:  # an answer that does not pickle, or a failure: the parent
            send.send((i, None))  # folds that chunk itself, and reports what fails
    send.close()
