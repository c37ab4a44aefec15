"""Generate ``resources/demo.avro``, the event file ``event-explorer`` opens with no cluster.

Deterministic: a fixed seed and no clock or UUID, so the same command always writes the
same events.  Run with the project's Python::

    python -m resources.demo.generate            # writes resources/demo.avro
    python resources/demo/generate.py --scale 0.01 --out /tmp/small.avro

Five topics, as an event-sourced shop might run them: ``bank-accounts`` (JSON
envelopes), ``orders`` (Avro, Confluent wire format, with a schema evolution),
``payments`` and ``shipments`` (JSON envelopes with event, correlation and causation ids
and aggregate versions: the checkout saga crosses them and ``orders``, see ``checkout``)
and ``property-listings`` (JSON, event type and correlation/causation ids in headers).  A few
records are deliberately broken (truncated JSON, bad Avro, random bytes) and one is a
tombstone, so the app's handling of them can be seen.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kafka_io.event import Event
from kafka_io.murmur2 import partition_for_key
from resources.demo import checkout, domains
from resources.demo.domains import ORDER_SCHEMAS, Draft

SEED = 20250901
PARTITIONS = {"bank-accounts": 4, "orders": 6, "payments": 3, "property-listings": 3,
              "shipments": 3}  # fmt: skip
# Topic -> value format, as the file records it for the reader.
FORMATS = {"bank-accounts": "json", "orders": "avro", "payments": "json",
           "property-listings": "json", "shipments": "json"}  # fmt: skip
# Aggregates per topic at scale 1.0: about 250k events in all.
SIZES = {"bank-accounts": 3_600, "orders": 21_000, "property-listings": 7_500}
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "demo.avro"


@dataclass
class DemoData:
    """What the file holds: the events in log order, the Avro schemas, the formats."""

    events: list[Event]
    schemas: dict[int, str] = field(default_factory=dict)  # schema id -> Avro schema JSON
    formats: dict[str, str] = field(default_factory=dict)

    def digest(self) -> str:
        """A digest of every field that reaches the file, to prove determinism."""
        h = hashlib.sha256()
        for ev in self.events:
            h.update(repr((ev.topic, ev.partition, ev.offset, ev.timestamp_ms, ev.key)).encode())
            h.update(repr(ev.headers).encode())
            h.update(ev.value if ev.value is not None else b"<tombstone>")
        return h.hexdigest()


def faults(rng: random.Random, drafts: list[Draft]) -> list[Draft]:
    """A handful of records a real topic might hold that no decoder can read."""
    by_topic: dict[str, list[Draft]] = defaultdict(list)
    for d in drafts:
        by_topic[d.topic].append(d)
    out: list[Draft] = []

    def sample(topic: str) -> Draft:
        return by_topic[topic][rng.randrange(len(by_topic[topic]))]

    for _ in range(2):  # a producer that crashed mid-write
        d = sample("bank-accounts")
        value = d.value or b""
        out.append(replace(d, timestamp_ms=d.timestamp_ms + 7, value=value[: len(value) // 2]))
    # A tombstone: a closed account's key deleted for compaction.
    closed = [d for d in by_topic["bank-accounts"] if d.type == "AccountClosed"]
    d = closed[0] if closed else sample("bank-accounts")
    out.append(replace(d, timestamp_ms=d.timestamp_ms + 60_000, value=None, data=None))
    d = sample("orders")
    value = d.value or b""
    out.append(replace(d, timestamp_ms=d.timestamp_ms + 5, value=value[:9]))  # truncated body
    d = sample("orders")
    # A schema id nobody registered.
    bad_id = b"\x00" + (999).to_bytes(4, "big") + (d.value or b"")[5:]
    out.append(replace(d, timestamp_ms=d.timestamp_ms + 5, value=bad_id, schema_id=999))
    for _ in range(2):  # bytes from a misconfigured producer
        d = sample("property-listings")
        noise = bytes(rng.randrange(256) for _ in range(rng.randrange(12, 48)))
        out.append(replace(d, timestamp_ms=d.timestamp_ms + 3, value=b"\xff\xfe" + noise))
    return out


def place(drafts: Iterable[Draft]) -> list[Event]:
    """Partition by key (murmur2) and give offsets in timestamp order, as a broker would."""
    ordered = sorted(drafts, key=lambda d: (d.topic, d.timestamp_ms, d.key))
    next_offset: dict[tuple[str, int], int] = defaultdict(int)
    events: list[Event] = []
    for d in ordered:
        partition = partition_for_key(d.key.encode(), PARTITIONS[d.topic])
        offset = next_offset[(d.topic, partition)]
        next_offset[(d.topic, partition)] = offset + 1
        events.append(
            Event(
                topic=d.topic,
                partition=partition,
                offset=offset,
                timestamp_ms=d.timestamp_ms,
                key=d.key,
                type=d.type,
                aggregate=d.key,
                headers=d.headers,
                data=d.data,
                schema_id=d.schema_id,
                error=None,
                value=d.value,
            )
        )
    # One topic after the other (the first opens completely while the rest loads), and
    # within a topic in log order, partitions interleaved by time, as a read sees them.
    events.sort(key=lambda e: (e.topic, e.timestamp_ms, e.partition, e.offset))
    return events


def build(scale: float = 1.0, seed: int = SEED) -> DemoData:
    rng = random.Random(seed)
    sizes = {topic: max(3, int(n * scale)) for topic, n in SIZES.items()}
    drafts: list[Draft] = [
        *domains.bank_accounts(rng, sizes["bank-accounts"]),
        # The saga's own draws come from a second generator, so the orders stay as they were.
        *checkout.orders(rng, sizes["orders"], random.Random(seed * 31 + 7)),
        *domains.property_listings(rng, sizes["property-listings"]),
    ]
    drafts.extend(faults(rng, drafts))
    schemas = {sid: json.dumps(schema, sort_keys=True) for sid, schema in ORDER_SCHEMAS.items()}
    return DemoData(place(drafts), schemas, dict(FORMATS))


def write(data: DemoData, path: Path, seed: int = SEED) -> None:
    from kafka_io.eventfile import write_event_file

    # xz (Python's own lzma) on 1 MB blocks ships the demo at about half the size of
    # deflate; a sync marker derived from the seed makes the file's bytes reproducible.
    marker = hashlib.sha256(f"event-explorer-demo-{seed}".encode()).digest()[:16]
    write_event_file(
        path, data.events, data.schemas, data.formats,
        codec="xz", block_bytes=1 << 20, sync_marker=marker,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    data = build(args.scale, args.seed)
    write(data, args.out, args.seed)
    size = args.out.stat().st_size
    print(f"{args.out}: {len(data.events)} events, {size / 1e6:.1f} MB, sha256 {data.digest()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
