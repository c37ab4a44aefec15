"""Worker processes that read partitions, kept warm between reads.

A worker is a ``spawn``ed process (a frozen app's own executable, whose entry point
calls ``multiprocessing.freeze_support()``; no librdkafka thread is ever forked).  It
waits for a ``ReadJob`` on its pipe, runs it — a ``TopicReader`` over the job's
partitions, with its own consumer: ``assign()``, a private group id, no commits — and
sends every message back: progress, converted batches, the end with its ``ReadStats``
(from a thread, ``kafka_io.pipe_sender``: it reads on while the parent is busy).
Starting an interpreter and importing numpy and librdkafka takes about a second on a
busy laptop, so workers are started ahead (``WorkerPool.warm``) and reused; an idle one
exits after a few minutes.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields, is_dataclass
from multiprocessing.connection import Connection
from typing import Any, Protocol, runtime_checkable

from confluent_kafka import Message

try:
    import fcntl
except ImportError:  # Windows: its pipes are sized by multiprocessing
    fcntl = None  # type: ignore[assignment]

from kafka_io.cancel import CancelToken
from kafka_io.decode import Decoder
from kafka_io.errors import ReadIncomplete
from kafka_io.pipe_sender import DEFAULT_LIMIT, PipeSender
from kafka_io.profile import ConnectionProfile
from kafka_io.read_stats import PartitionRange, ReadProgress
from kafka_io.reader import TopicReader

# Turns a batch of records (no error messages) into what crosses to the parent.
Converter = Callable[[list[Message]], Any]
# Makes a worker's converter in the worker, given the worker's number (0, 1, ...) and the
# job's decoder (the converter decodes: a build decodes in bulk, straight to columns).
ConverterFactory = Callable[[int, Decoder], Converter]
_PROGRESS_EVERY_S = 0.1
_PIPE_BYTES = 1 << 20  # Linux's default ceiling for an unprivileged pipe
IDLE_EXIT_S = 300.0


def plain(value: Any) -> Any:
    """``value`` with its read-only mappings as dicts (recursively through frozen
    dataclasses): what pickle can carry to a worker.  ``rebuild`` undoes it."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return _Rebuild(type(value), {f.name: plain(getattr(value, f.name)) for f in fields(value)})
    if isinstance(value, list | tuple):
        return type(value)(plain(v) for v in value)
    return value


@dataclass(frozen=True)
class _Rebuild:
    cls: type
    values: dict[str, Any]


