"""Avro through a real Confluent-compatible registry (Apicurio) and the real broker:
schema evolution, unknown ids, a registry that goes away mid-read, a registry behind
basic auth, export to a self-contained file, and the CLI end to end."""

from __future__ import annotations

import gc
import json
import secrets
import socket
import struct
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from kafka_helpers import Rec, produce
from registry import CCOMPAT
from registry_helpers import (
    RegistryWithAuth,
    avro_values,
    produce_avro,
    schema_id_of,
)
from registry_proxy import RegistryProxy

from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.eventfile import open_event_file, write_event_file
from kafka_io.metadata import Cluster
from kafka_io.profile import ConnectionProfile
from kafka_io.reader import TopicReader, plan_ranges, read_topic
from kafka_io.registry import SchemaCache, SchemaError, make_registry

pytestmark = pytest.mark.kafka

V1: dict[str, Any] = {
    "type": "record",
    "name": "OrderPlaced",
    "namespace": "com.shop.orders",
    "fields": [{"name": "orderId", "type": "string"}, {"name": "amount", "type": "long"}],
}
# v2 adds a field with a default: BACKWARD compatible, so the registry accepts it.
CURRENCY = {"name": "currency", "type": "string", "default": "EUR"}
V2: dict[str, Any] = {**V1, "fields": [*V1["fields"], CURRENCY]}
REFUND: dict[str, Any] = {
    "type": "record",
    "name": "OrderRefunded",
    "namespace": "com.shop.orders",
    "fields": [{"name": "orderId", "type": "string"}, {"name": "reason", "type": "string"}],
}
# Far beyond any id a test session registers.
UNKNOWN_ID = 2_000_000_000


def _decoder(bootstrap: str, url: str, auth: str | None = None) -> Decoder:
    """A decoder with the registry client the app makes from a connection profile."""
    profile = ConnectionProfile(bootstrap, registry_url=url, registry_auth=auth)
    return Decoder(registry=make_registry(profile.registry_config()))


def _read(bootstrap: str, topic: str, decoder: Decoder) -> list[Event]:
    return [
        ev for batch in read_topic(ConnectionProfile(bootstrap), topic, decoder) for ev in batch
    ]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=120
    )


def test_the_registry_enforces_backward_compatibility(
    schema_registry_url: str, make_registry_client: Callable[..., SchemaRegistryClient]
) -> None:
    client = make_registry_client(schema_registry_url)
    subject = f"compat-{secrets.token_hex(5)}-value"
    client.register_schema(subject, Schema(json.dumps(V1), "AVRO"))
    # A new required field cannot read old records: rejected under BACKWARD (NONE takes it).
    required = {**V1, "fields": [*V1["fields"], {"name": "currency", "type": "string"}]}
    with pytest.raises(SchemaRegistryError) as caught:
        client.register_schema(subject, Schema(json.dumps(required), "AVRO"))
    assert caught.value.http_status_code == 409
    assert client.register_schema(subject, Schema(json.dumps(V2), "AVRO")) > 0
    assert client.get_versions(subject) == [1, 2]


