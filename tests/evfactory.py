"""Building Events for the app-core tests: JSON envelopes as a producer would write them."""

from __future__ import annotations

import random
from typing import Any

import orjson

from kafka_io.event import Event, Headers

BASE_MS = 1_750_000_000_000


def envelope(
    topic: str,
    partition: int,
    offset: int,
    ts: int,
    aggregate: str | None,
    type_: str,
    payload: Any,
    *,
    key: str | bytes | None = "same",
    headers: Headers = (),
    error: str | None = None,
    value: bytes | str | None = "json",
) -> Event:
    """An Event with a JSON envelope value; ``key="same"`` makes the key the aggregate."""
    data = {"eventType": type_, "aggregateId": aggregate, "payload": payload}
    raw: bytes | None
    if value == "json":
        raw = orjson.dumps(data)
    else:
        raw = value if not isinstance(value, str) else value.encode()
    return Event(
        topic,
        partition,
        offset,
        ts,
        aggregate if key == "same" else key,
        type_,
        aggregate,
        headers,
        data if raw is not None and value == "json" else None,
        None,
        error,
        raw,
    )


TYPES = ("AccountOpened", "MoneyDeposited", "MoneyWithdrawn", "AccountClosed")


def random_events(
    n: int,
    *,
    seed: int = 1,
    partitions: int = 4,
    aggregates: int = 30,
    topic: str = "bank-accounts",
    step_back: bool = False,
) -> list[Event]:
    """Events in read order (offsets ascending per partition), with a sprinkling of odd
    records: binary and missing keys, null values, headers, errors."""
    rng = random.Random(seed)
    next_offset = [0] * partitions
    clock = [BASE_MS] * partitions
    out: list[Event] = []
    for i in range(n):
        agg_no = rng.randrange(aggregates)
        aggregate = f"acc-{agg_no:03d}"
        p = agg_no % partitions
        clock[p] += rng.randrange(0, 50)
        ts = clock[p] - (rng.randrange(0, 200) if step_back and rng.random() < 0.1 else 0)
        type_ = rng.choice(TYPES)
        payload = {"amount": rng.randrange(1, 500), "memo": rng.choice(["rent", "salary", "atm"])}
        key: str | bytes | None = "same"
        roll = rng.random()
        if roll < 0.05:
            key = bytes([0xFF, rng.randrange(256)])
        elif roll < 0.08:
            key = None
        elif roll < 0.1:
            key = f"other-{rng.randrange(5)}"
        headers: Headers = (("traceId", f"t{i}".encode()), ("empty", None)) if i % 7 == 0 else ()
        error = "undecodable" if i % 53 == 0 else None
        value: bytes | str | None = None if i % 61 == 0 else "json"
        out.append(
            envelope(
                topic,
                p,
                next_offset[p],
                ts,
                aggregate,
                type_,
                payload,
                key=key,
                headers=headers,
                error=error,
                value=value,
            )
        )
        next_offset[p] += 1
    return out


def log_sorted(events: list[Event]) -> list[Event]:
    """Log order computed the slow, obvious way: per partition in offset order, the
    running max of timestamps; then by (that, partition, offset)."""
    eff: dict[tuple[int, int], int] = {}
    by_part: dict[int, list[Event]] = {}
    for ev in events:
        by_part.setdefault(ev.partition, []).append(ev)
    for p, evs in by_part.items():
        running = None
        for ev in sorted(evs, key=lambda e: e.offset):
            running = ev.timestamp_ms if running is None else max(running, ev.timestamp_ms)
            eff[(p, ev.offset)] = running
    return sorted(events, key=lambda e: (eff[(e.partition, e.offset)], e.partition, e.offset))
