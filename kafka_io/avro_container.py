"""Avro object container files, read with every count and size checked against the file.

fastavro's own reader trusts the file: a block that claims 2^62 records of a schema that
takes no bytes loops until memory runs out, and a block is inflated whole however big it
says it is (a 625 KB xz file can hold a 4 GB block).  This module reads the framing
itself (header, then blocks of count, size, data and sync marker), checks each count and
size against the bytes that are really there, inflates each block with a bounded output,
and only then lets fastavro decode the records:

- a block of a schema that needs no vetting (see ``kafka_io.avro_guard``) goes to
  ``fastavro.reader`` as a one-block uncompressed container in memory, so records are
  decoded by fastavro's C loop as fast as before;
- a block of a schema that does (recursive, very deep, arrays of empty items) has each
  record walked by the guard first; a record it rejects becomes ``Undecodable`` with the
  reason and its bytes, and reading goes on after it.

Damage stops the read with ``ContainerError`` after the records before it were yielded;
a truncated file yields every record it still holds whole.
"""

from __future__ import annotations

import bz2
import json
import lzma
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BytesIO
from typing import Any, BinaryIO

import fastavro

from kafka_io.avro_guard import (
    MAX_EMPTY_ITEMS,
    NO_FINITE_VALUE,
    SchemaFacts,
    SchemaShapeError,
    analyse,
)

MAGIC = b"Obj\x01"
SYNC_SIZE = 16
CODECS = ("null", "deflate", "bzip2", "xz")
# A block is inflated to at most this.  Writers use 16 KB to a few MB (this project
# 64 KB, the demo 1 MB); a single record bigger than this is not an event.
MAX_BLOCK_BYTES = 256 << 20
# All blocks together inflate to at most this many times the file's size (or the floor,
# for small files).  Real exports compress 5-30 times; zeros compress 1,000 times with
# deflate and more with xz, which is how a small file asks for gigabytes.
MAX_INFLATION = 100
INFLATION_FLOOR = 64 << 20


class ContainerError(ValueError):
    """The file is not an Avro container, or is damaged at this point (one line)."""


@dataclass(frozen=True)
class Undecodable:
    """A record the reader would not hand to fastavro: why, and its bytes."""

    error: str
    raw: bytes


@dataclass(frozen=True)
class Header:
    metadata: dict[str, bytes]
    schema_text: bytes
    schema: Any  # the writer schema as JSON, before parsing
    parsed: Any  # fastavro's parsed form
    facts: SchemaFacts
    codec: str
    sync: bytes
    end: int  # where the first block starts


def read_header(fo: BinaryIO, size: int) -> Header:
    """Read and check the container header at the start of ``fo`` (``size`` bytes long)."""
    src = _Source(fo, size)
    if src.read(4) != MAGIC:
        raise ContainerError("not an Avro container file (no Obj\\x01 magic)")
    metadata: dict[str, bytes] = {}
    while True:
        count = src.read_long("metadata count")
        if count == 0:
            break
        if count < 0:  # a negative count is followed by the block's size in bytes
            count = -count
            src.read_long("metadata block size")
        if count > src.left // 2:  # each entry is at least two bytes (two lengths)
            raise ContainerError(f"the header claims {count} metadata entries; it is truncated")
        for _ in range(count):
            key = src.read_bytes("metadata key")
            metadata[key.decode("utf-8", "replace")] = src.read_bytes("metadata value")
    sync = src.read(SYNC_SIZE)
    if len(sync) != SYNC_SIZE:
        raise ContainerError("the header is truncated (no sync marker)")
    codec = metadata.get("avro.codec", b"null").decode("utf-8", "replace") or "null"
    if codec not in CODECS:
        raise ContainerError(f"unsupported codec {codec!r} (this reader knows {', '.join(CODECS)})")
    text = metadata.get("avro.schema")
    if text is None:
        raise ContainerError("the header has no avro.schema")
    named: dict[str, Any] = {}
    try:
        schema = json.loads(text)
        parsed = fastavro.parse_schema(schema, named)
        facts = analyse(parsed, named)
    except (RecursionError, SchemaShapeError) as exc:
        raise ContainerError(f"its schema cannot be used: {_one_line(exc)}") from exc
    except Exception as exc:  # json and fastavro raise several types for one meaning
        raise ContainerError(f"its schema is not valid Avro: {_one_line(exc)}") from exc
    return Header(metadata, text, schema, parsed, facts, codec, sync, src.pos)