def test_two_versions_of_a_subject_decode_each_with_its_writer_schema(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    schema_registry_url: str,
    make_registry_client: Callable[..., SchemaRegistryClient],
) -> None:
    topic = make_topic(1)
    client = make_registry_client(schema_registry_url)
    old = produce_avro(kafka_bootstrap, client, topic, V1, [{"orderId": "o-1", "amount": 100}])
    new = produce_avro(
        kafka_bootstrap, client, topic, V2, [{"orderId": "o-2", "amount": 250, "currency": "USD"}]
    )
    # A producer not yet upgraded keeps writing v1 after v2 exists.
    late = produce_avro(kafka_bootstrap, client, topic, V1, [{"orderId": "o-3", "amount": 7}])
    v1_id, v2_id = schema_id_of(old[0]), schema_id_of(new[0])
    assert v1_id != v2_id and schema_id_of(late[0]) == v1_id
    assert client.get_versions(f"{topic}-value") == [1, 2]

    decoder = _decoder(kafka_bootstrap, schema_registry_url)
    events = _read(kafka_bootstrap, topic, decoder)

    assert [ev.error for ev in events] == [None, None, None]
    assert [ev.schema_id for ev in events] == [v1_id, v2_id, v1_id]
    # Each record read with its own writer schema: v1 records get no v2 default.
    assert [ev.data for ev in events] == [
        {"orderId": "o-1", "amount": 100},
        {"orderId": "o-2", "amount": 250, "currency": "USD"},
        {"orderId": "o-3", "amount": 7},
    ]
    assert [ev.type for ev in events] == ["OrderPlaced"] * 3
    assert json.loads(decoder.schemas_used[v1_id]) == V1
    assert json.loads(decoder.schemas_used[v2_id]) == V2


def test_a_schema_id_the_registry_does_not_know(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    schema_registry_url: str,
    make_registry_client: Callable[..., SchemaRegistryClient],
) -> None:
    topic = make_topic(1)
    client = make_registry_client(schema_registry_url)
    good = avro_values(
        client, topic, V1, [{"orderId": "a", "amount": 1}, {"orderId": "b", "amount": 2}]
    )
    unknown = b"\x00" + struct.pack(">I", UNKNOWN_ID) + good[0][5:]
    produce(kafka_bootstrap, topic, [Rec(good[0]), Rec(unknown), Rec(good[1])])

    events = _read(kafka_bootstrap, topic, _decoder(kafka_bootstrap, schema_registry_url))

    assert len(events) == 3, "nothing is dropped"
    assert events[1].error == f"unknown schema id {UNKNOWN_ID} (not in registry)"
    assert events[1].schema_id == UNKNOWN_ID
    assert events[1].data is None and events[1].value == unknown
    assert [ev.data for ev in (events[0], events[2])] == [
        {"orderId": "a", "amount": 1},
        {"orderId": "b", "amount": 2},
    ], "the read goes on past the unknown id"


def test_the_registry_going_away_mid_read(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    schema_registry_url: str,
    registry_proxy: Callable[[], RegistryProxy],
    make_registry_client: Callable[..., SchemaRegistryClient],
) -> None:
    topic = make_topic(1)
    client = make_registry_client(schema_registry_url)
    v1 = avro_values(
        client, topic, V1, [{"orderId": "o-1", "amount": 1}, {"orderId": "o-2", "amount": 2}]
    )
    v2 = avro_values(client, topic, V2, [{"orderId": "o-3", "amount": 3, "currency": "DKK"}])
    refund = avro_values(client, f"{topic}-refunds", REFUND, [{"orderId": "o-1", "reason": "x"}])
    values = [v1[0], v1[1], v2[0], refund[0], v1[0]]
    produce(kafka_bootstrap, topic, [Rec(v) for v in values])
    v1_id, v2_id, refund_id = (schema_id_of(v) for v in (v1[0], v2[0], refund[0]))

    proxy = registry_proxy()
    profile = ConnectionProfile(kafka_bootstrap)
    reader = TopicReader(
        profile, topic, _decoder(kafka_bootstrap, proxy.url), batch_size=1
    )  # one record a batch: the registry goes away right after the first
    batches = reader.read(plan_ranges(Cluster(profile).topic(topic)))
    first = next(batches)
    assert [ev.data for ev in first] == [{"orderId": "o-1", "amount": 1}]
    proxy.stop()
    rest = [ev for batch in batches for ev in batch]  # ends: the generator runs out

    assert [ev.offset for ev in first + rest] == [0, 1, 2, 3, 4], "nothing is dropped"
    assert rest[0].data == {"orderId": "o-2", "amount": 2}, "a cached id still decodes"
    assert rest[3].data == {"orderId": "o-1", "amount": 1}
    new_id, other_id = rest[1].error, rest[2].error
    assert new_id is not None and other_id is not None
    assert new_id.startswith(f"schema registry unreachable for schema id {v2_id}: ConnectError")
    # The registry is known to be down: the next new id fails at once, without a wait.
    assert other_id.startswith(f"schema registry unavailable for schema id {refund_id}: ")
    for ev, wrote in zip(rest[1:3], values[2:4], strict=True):
        assert "\n" not in (ev.error or "") and ev.data is None and ev.value == wrote
    assert {ev.schema_id for ev in first + rest} == {v1_id, v2_id, refund_id}
    assert reader.stats.events == 5


