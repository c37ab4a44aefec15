"""The canonical encodings an audit report's hashes are taken over.

**A record** (``record_bytes``, version 1) is the concatenation, integers big-endian::

    u8   1                      encoding version
    i32  partition
    i64  offset
    i64  timestamp (milliseconds since the epoch, as the record carries it)
    blob key                    the key's bytes as written (null: length -1)
    blob value                  the value's bytes as written (null, a tombstone: -1)
    i32  number of headers
    per header, in record order: blob name (UTF-8), blob value (null: -1)

where ``blob x`` is ``i32 length`` followed by the bytes (length -1 and no bytes for
null), as in Kafka's own record format.  A record's ``sha256`` is SHA-256 of that.
The topic is not part of it (it is the report's ``source.topic``), the position is:
the same bytes at another offset are another record.

**The chain** over the events the state depends on, in log order::

    h_0 = 32 zero bytes
    h_i = SHA-256(h_(i-1) || sha256_i)          (sha256_i as its 32 raw bytes)

``chain_sha256`` is ``h_n`` in hex: removing, adding or reordering any event changes it.

**A state** (``canonical_json``): JSON with keys sorted, no whitespace, UTF-8, non-string
keys as strings, bytes as ``{"base64": ...}`` (as ``--json`` output writes them).
``state_sha256`` is SHA-256 of those bytes.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable
from typing import Any

import orjson

from app.output.event_json import dumps
from kafka_io.event import Event, Headers

ENCODING_VERSION = 1
CHAIN_START = bytes(32)
_HEAD = struct.Struct(">Biqq")  # version, partition, offset, timestamp
_I32 = struct.Struct(">i")


def _blob(data: bytes | None) -> bytes:
    if data is None:
        return _I32.pack(-1)
    return _I32.pack(len(data)) + data


def record_bytes(
    partition: int,
    offset: int,
    timestamp_ms: int,
    key: bytes | None,
    value: bytes | None,
    headers: Headers,
) -> bytes:
    """The canonical encoding of one record (see the module doc)."""
    parts = [
        _HEAD.pack(ENCODING_VERSION, partition, offset, timestamp_ms),
        _blob(key),
        _blob(value),
        _I32.pack(len(headers)),
    ]
    for name, hvalue in headers:
        parts.append(_blob(name.encode("utf-8")))
        parts.append(_blob(hvalue))
    return b"".join(parts)


def event_bytes(event: Event) -> bytes:
    return record_bytes(
        event.partition,
        event.offset,
        event.timestamp_ms,
        event.key_bytes,
        event.value,
        event.headers,
    )


def event_sha256(event: Event) -> str:
    return hashlib.sha256(event_bytes(event)).hexdigest()


def chain_sha256(hashes: Iterable[str]) -> str:
    """``h_n`` of the chain over record hashes (hex), in the order given."""
    h = CHAIN_START
    for hex_digest in hashes:
        h = hashlib.sha256(h + bytes.fromhex(hex_digest)).digest()
    return h.hex()


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace: the same value always gives the same bytes."""
    # Through the --json writer first, so bytes, sets and Decimals read as they print.
    plain = orjson.loads(dumps(value))
    return orjson.dumps(plain, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def json_form(value: Any) -> Any:
    """The value as the report's JSON holds it (what reading manifest.json gives back)."""
    return orjson.loads(canonical_json(value))


def state_sha256(state: Any) -> str:
    return hashlib.sha256(canonical_json(state)).hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Any) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fo:
        for block in iter(lambda: fo.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
