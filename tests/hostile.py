"""Hostile inputs, and running a command on them where a regression cannot take the run down.

A test that feeds a file meant to crash the interpreter (a C stack overflow), eat all
memory or hang runs the command in a child process under an address-space limit and a
timeout, so a regression fails that one test.
"""

from __future__ import annotations

import bz2
import lzma
import os
import subprocess
import sys
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[1]
MEMORY_LIMIT = 1 << 30  # the bombs ask for 3 to 5 GB; the app reads the demo in < 200 MB
TIMEOUT_S = 180.0  # generous: the test machine may be shared
SYNC = b"0123456789abcdef"


@dataclass(frozen=True)
class Outcome:
    returncode: int | None  # None: killed at the timeout
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[Any]:
        return [orjson.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def describe(self) -> str:
        return f"exit {self.returncode}; stderr: {self.stderr[-2000:]!r}"


# Sets the limits in the child, then becomes the command: the same as setrlimit in a
# preexec_fn, without preexec_fn's hazards when the test process runs threads
# (librdkafka's, for one).
_LAUNCHER = (
    "import os, resource, sys; "
    "limit = int(sys.argv[1]); "
    "resource.setrlimit(resource.RLIMIT_AS, (limit, limit)); "
    "resource.setrlimit(resource.RLIMIT_CORE, (0, 0)); "
    "os.execv(sys.argv[2], sys.argv[2:])"
)


def run_limited(
    args: list[str], *, memory: int = MEMORY_LIMIT, timeout: float = TIMEOUT_S
) -> Outcome:
    """Run ``args`` with at most ``memory`` bytes of address space, for ``timeout`` seconds."""
    # One BLAS thread: each idle one reserves address space the limit would count.
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    # The checkout under test, also for scripts run from elsewhere.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    launch = [sys.executable, "-c", _LAUNCHER, str(memory), *args]
    try:
        done = subprocess.run(
            launch, cwd=REPO, env=env, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        return Outcome(None, _text(exc.stdout), _text(exc.stderr))
    return Outcome(done.returncode, _text(done.stdout), _text(done.stderr))


def run_app(*args: str | Path, **limits: Any) -> Outcome:
    """``python -m app ARGS`` under the limits."""
    return run_limited([sys.executable, "-m", "app", *map(str, args)], **limits)


def _text(raw: bytes | str | None) -> str:
    if raw is None:
        return ""
    return raw if isinstance(raw, str) else raw.decode("utf-8", "replace")


# -- Avro bytes written by hand (a writer would refuse, or crash, to write these) ----------


def zigzag(n: int) -> bytes:
    """An Avro long."""
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def avro_bytes(data: bytes) -> bytes:
    return zigzag(len(data)) + data


def container(
    schema: Any,
    blocks: Iterable[tuple[int, bytes]] = (),
    codec: str = "null",
    metadata: dict[str, bytes] | None = None,
) -> bytes:
    """An Avro container: header, then each (record count, block bytes as stored)."""
    meta = {
        "avro.schema": orjson.dumps(schema),
        "avro.codec": codec.encode(),
        **(metadata or {}),
    }
    parts = [b"Obj\x01", zigzag(len(meta))]
    for key, value in meta.items():
        parts += [avro_bytes(key.encode()), avro_bytes(value)]
    parts += [zigzag(0), SYNC]
    for count, data in blocks:
        parts += [zigzag(count), avro_bytes(data), SYNC]
    return b"".join(parts)


def kafka_record(
    topic: str, partition: int, offset: int, timestamp_ms: int, value: bytes | None
) -> bytes:
    """One record of the export schema (no key, no headers)."""
    body = avro_bytes(topic.encode()) + zigzag(partition) + zigzag(offset) + zigzag(timestamp_ms)
    body += b"\x00" + b"\x00"  # key: null branch; headers: empty array
    return body + (b"\x00" if value is None else b"\x02" + avro_bytes(value))


def deflate_zeros(megabytes: int, prefix: bytes = b"") -> bytes:
    """Raw deflate of ``prefix`` and then ``megabytes`` MB of zeros, made in milliseconds.

    Each fully flushed piece is independent of the ones before it, so one compressed
    megabyte repeated is a valid stream of many.
    """
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = head.compress(prefix) + head.flush(zlib.Z_FULL_FLUSH)
    piece = zlib.compressobj(9, zlib.DEFLATED, -15)
    mega = piece.compress(bytes(1 << 20)) + piece.flush(zlib.Z_FULL_FLUSH)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # an empty final block
    return first + mega * megabytes + end


def stream_zeros(codec: str, megabytes: int, prefix: bytes = b"") -> bytes:
    """``prefix`` then ``megabytes`` MB of zeros in ``codec`` (deflate, xz or bzip2).

    xz and bzip2 data may be several streams in a row, so one compressed megabyte
    repeated is as good as one big stream, and quick to make.
    """
    if codec == "deflate":
        return deflate_zeros(megabytes, prefix)
    compress: Callable[[bytes], bytes] = lzma.compress if codec == "xz" else bz2.compress
    return compress(prefix) + compress(bytes(1 << 20)) * megabytes