_DECOMPRESSORS: dict[str, Callable[[], Any]] = {
    "deflate": lambda: zlib.decompressobj(-15),  # Avro's deflate is raw, no zlib header
    "bzip2": bz2.BZ2Decompressor,
    "xz": lzma.LZMADecompressor,
}


class ContainerReader:
    """The records of one container file, block by block."""

    def __init__(self, fo: BinaryIO, size: int, header: Header) -> None:
        self._src = _Source(fo, size)
        self._src.seek(header.end)
        self._header = header
        self._budget = max(INFLATION_FLOOR, MAX_INFLATION * size)
        self._size = size
        self._empty_records = 0
        self._block = 0
        self._prefix = _one_block_prefix(header)

    def blocks(self) -> Iterator[list[Any]]:
        """Each block's records (``Undecodable`` for the ones not decoded).

        On damage, yields the records before it that are whole, then raises
        ContainerError.
        """
        src = self._src
        while src.left > 0:
            start = src.pos
            count = src.read_long(f"block {self._block} record count", truncated=True)
            size = src.read_long(f"block {self._block} size", truncated=True)
            if count < 0 or size < 0:
                raise ContainerError(f"block {self._block} has a negative count or size")
            raw = src.read(min(size, src.left))
            whole = len(raw) == size
            synced = False
            if whole:
                sync = src.read(SYNC_SIZE)
                if len(sync) == SYNC_SIZE and sync != self._header.sync:
                    # The framing is off (a damaged count or size): these bytes are not
                    # a block, and nothing in them can be trusted.
                    raise ContainerError(f"block {self._block} does not end in the sync marker")
                synced = len(sync) == SYNC_SIZE
            data = self._inflate(raw, whole)
            self._check_count(count, data, whole)
            records, failure = self._decode(data, count, whole) if count else ([], None)
            if records:
                yield records
            if failure is not None:
                raise ContainerError(failure)
            if not synced:
                raise ContainerError(
                    f"the file is truncated in block {self._block} "
                    f"(it claims {size} bytes and a sync marker; {src.pos - start} are there)"
                )
            self._block += 1

    # -- one block ---------------------------------------------------------------------

    def _inflate(self, raw: bytes, complete: bool) -> bytes:
        codec = self._header.codec
        limit = min(MAX_BLOCK_BYTES, self._budget)
        data = raw if codec == "null" else self._inflate_bounded(codec, raw, limit, complete)
        if len(data) > limit:
            if limit == MAX_BLOCK_BYTES:
                raise ContainerError(
                    f"block {self._block} inflates to more than {MAX_BLOCK_BYTES >> 20} MB"
                )
            raise ContainerError(
                f"the file inflates to more than {MAX_INFLATION} times its {self._size} bytes "
                "(a compression bomb?)"
            )
        self._budget -= len(data)
        return data

    def _inflate_bounded(self, codec: str, raw: bytes, limit: int, complete: bool) -> bytes:
        """At most ``limit + 1`` bytes of output, so too much is seen without making it."""
        out: list[bytes] = []
        total = 0
        pending = raw
        try:
            while True:
                inflater = _DECOMPRESSORS[codec]()
                chunk = inflater.decompress(pending, limit + 1 - total)
                out.append(chunk)
                total += len(chunk)
                if total > limit:
                    break
                if not inflater.eof:
                    if complete:
                        raise ContainerError(
                            f"block {self._block}: its {codec} data ends before the stream does"
                        )
                    break  # a truncated file: keep what inflated
                # xz and bzip2 allow several streams in a row; a deflate block is one.
                pending = inflater.unused_data
                if codec == "deflate" or not pending:
                    break
        except (zlib.error, lzma.LZMAError, OSError, EOFError) as exc:
            if complete:
                raise ContainerError(
                    f"block {self._block}: cannot inflate its {codec} data: {_one_line(exc)}"
                ) from exc
        return b"".join(out)

    def _check_count(self, count: int, data: bytes, complete: bool) -> None:
        min_size = self._header.facts.min_size
        if min_size == 0:
            self._empty_records += count
            if self._empty_records > MAX_EMPTY_ITEMS:
                raise ContainerError(
                    f"block {self._block} claims {count} records that take no bytes "
                    f"(more than {MAX_EMPTY_ITEMS} in a file)"
                )
        elif min_size >= NO_FINITE_VALUE:
            if count:
                raise ContainerError("its schema has no finite value, yet blocks claim records")
        elif complete and count > len(data) // min_size:
            raise ContainerError(
                f"block {self._block} claims {count} records in {len(data)} bytes "
                f"(each takes at least {min_size})"
            )

    def _decode(self, data: bytes, count: int, complete: bool) -> tuple[list[Any], str | None]:
        """The block's records, and why decoding stopped early (None if it did not)."""
        if complete and self._header.facts.guard is None:
            return self._decode_fast(data, count)
        guard = self._header.facts.guard
        records: list[Any] = []
        body = BytesIO(data)
        pos = 0
        parsed = self._header.parsed
        for index in range(count):
            if guard is not None:
                verdict = guard.check(data, pos)
                if verdict.error is not None:
                    if not verdict.resumable:
                        if complete:
                            return records, self._failed(index, verdict.error)
                        return records, None  # the rest was cut off
                    records.append(Undecodable(verdict.error, data[pos : verdict.end]))
                    pos = verdict.end
                    continue
            body.seek(pos)
            try:
                records.append(fastavro.schemaless_reader(body, parsed, None))
            except Exception as exc:  # fastavro raises several types for one meaning
                return records, self._failed(index, exc) if complete else None
            pos = body.tell()
        return records, None

    def _decode_fast(self, data: bytes, count: int) -> tuple[list[Any], str | None]:
        records: list[Any] = []
        sync = self._header.sync
        one_block = b"".join((self._prefix, _long(count), _long(len(data)), data, sync))
        try:
            # extend() keeps the records appended before a failure.
            records.extend(fastavro.reader(BytesIO(one_block)))
        except Exception as exc:  # fastavro raises several types for one meaning
            return records, self._failed(len(records), exc)
        if len(records) != count:
            return records, f"block {self._block} holds {len(records)} records, not {count}"
        return records, None

    def _failed(self, index: int, exc: BaseException | str) -> str:
        if isinstance(exc, str):
            reason = exc
        elif isinstance(exc, EOFError | StopIteration):
            reason = "record is truncated"
        else:
            reason = _one_line(exc)
        return f"block {self._block}, record {index}: {reason}"


