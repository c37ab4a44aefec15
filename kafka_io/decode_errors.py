"""One-line decode errors, worded for Event.error."""

from __future__ import annotations

import orjson


def json_message(value: bytes, exc: orjson.JSONDecodeError) -> str:
    if not value:
        return "invalid JSON: empty value"
    if "UTF-8" in exc.msg:
        return "invalid JSON: not UTF-8"
    # orjson counts characters; a byte offset is what a hex view of the value shows.
    prefix = value.decode("utf-8", "surrogateescape")[: exc.pos]
    at = len(prefix.encode("utf-8", "surrogateescape"))
    return f"invalid JSON: {exc.msg} at byte {at}"


def avro_message(schema_id: int, exc: BaseException | str) -> str:
    if isinstance(exc, EOFError | StopIteration):
        reason = "record is truncated"
    else:
        reason = " ".join(str(exc).split()) or type(exc).__name__
    return f"Avro decode failed for schema id {schema_id}: {reason}"