def rebuild(value: Any) -> Any:
    if isinstance(value, _Rebuild):
        made = {k: rebuild(v) for k, v in value.values.items()}
        init = {f.name for f in fields(value.cls) if f.init}
        obj = value.cls(**{k: v for k, v in made.items() if k in init})
        for k, v in made.items():
            if k not in init:
                object.__setattr__(obj, k, v)
        return obj
    if isinstance(value, dict):
        return {k: rebuild(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(rebuild(v) for v in value)
    return value


@dataclass(frozen=True)
class ReadJob:
    """What one worker reads; picklable (it crosses into the worker process).

    ``make_decoder`` and ``make_converter`` are called in the worker: the decoder and
    the converter live there (decoders cache, converters may keep state per stream).
    """

    profile: ConnectionProfile
    topic: str
    ranges: tuple[PartitionRange, ...]
    make_decoder: Callable[[], Decoder]
    make_converter: ConverterFactory
    number: int = 0
    idle_timeout: float | None = None
    # Bytes of messages a worker may queue while the parent is busy (``PipeSender``).
    send_limit: int = DEFAULT_LIMIT

    def __reduce__(self) -> tuple[Any, ...]:
        # The profile holds read-only mappings, which pickle refuses.
        state = {f.name: getattr(self, f.name) for f in fields(self)}
        state["profile"] = plain(self.profile)
        return (_job_from, (state,))


def _job_from(state: dict[str, Any]) -> ReadJob:
    state["profile"] = rebuild(state["profile"])
    return ReadJob(**state)


STOP = "stop"


@runtime_checkable
class PipeJob(Protocol):
    """Another kind of job a worker runs (following: ``kafka_io.follow_job``): it sends
    its own messages until it ends or ``cancel`` (a "stop" down the job pipe)."""

    def run(self, cancel: CancelToken, send: Callable[[tuple[Any, ...]], None]) -> None: ...


class PipeCancel(CancelToken):
    """A CancelToken set by a "stop" the parent sends down the job pipe (a pipe, not a
    shared semaphore: nothing for multiprocessing's resource tracker to track)."""

    def __init__(self, jobs: Connection) -> None:
        super().__init__()
        self._jobs = jobs

    @property
    def cancelled(self) -> bool:
        if not super().cancelled:
            with contextlib.suppress(EOFError, OSError):
                while self._jobs.poll(0):
                    if self._jobs.recv() == STOP:
                        self.cancel()
        return super().cancelled


def run_job(job: ReadJob, cancel: CancelToken) -> Iterator[tuple[Any, ...]]:
    """A job as messages: ("progress", read, total, status), ("batch", payload,
    finished partitions, read, reached), then ("end", stats, reason or None)."""
    decoder = job.make_decoder()
    reader = TopicReader(job.profile, job.topic, decoder, idle_timeout=job.idle_timeout)
    convert = job.make_converter(job.number, decoder)
    pending: list[tuple[Any, ...]] = []
    last = [0.0]
    latest: dict[int, int] = {}

    def progress(p: ReadProgress) -> None:
        latest.update(p.read)  # called before each batch is yielded: counts include it
        now = time.monotonic()
        if p.status or now - last[0] >= _PROGRESS_EVERY_S:
            last[0] = now
            pending.append(("progress", dict(p.read), dict(p.total), p.status))

    ranges = list(job.ranges)
    try:
        for batch in reader.records(ranges, cancel, progress):
            yield from pending
            pending.clear()
            done = frozenset(r.partition for r in ranges) - reader.unfinished
            yield ("batch", convert(batch), done, dict(latest), dict(reader.stats.reached))
        yield from pending
        yield ("end", reader.stats, None)
    except ReadIncomplete as exc:
        yield ("end", exc.stats, exc.reason)


def _send_all(messages: Iterator[tuple[Any, ...]], out: Connection, limit: int) -> None:
    """A read job's messages, sent from a thread (``PipeSender``): the worker reads on
    while the parent is busy.  Whatever happens, what was queued goes first."""
    sender = PipeSender(out, limit)
    try:
        for message in messages:
            sender.send(message)
    finally:
        sender.close()


def _worker_main(jobs: Connection, out: Connection, idle_s: float) -> None:
    """A worker process: run jobs as they come, until told to quit or idle too long."""
    while jobs.poll(idle_s):
        try:
            job = jobs.recv()
        except EOFError:
            return
        if job is None:
            return
        if not isinstance(job, ReadJob | PipeJob):
            continue  # a "stop" that came after its job ended
        try:
            if isinstance(job, ReadJob):
                _send_all(run_job(job, PipeCancel(jobs)), out, job.send_limit)
            else:
                job.run(PipeCancel(jobs), out.send)
        except (BrokenPipeError, EOFError):
            return  # the parent went away
        except BaseException:
            with contextlib.suppress(Exception):
                out.send(("failed", traceback.format_exc(limit=8)))
        _trim_heap()  # an idle worker keeps only what it needs


def _trim_heap() -> None:
    """Give the heap a read freed back to the OS (glibc keeps it otherwise)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


def _grow_pipe(conn: Connection) -> None:
    """A 1 MB pipe buffer (Linux; 64 KB by default): a batch of column batches crosses in
    two writes rather than thirty, with as many fewer switches between the processes."""
    if fcntl is not None and hasattr(fcntl, "F_SETPIPE_SZ"):
        with contextlib.suppress(OSError):
            fcntl.fcntl(conn.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)


class Worker:
    """One worker process, as the parent sees it."""

    def __init__(self, ctx: Any, idle_s: float) -> None:
        self.jobs, job_end = ctx.Pipe(duplex=False)[::-1]
        self.out, out_end = ctx.Pipe(duplex=False)
        _grow_pipe(self.out)
        self.process = ctx.Process(
            target=_worker_main, args=(job_end, out_end, idle_s),
            name="event-explorer read worker", daemon=True,
        )  # fmt: skip
        self.process.start()
        job_end.close()
        out_end.close()
        self.broken = False
        self.stopping = False

    @property
    def pid(self) -> int:
        return int(self.process.pid or 0)

    @property
    def usable(self) -> bool:
        return not self.broken and self.process.is_alive()

    def start(self, job: ReadJob | PipeJob) -> None:
        self.stopping = False
        self.jobs.send(job)

    def stop(self) -> None:
        """Ask the running job to end (it ends with its "end" message, soon)."""
        if not self.stopping:
            self.stopping = True
            with contextlib.suppress(OSError):
                self.jobs.send(STOP)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.jobs.send(None)
        self.process.join(1.0)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(2.0)
        for conn in (self.jobs, self.out):
            conn.close()


class WorkerPool:
    """Worker processes to lend to reads, started ahead and reused."""

    def __init__(self, idle_s: float = IDLE_EXIT_S) -> None:
        self.idle_s = idle_s
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: list[Worker] = []
        self._lock = threading.Lock()

    def warm(self, count: int) -> None:
        """Have ``count`` idle workers starting (returns at once)."""
        with self._lock:
            self._idle = [w for w in self._idle if w.usable]
            while len(self._idle) < count:
                self._idle.append(Worker(self._ctx, self.idle_s))

    def take(self, count: int) -> list[Worker]:
        self.warm(count)
        with self._lock:
            taken, self._idle = self._idle[:count], self._idle[count:]
        return taken

    def give_back(self, workers: list[Worker]) -> None:
        keep = [w for w in workers if w.usable]
        for w in workers:
            if not w.usable:
                w.close()
        with self._lock:
            self._idle.extend(keep)

    def shutdown(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for w in idle:
            w.close()


_shared: WorkerPool | None = None
_shared_lock = threading.Lock()


def shared_pool() -> WorkerPool:
    """The process's pool (made on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = WorkerPool()
        return _shared


def stop_shared_pool() -> None:
    """Stop the idle workers of the process's pool, if it was made: what a long-lived
    process that reads no more (or a test that counts child processes) asks for."""
    with _shared_lock:
        pool = _shared
    if pool is not None:
        pool.shutdown()