def _one_block_prefix(header: Header) -> bytes:
    """The header of an uncompressed container with this schema and sync marker."""
    meta = {b"avro.schema": header.schema_text, b"avro.codec": b"null"}
    parts = [MAGIC, _long(len(meta))]
    for key, value in meta.items():
        parts += [_long(len(key)), key, _long(len(value)), value]
    parts += [_long(0), header.sync]
    return b"".join(parts)


def _long(n: int) -> bytes:
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


class _Source:
    """A file read with its size in mind: nothing is read past what is there."""

    def __init__(self, fo: BinaryIO, size: int) -> None:
        self._fo = fo
        self._size = size
        self.pos = 0

    @property
    def left(self) -> int:
        return self._size - self.pos

    def seek(self, pos: int) -> None:
        self._fo.seek(pos)
        self.pos = pos

    def read(self, n: int) -> bytes:
        data = self._fo.read(max(0, min(n, self.left)))
        self.pos += len(data)
        return data

    def read_long(self, what: str, truncated: bool = False) -> int:
        result = shift = 0
        for _ in range(10):
            byte = self._fo.read(1)
            if not byte:
                where = "the file is truncated" if truncated else "the header is truncated"
                raise ContainerError(f"{where} (in the {what})")
            self.pos += 1
            result |= (byte[0] & 0x7F) << shift
            if byte[0] < 0x80:
                return (result >> 1) ^ -(result & 1)
            shift += 7
        raise ContainerError(f"malformed {what} (a varint longer than 10 bytes)")

    def read_bytes(self, what: str) -> bytes:
        length = self.read_long(what)
        if not 0 <= length <= self.left:
            raise ContainerError(f"the header is truncated ({what} of {length} bytes)")
        return self.read(length)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
