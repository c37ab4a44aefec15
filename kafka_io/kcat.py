"""Events from kcat's JSON-lines output (``kcat -C -J``), byte for byte where kcat allows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

from kafka_io.decode import Decoder, Row, gc_paused
from kafka_io.event import Event

BATCH = 5000


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
        numbered = enumerate(fo, 1)
        while True:
            batch: list[Event] = []
            rows: list[Row] = []
            consumed = 0
            with gc_paused():
                for lineno, line in islice(numbered, batch_size):
                    consumed += 1
                    stripped = line.strip()
                    if not stripped or stripped.startswith(b"%"):
                        continue  # blank, or a kcat status line captured with stderr
                    row = _kcat_row(lineno, stripped, last_topic)
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


def _kcat_row(lineno: int, line: bytes, last_topic: str) -> Row | Event:
    """One kcat line as a row to decode, or an error event saying why it is not one."""
    try:
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            rec = json.loads(line.decode("utf-8", "surrogateescape"))
        flat = rec.get("headers") or []
        headers = [(str(flat[i]), _raw(flat[i + 1])) for i in range(0, len(flat) - 1, 2)]
        return (
            str(rec["topic"]),
            int(rec["partition"]),
            int(rec["offset"]),
            int(rec.get("ts", -1)),
            _raw(rec.get("key")),
            _raw(rec.get("payload")),
            headers,
        )
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        reason = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        error = f"line {lineno}: not a kcat -J record: {reason}"
        return Event(last_topic, -1, lineno, -1, None, "unknown", None, (), None, None, error, line)


def _raw(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    # kcat with a deserializer (-s avro) prints the decoded value as JSON.
    return orjson.dumps(value)
