"""The demo's shipments topic is Protobuf in the registry's wire format, with one schema
evolution; the shipped demo file carries its descriptors, so it decodes with no registry."""

from __future__ import annotations

import base64
import json

import pytest

from app.cli.main import main
from kafka_io.eventfile import open_event_file
from kafka_io.proto_schema import load_descriptor_set
from resources import demo_path
from resources.demo import shipping


def test_events_of_the_demo_shipments_are_decoded_protobuf(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["events", "--file", str(demo_path()), "-t", "shipments", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    assert len(lines) > 1000
    assert {ev["error"] for ev in lines} == {None}
    by_id = {sid: [ev for ev in lines if ev["schema_id"] == sid] for sid in (11, 12)}
    assert by_id[11] and by_id[12] and len(by_id[11]) + len(by_id[12]) == len(lines)
    # v2 added serviceVersion; v1 records do not have it.
    assert all("serviceVersion" not in ev["data"] for ev in by_id[11])
    assert {ev["data"]["serviceVersion"] for ev in by_id[12]} == {shipping.SERVICE_VERSION}
    types = {ev["type"] for ev in lines}
    assert types == {"ShipmentPrepared", "ShipmentDispatched", "ShipmentDelivered"}
    for ev in lines[:50]:
        assert ev["data"]["eventType"] == ev["type"]
        assert ev["data"]["aggregateId"] == ev["aggregate"] == ev["key"]
        assert isinstance(ev["data"]["aggregateVersion"], int)
        assert ev["data"]["payload"]["orderId"].startswith("ORD-")


def test_the_demo_stores_both_schema_versions_as_descriptors() -> None:
    """The stored descriptors are the .proto the service registered, v2 with its field."""
    stored = open_event_file(demo_path()).schemas
    fields: dict[int, list[str]] = {}
    for sid in (shipping.V1_ID, shipping.V2_ID):
        doc = json.loads(stored[sid])
        assert doc["schemaType"] == "PROTOBUF"
        schema = load_descriptor_set(base64.b64decode(doc["descriptors"]))
        cls, _ = schema.reader(shipping.MESSAGE)
        fields[sid] = [f.name for f in cls.DESCRIPTOR.fields]
    assert fields[shipping.V2_ID] == [*fields[shipping.V1_ID], "serviceVersion"]
