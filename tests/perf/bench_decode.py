"""Decode throughput: confluent-kafka Messages -> Events, and event-file write/read.

    .venv/bin/python tests/perf/bench_decode.py [--events 200000] [--repeat 3]

Prints one JSON object with records/s (best of ``--repeat``) for: orjson alone on the
same values (the ceiling), JSON envelopes (~110 bytes) through ``Decoder.decode_messages``
in reader-sized batches, Confluent-framed Avro and Protobuf records the same way (and
protobuf's generic MessageToDict on the Protobuf ones, for comparison), and writing then
reading an Avro event file.  Targets: JSON decode >= 500k records/s, Protobuf >= 200k.
No broker needed: Messages are built in memory, so only decoding is measured.
"""

from __future__ import annotations

import argparse
import io
import json
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from confluent_kafka import Message
from fastavro import parse_schema, schemaless_writer

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.eventfile import open_event_file, write_event_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
import proto_workload

BATCH = 10_000  # what the reader asks consume() for
BASE_MS = 1_700_000_000_000
TYPES = ("OrderPlaced", "OrderPaid", "OrderShipped", "OrderCancelled")
SCHEMA = {
    "type": "record",
    "name": "OrderEvent",
    "namespace": "bench",
    "fields": [
        {"name": "eventId", "type": "string"},
        {"name": "eventType", "type": "string"},
        {"name": "aggregateId", "type": "string"},
        {"name": "timestamp", "type": "long"},
        {"name": "qty", "type": "int"},
    ],
}


def json_messages(n: int) -> list[Message]:
    return [
        Message(
            topic="orders",
            partition=i % 12,
            offset=i,
            key=f"order-{i % 5000}".encode(),
            value=orjson.dumps(
                {
                    "eventId": f"e-{i}",
                    "eventType": TYPES[i % 4],
                    "aggregateId": f"order-{i % 5000}",
                    "timestamp": BASE_MS + i,
                    "payload": {"qty": i % 9},
                }
            ),
            timestamp=(1, BASE_MS + i),
        )
        for i in range(n)
    ]


def avro_messages(n: int) -> list[Message]:
    parsed = parse_schema(SCHEMA)
    header = b"\x00" + struct.pack(">I", 1)
    out = []
    for i in range(n):
        body = io.BytesIO()
        record = {
            "eventId": f"e-{i}",
            "eventType": TYPES[i % 4],
            "aggregateId": f"order-{i % 5000}",
            "timestamp": BASE_MS + i,
            "qty": i % 9,
        }
        schemaless_writer(body, parsed, record)
        out.append(
            Message(
                topic="orders-avro",
                partition=i % 12,
                offset=i,
                key=f"order-{i % 5000}".encode(),
                value=header + body.getvalue(),
                timestamp=(1, BASE_MS + i),
            )
        )
    return out


def best_rate(n: int, repeat: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return n / best


def decode_all(decoder_factory: Callable[[], Decoder], msgs: list[Message]) -> list[Event]:
    dec = decoder_factory()
    kept: list[Event] = []  # held like a reader's consumer would, so GC pressure is real
    for start in range(0, len(msgs), BATCH):
        kept.extend(dec.decode_messages(msgs[start : start + BATCH]))
    return kept


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n, repeat = args.events, args.repeat
    schemas = {1: json.dumps(SCHEMA)}

    jmsgs = json_messages(n)
    values = [m.value() for m in jmsgs]
    result: dict[str, object] = {"events": n, "batch": BATCH}
    result["value_bytes_json"] = sum(len(v) for v in values if v) // n
    orjson_rate = best_rate(n, repeat, lambda: [orjson.loads(v) for v in values if v])
    json_rate = best_rate(n, repeat, lambda: decode_all(Decoder, jmsgs))
    result["orjson_only_per_s"] = round(orjson_rate)
    result["json_decode_per_s"] = round(json_rate)
    result["json_vs_orjson_only"] = round(json_rate / orjson_rate, 2)
    events = decode_all(Decoder, jmsgs)
    assert events[-1].type == TYPES[(n - 1) % 4] and events[-1].error is None

    amsgs = avro_messages(n)
    result["avro_decode_per_s"] = round(
        best_rate(n, repeat, lambda: decode_all(lambda: Decoder(schemas=schemas), amsgs))
    )
    assert decode_all(lambda: Decoder(schemas=schemas), amsgs[:1])[0].data["qty"] == 0

    proto = proto_workload.compiled()
    pschemas = {proto_workload.SCHEMA_ID: proto_workload.stored_schema(proto)}
    pmsgs = proto_workload.protobuf_messages(proto, n, TYPES, BASE_MS)
    result["protobuf_decode_per_s"] = round(
        best_rate(n, repeat, lambda: decode_all(lambda: Decoder(schemas=pschemas), pmsgs))
    )
    result["protobuf_message_to_dict_only_per_s"] = round(
        best_rate(n, 1, lambda: proto_workload.message_to_dict_all(proto, pmsgs))
    )
    first = decode_all(lambda: Decoder(schemas=pschemas), pmsgs[:2])
    assert first[1].data["payload"]["qty"] == 1 and first[1].type == TYPES[1], first[1]

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.avro"
        result["file_write_per_s"] = round(
            best_rate(n, 1, lambda: write_event_file(path, events, {}))
        )
        result["file_bytes_per_event"] = round(path.stat().st_size / n, 1)
        opened = open_event_file(path)
        result["file_read_per_s"] = round(
            best_rate(n, 1, lambda: sum(len(b) for b in opened.iter_batches()))
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
