"""Plain Protobuf values (no registry) decoded from a descriptor set on the command line,
kept in an exported event file (format version 2), masked, and every bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kafka_helpers import Rec, produce
from proto_helpers import descriptor_set, message_classes

from app.cli.main import main
from kafka_io.eventfile import open_event_file

pytestmark = pytest.mark.kafka

CUSTOMER = """syntax = "proto3";
package crm;
message Address { string city = 1; string email = 2; }
"""
EVENT = """syntax = "proto3";
package crm.events;
import "customer.proto";
message CustomerEvent {
  string eventType = 1;
  string customerId = 2;
  crm.Address address = 3;
  sint64 balance = 4;
}
"""
EMAIL = "ada@example.org"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def plain_topic(
    kafka_bootstrap: str, make_topic: Callable[..., str], tmp_path: Path
) -> tuple[str, Path, dict[str, Any]]:
    data = descriptor_set(
        tmp_path, {"customer.proto": CUSTOMER, "event.proto": EVENT}, "event.proto"
    )
    path = tmp_path / "crm.pb"
    path.write_bytes(data)
    classes = message_classes(data)
    cls = classes["crm.events.CustomerEvent"]
    topic = make_topic()
    records = []
    for i, kind in enumerate(["CustomerRegistered", "CustomerMoved", "CustomerCharged"]):
        msg = cls(eventType=kind, customerId="c-1", balance=-(1 << 40) - i)
        msg.address.city, msg.address.email = f"City {i}", EMAIL
        records.append(Rec(msg.SerializeToString(), key=b"c-1"))
    records.append(Rec(b"\xff\xff\xff\xff", key=b"c-1"))  # not a CustomerEvent
    produce(kafka_bootstrap, topic, records)
    return topic, path, classes


def test_events_decodes_plain_protobuf_with_a_descriptor_set(
    capsys: pytest.CaptureFixture[str],
    kafka_bootstrap: str,
    plain_topic: tuple[str, Path, dict[str, Any]],
) -> None:
    topic, path, _ = plain_topic
    code, out, err = run(
        capsys, "events", "-b", kafka_bootstrap, "-t", topic, "--json", "--no-cache",
        "--proto-descriptors", str(path), "--proto-message", "crm.events.CustomerEvent",
    )  # fmt: skip
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0, err
    assert [r["type"] for r in rows[:3]] == [
        "CustomerRegistered",
        "CustomerMoved",
        "CustomerCharged",
    ]
    assert rows[1]["data"] == {
        "eventType": "CustomerMoved",
        "customerId": "c-1",
        "address": {"city": "City 1", "email": EMAIL},
        "balance": -(1 << 40) - 1,
    }
    assert rows[3]["data"] is None
    assert "not a crm.events.CustomerEvent" in rows[3]["error"]


def test_type_rules_read_protobuf_fields_and_masking_hides_them(
    capsys: pytest.CaptureFixture[str],
    kafka_bootstrap: str,
    plain_topic: tuple[str, Path, dict[str, Any]],
) -> None:
    topic, path, _ = plain_topic
    code, out, err = run(
        capsys, "events", "-b", kafka_bootstrap, "-t", topic, "--json", "--no-cache",
        "--proto-descriptors", str(path), "--proto-message", "crm.events.CustomerEvent",
        "--type-rule", "field:address.city", "--mask", "*.email",
    )  # fmt: skip
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["type"] for r in rows[:3]] == ["City 0", "City 1", "City 2"]
    assert EMAIL not in out
    assert rows[0]["data"]["address"]["email"] != EMAIL


def test_export_stores_the_descriptors_so_the_file_reads_alone(
    capsys: pytest.CaptureFixture[str],
    kafka_bootstrap: str,
    plain_topic: tuple[str, Path, dict[str, Any]],
    tmp_path: Path,
) -> None:
    topic, path, _ = plain_topic
    proto_args = ["--proto-descriptors", str(path), "--proto-message", "crm.events.CustomerEvent"]
    live = run(
        capsys, "events", "-b", kafka_bootstrap, "-t", topic, "--json", "--no-cache", *proto_args
    )[1]
    exported = tmp_path / "crm.avro"
    code, _, err = run(
        capsys, "export", "-b", kafka_bootstrap, "-t", topic, "-o", str(exported), *proto_args
    )
    assert code == 0, err
    path.unlink()  # the file must not need the descriptor set any more

    code, from_file, err = run(capsys, "events", "--file", str(exported), "--json")

    assert code == 0, err
    assert open_event_file(exported).protos[topic][0] == "crm.events.CustomerEvent"
    assert [json.loads(x)["data"] for x in from_file.splitlines()] == [
        json.loads(x)["data"] for x in live.splitlines()
    ]


def test_a_descriptor_set_that_lacks_an_import_is_an_error_on_every_event(
    capsys: pytest.CaptureFixture[str],
    kafka_bootstrap: str,
    plain_topic: tuple[str, Path, dict[str, Any]],
    tmp_path: Path,
) -> None:
    topic, _, _ = plain_topic
    # Without --include_imports protoc leaves customer.proto out of the set.
    from grpc_tools import protoc  # the test's own protoc run
    from proto_helpers import WELL_KNOWN

    src = tmp_path / "proto-src"
    lacking = tmp_path / "lacking.pb"
    assert (
        protoc.main(
            [
                "protoc",
                f"-I{src}",
                f"-I{WELL_KNOWN}",
                f"--descriptor_set_out={lacking}",
                "event.proto",
            ]
        )
        == 0
    )

    _code, out, err = run(
        capsys, "events", "-b", kafka_bootstrap, "-t", topic, "--json", "--no-cache",
        "--proto-descriptors", str(lacking), "--proto-message", "crm.events.CustomerEvent",
    )  # fmt: skip

    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 4 and all(r["data"] is None for r in rows), err
    assert all("lack the import 'customer.proto'" in r["error"] for r in rows)


def test_proto_options_come_in_pairs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "events", "-b", "localhost:1", "-t", "x", "--proto-message", "a.B")
    assert code == 2 and "--proto-message needs --proto-descriptors" in err
    code, _, err = run(
        capsys, "events", "-b", "localhost:1", "-t", "x",
        "--proto-descriptors", str(tmp_path / "none.pb"), "--proto-message", "a.B",
    )  # fmt: skip
    assert code == 2 and "no such descriptor set file" in err
