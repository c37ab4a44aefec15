"""Reading event files: the bundled demo (xz, 1 MB blocks) and a large deflate export.

    .venv/bin/python tests/perf/bench_file_read.py [--events 1000000] [--repeat 3]

Prints one JSON object: events/s and seconds (best of ``--repeat``) for reading every
event of ``resources/demo.avro`` and of a deflate export of ``--events`` JSON envelopes
(~110 bytes, 64 KB blocks, as ``export`` writes them), through ``open_event_file`` and
``iter_batches`` with the file's own decoder.  No broker needed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kafka_io.decode import Decoder, Row
from kafka_io.eventfile import open_event_file, write_event_file
from resources import demo_path

BASE_MS = 1_700_000_000_000
TYPES = ("OrderPlaced", "OrderPaid", "OrderShipped", "OrderCancelled")


def make_export(path: Path, n: int) -> None:
    rows = (
        (
            "orders",
            i % 12,
            i // 12,
            BASE_MS + i,
            f"order-{i % 5000}".encode(),
            orjson.dumps(
                {
                    "eventId": f"e-{i}",
                    "eventType": TYPES[i % 4],
                    "aggregateId": f"order-{i % 5000}",
                    "qty": i % 7,
                }
            ),
            None,
        )
        for i in range(n)
    )
    decoder = Decoder("json")
    events = (ev for chunk in _chunks(rows, 10_000) for ev in decoder.decode_rows(chunk))
    write_event_file(path, events, decoder=decoder)


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def best_read(path: Path, repeat: int) -> tuple[int, float]:
    best = float("inf")
    count = 0
    for _ in range(repeat):
        opened = open_event_file(path)
        start = time.perf_counter()
        count = sum(len(batch) for batch in opened.iter_batches())
        best = min(best, time.perf_counter() - start)
    return count, best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    figures: dict[str, object] = {}
    count, seconds = best_read(demo_path(), args.repeat)
    figures["demo_xz"] = {
        "events": count,
        "seconds": round(seconds, 3),
        "events_per_s": round(count / seconds),
    }
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "export.avro"
        make_export(export, args.events)
        count, seconds = best_read(export, args.repeat)
        figures["export_deflate"] = {
            "events": count,
            "bytes": export.stat().st_size,
            "seconds": round(seconds, 3),
            "events_per_s": round(count / seconds),
        }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