def test_a_registry_behind_basic_auth(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    registry_with_auth: RegistryWithAuth,
    make_registry_client: Callable[..., SchemaRegistryClient],
) -> None:
    reg = registry_with_auth
    with pytest.raises(SchemaRegistryError) as caught:  # the proxy does guard the registry
        make_registry_client(reg.url).get_subjects()
    assert caught.value.http_status_code == 401
    topic = make_topic(1)
    client = make_registry_client(reg.url, reg.user_info)
    record = {"orderId": "o-9", "amount": 90}
    (value,) = produce_avro(kafka_bootstrap, client, topic, V1, [record], key=b"o-9")
    sid = schema_id_of(value)

    (ok,) = _read(kafka_bootstrap, topic, _decoder(kafka_bootstrap, reg.url, reg.user_info))
    assert ok.error is None and ok.data == record and ok.type == "OrderPlaced"

    refused = (
        f"schema registry error for schema id {sid}: "
        "access refused (HTTP 401 Unauthorized): check the registry credentials"
    )
    for auth in (f"{reg.user}:{secrets.token_urlsafe(12)}", None, f"nobody:{reg.password}"):
        (ev,) = _read(kafka_bootstrap, topic, _decoder(kafka_bootstrap, reg.url, auth))
        assert ev.error == refused, auth
        assert reg.password not in ev.error
        assert ev.data is None and ev.value == value


def test_an_export_of_registry_records_decodes_with_no_registry(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    schema_registry_url: str,
    tmp_path: Path,
    make_registry_client: Callable[..., SchemaRegistryClient],
) -> None:
    topic = make_topic(1)
    client = make_registry_client(schema_registry_url)
    produce_avro(kafka_bootstrap, client, topic, V1, [{"orderId": "o-1", "amount": 5}])
    produce_avro(
        kafka_bootstrap, client, topic, V2, [{"orderId": "o-1", "amount": 6, "currency": "SEK"}]
    )
    decoder = _decoder(kafka_bootstrap, schema_registry_url)
    events = _read(kafka_bootstrap, topic, decoder)
    assert [ev.error for ev in events] == [None, None]

    path = tmp_path / "orders.avro"
    assert write_event_file(path, events, decoder=decoder) == 2
    opened = open_event_file(path)
    assert set(opened.schemas) == {ev.schema_id for ev in events}
    assert len(opened.schemas) == 2, "one schema per version"
    back = list(opened.iter_events())  # a decoder from the file alone: no registry anywhere

    def seen(ev: Event) -> tuple[Any, ...]:
        return (ev.offset, ev.type, ev.data, ev.schema_id, ev.error, ev.value)

    assert [seen(ev) for ev in back] == [seen(ev) for ev in events]


def test_cli_events_decodes_through_the_registry(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    schema_registry_url: str,
    make_registry_client: Callable[..., SchemaRegistryClient],
) -> None:
    topic = make_topic(1)
    client = make_registry_client(schema_registry_url)
    records = [{"orderId": "o-1", "amount": 10}, {"orderId": "o-2", "amount": 20}]
    values = produce_avro(kafka_bootstrap, client, topic, V1, records, key=b"o-1")

    proc = _cli(
        "events", "-b", kafka_bootstrap, "-t", topic, "--registry", schema_registry_url, "--json"
    )

    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(o["type"], o["data"], o["schema_id"], o["error"]) for o in lines] == [
        ("OrderPlaced", r, schema_id_of(v), None) for r, v in zip(records, values, strict=True)
    ]


