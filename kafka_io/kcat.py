"""Events from kcat's JSON-lines output (``kcat -C -J``), byte for byte where kcat allows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from kafka_io.decode import Decoder, Row, gc_paused
from kafka_io.event import Event

BATCH = 5000
# A line longer than this is an error event, not read into memory.  kcat escapes control
# bytes as \u00XX, so a 10 MB binary record can make a 60 MB line.
MAX_LINE_BYTES = 128 << 20
TOO_LONG = b"\0too long\0"  # stands for a line past MAX_LINE_BYTES (compared by identity)
_INT32_MAX = (1 << 31) - 1
_INT64_MAX = (1 << 63) - 1


def read_kcat_jsonl(path: str | Path, decoder: Decoder | None = None) -> Iterator[Event]:
    """Events from the output of ``kcat -C -J``, one JSON object per line.

    kcat escapes only control characters and writes other bytes as they are, so a
    binary key or payload makes the line invalid UTF-8; those lines are parsed with
    surrogate escapes, which gives back the exact bytes.  A line that is not a kcat
    record becomes an error event (partition -1, offset = line number), not a crash.
    """
    for batch in iter_kcat_batches(path, BATCH, decoder):
        yield from batch


def iter_kcat_batches(
    path: str | Path, batch_size: int = BATCH, decoder: Decoder | None = None
) -> Iterator[list[Event]]:
    dec = decoder or Decoder()
    last_topic = ""
    with Path(path).open("rb") as fo:
        numbered = enumerate(bounded_lines(fo), 1)
        while True:
            batch: list[Event] = []
            rows: list[Row] = []
            consumed = 0
            with gc_paused():
                for lineno, line in islice(numbered, batch_size):
                    consumed += 1
                    if line is not TOO_LONG:
                        line = line.strip()
                        if not line or line.startswith(b"%"):
                            continue  # blank, or a kcat status line captured with stderr
                    row = _kcat_row(lineno, line, last_topic)
                    if isinstance(row, Event):  # kept in file order among the good rows
                        batch += dec.decode_rows(rows)
                        rows.clear()
                        batch.append(row)
                    else:
                        rows.append(row)
                        last_topic = row[0]
                batch += dec.decode_rows(rows)
            if batch:
                yield batch
            if consumed < batch_size:
                return


def bounded_lines(fo: BinaryIO, limit: int | None = None) -> Iterator[bytes]:
    """The file's lines; one longer than ``limit`` (MAX_LINE_BYTES) comes out as TOO_LONG."""
    limit = MAX_LINE_BYTES if limit is None else limit
    while True:
        line = fo.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while True:  # skip the rest of the line without holding it
                rest = fo.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
            yield TOO_LONG
            continue
        yield line


def _kcat_row(lineno: int, line: bytes, last_topic: str) -> Row | Event:
    """One kcat line as a row to decode, or an error event saying why it is not one."""
    try:
        if line is TOO_LONG:
            raise _NotARecord(f"longer than {MAX_LINE_BYTES} bytes")
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            # Raw non-UTF-8 bytes (see read_kcat_jsonl), or nesting past orjson's 1024.
            rec = json.loads(line.decode("utf-8", "surrogateescape"))
        if not isinstance(rec, dict):
            raise _NotARecord(f"a JSON {type(rec).__name__}, not an object")
        flat = rec.get("headers") or []
        if not isinstance(flat, list):
            raise _NotARecord("headers is not a list")
        headers = [
            (_text(flat[i], "header name"), _raw(flat[i + 1])) for i in range(0, len(flat) - 1, 2)
        ]
        return (
            _text(rec["topic"], "topic"),
            _integer(rec["partition"], "partition", 0, _INT32_MAX),
            _integer(rec["offset"], "offset", 0, _INT64_MAX),
            _integer(rec.get("ts", -1), "ts", -_INT64_MAX - 1, _INT64_MAX),
            _raw(rec.get("key")),
            _raw(rec.get("payload")),
            headers,
        )
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        if isinstance(exc, KeyError):
            reason = f"missing field {exc}"
        elif isinstance(exc, RecursionError):
            reason = "JSON nests too deeply"
        else:
            reason = " ".join(str(exc).split())
        error = f"line {lineno}: not a kcat -J record: {reason}"
        value = None if line is TOO_LONG else line
        return Event(
            last_topic, -1, lineno, -1, None, "unknown", None, (), None, None, error, value
        )


class _NotARecord(ValueError):
    pass


def _integer(value: Any, name: str, low: int, high: int) -> int:
    """A JSON integer within Kafka's range for the field (floats, bools, 1e400 are not)."""
    if value.__class__ is not int:
        if value.__class__ is float and value.is_integer() and not low <= value <= high:
            # A JSON integer past 64 bits, which the parser gives as a float.
            raise _NotARecord(f"{name} {value:g} is out of range")
        shown = "null" if value is None else repr(value)[:40]
        raise _NotARecord(f"{name} {shown} is not an integer")
    if not low <= value <= high:
        raise _NotARecord(f"{name} {value} is out of range")
    return int(value)


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise _NotARecord(f"{name} is not a string")
    return value


def _raw(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    # kcat with a deserializer (-s avro) prints the decoded value as JSON.
    try:
        return orjson.dumps(value)
    except TypeError:  # deeper than orjson writes (254), or strings with raw bytes
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8", "surrogateescape")