def test_cli_registry_auth(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    registry_with_auth: RegistryWithAuth,
    make_registry_client: Callable[..., SchemaRegistryClient],
) -> None:
    reg = registry_with_auth
    topic = make_topic(1)
    client = make_registry_client(reg.url, reg.user_info)
    record = {"orderId": "o-5", "amount": 55}
    produce_avro(kafka_bootstrap, client, topic, V1, [record])
    args = ["events", "-b", kafka_bootstrap, "-t", topic, "--registry", reg.url, "--json"]

    right = _cli(*args, "--registry-auth", reg.user_info)
    assert right.returncode == 0, right.stderr
    (line,) = [json.loads(text) for text in right.stdout.splitlines()]
    assert (line["type"], line["data"], line["error"]) == ("OrderPlaced", record, None)

    wrong_password = secrets.token_urlsafe(12)
    wrong = _cli(*args, "--registry-auth", f"{reg.user}:{wrong_password}", "--no-cache")
    assert wrong.returncode == 0, wrong.stderr  # the events are shown, each with its error
    (line,) = [json.loads(text) for text in wrong.stdout.splitlines()]
    assert line["data"] is None
    refused = "access refused (HTTP 401 Unauthorized): check the registry credentials"
    assert line["error"].endswith(refused)
    for secret in (reg.password, wrong_password):
        assert secret not in wrong.stdout + wrong.stderr
    assert "Traceback" not in wrong.stderr


# -- the app's registry client ------------------------------------------------------------


@pytest.mark.timeout(60)  # without a client timeout this lookup never ends
def test_a_registry_that_never_answers_does_not_stall_a_lookup() -> None:
    with socket.socket() as silent:  # accepts connections (kernel backlog), never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        cache = SchemaCache(make_registry({"url": url}))
        with pytest.raises(SchemaError) as caught:
            cache.lookup(7)
    assert (
        str(caught.value) == "schema registry unreachable for schema id 7: ReadTimeout: timed out"
    )


def test_a_registry_url_without_the_confluent_api_is_named_as_such(
    schema_registry_url: str,
    make_registry_client: Callable[..., SchemaRegistryClient],
) -> None:
    """Apicurio's root URL answers 404 for every id: not "unknown schema id", every time."""
    sid = make_registry_client(schema_registry_url).register_schema(
        f"root-{secrets.token_hex(5)}-value", Schema(json.dumps(V1), "AVRO")
    )
    root = schema_registry_url.removesuffix(CCOMPAT)
    assert root != schema_registry_url
    cache = SchemaCache(make_registry({"url": root}))
    with pytest.raises(SchemaError) as caught:
        cache.lookup(sid)
    assert str(caught.value) == (
        f"schema registry error for schema id {sid}: no Confluent schema registry API at this "
        "URL (HTTP 404; an Apicurio registry serves it under /apis/ccompat/v7)"
    )
    assert SchemaCache(make_registry({"url": schema_registry_url})).lookup(sid).record_name == (
        "OrderPlaced"
    )


def test_a_dropped_registry_client_closes_its_connection(
    schema_registry_url: str,
    make_registry_client: Callable[..., SchemaRegistryClient],
) -> None:
    sid = make_registry_client(schema_registry_url).register_schema(
        f"drop-{secrets.token_hex(5)}-value", Schema(json.dumps(V1), "AVRO")
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        decoder = _decoder("unused:9092", schema_registry_url)
        value = b"\x00" + struct.pack(">I", sid) + b"\x02a\x02"  # {"orderId": "a", "amount": 1}
        assert decoder.decode("t", 0, 0, 0, None, value, None).data == {"orderId": "a", "amount": 1}
        del decoder
        gc.collect()
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []
