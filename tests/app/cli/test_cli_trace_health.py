"""``event-explorer trace`` and ``health`` on an event file: output, exit codes, and one
clear line on stderr for bad input (the Kafka side is in tests/app/trace)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli.main import main
from resources.demo import checkout, generate


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "small.avro"
    generate.write(generate.build(scale=0.02), path)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def a_shipped_saga(path: Path) -> str:
    """A correlation id whose saga reached OrderShipped through all three topics."""
    events = generate.build(scale=0.02).events
    shipped = {e.header("correlationId") for e in events if e.type == "ShipmentDispatched"
               or (e.topic == "orders" and e.type == "OrderShipped")}  # fmt: skip
    dispatched = [e.data["correlationId"] for e in events if e.type == "ShipmentDispatched"]
    return next(c for c in dispatched if c in shipped)


def test_trace_prints_a_tree_and_exits_0_for_a_whole_saga(
    capsys: pytest.CaptureFixture[str], demo_file: Path
) -> None:
    corr = a_shipped_saga(demo_file)
    code, out, err = run(capsys, "trace", "--file", str(demo_file), "--correlation", corr)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith(f"trace {corr}: ") and "orders, payments, shipments" in lines[0]
    assert lines[1].startswith("OrderPlaced  orders")
    assert any(line.startswith("  PaymentAuthorized  payments") for line in lines)
    code, out, _ = run(capsys, "trace", "-f", str(demo_file), "-c", corr, "--timeline")
    assert code == 0 and "start" in out.splitlines()[1]


def test_trace_json_and_topics_glob(capsys: pytest.CaptureFixture[str], demo_file: Path) -> None:
    corr = a_shipped_saga(demo_file)
    code, out, _ = run(capsys, "trace", "-f", str(demo_file), "-c", corr, "--topics",
                       "payments,ship*", "--json")  # fmt: skip
    doc = json.loads(out)
    # Without the orders topic the causes of the payment and of the shipment are not
    # there: two broken links, no root.
    assert doc["roots"] == [] and code == 1
    assert [(n["topic"], n["broken"]) for n in doc["orphans"]] == [
        ("payments", True), ("shipments", True),
    ]  # fmt: skip


def test_trace_of_nothing_or_bad_input(capsys: pytest.CaptureFixture[str], demo_file: Path) -> None:
    f = str(demo_file)
    code, out, err = run(capsys, "trace", "-f", f, "-c", "no-such-saga")
    assert code == 1 and out == ""  # nothing found: nothing printed, one line on stderr
    (line,) = err.strip().splitlines()
    assert "no indexed event has the correlation id 'no-such-saga'" in line
    code, _, err = run(capsys, "trace", "-f", f, "--event", "orders:0:999999")
    assert code == 1 and err.strip() == "event-explorer trace: no event at orders:0:999999"
    cases = {
        ("--event", "orders-0-1"): "not TOPIC:PARTITION:OFFSET",
        ("-c", "x", "--topics", "nothing*"): "no topic matches nothing*",
        ("-c", "x", "--correlation-rule", "payload.correlationId"): "expected 'key'",
        ("-c", " "): "give a non-empty id",
    }
    for args, said in cases.items():
        code, _, err = run(capsys, "trace", "-f", f, *args)
        assert code == 2 and len(err.strip().splitlines()) == 1 and said in err, (args, err)
    code, _, err = run(capsys, "trace", "--file", "/no/such/file.avro", "-c", "x")
    assert code == 2 and "no such file" in err


def test_health_json_lines_then_a_summary(
    capsys: pytest.CaptureFixture[str], demo_file: Path
) -> None:
    starts, ends = "|".join(checkout.SAGA_STARTS), ",".join(checkout.SAGA_ENDS)
    code, out, _ = run(capsys, "health", "--file", str(demo_file), "--json", "--saga-start",
                       starts, "--saga-end", ends)  # fmt: skip
    *findings, summary = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    for f in findings:
        assert set(f) >= {"kind", "severity", "topic", "aggregate", "partition", "offset",
                          "detail"}  # fmt: skip
    kinds = [f["kind"] for f in findings]
    assert {k: kinds.count(k) for k in summary["summary"]} == summary["summary"]
    assert kinds.count("unfinished_saga") == 1 and kinds.count("broken_causation") == 1
    assert summary["topics"] == sorted(generate.PARTITIONS)
    assert any("shipments" in note and "aggregateVersion" in note for note in summary["notes"])


def test_health_exit_codes_follow_severity(
    capsys: pytest.CaptureFixture[str], demo_file: Path
) -> None:
    f = str(demo_file)
    # bank-accounts at this scale: two truncated records and a tombstone.
    code, out, _ = run(capsys, "health", "-f", f, "-t", "bank-accounts")
    assert code == 1 and "undecodable" in out
    code, out, _ = run(capsys, "health", "-f", f, "-t", "bank-accounts", "--severity",
                       "undecodable=info")  # fmt: skip
    assert code == 0 and out.splitlines()[-1].endswith("2 undecodable")


def test_health_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], demo_file: Path
) -> None:
    f = str(demo_file)
    cases = {
        ("-f", f, "--severity", "gap=loud"): "expected KIND=info|warning|error",
        ("-f", f, "--skip", "nothing"): "kinds: version_gap",
        ("-f", f, "--clock-tolerance", "soon"): "not a duration",
        ("-f", f, "--correlation-share", "2"): "correlation share",
        ("-f", f, "--folds", "/no/such/folds"): "no such fold file",
        ("-b", "127.0.0.1:1"): "give --topic TOPIC",
        ("-f", f, "-b", "127.0.0.1:1"): "not both",
        (): "give --bootstrap HOST:PORT, or --file F",
    }
    for args, said in cases.items():
        code, _, err = run(capsys, "health", *args)
        assert code == 2 and len(err.strip().splitlines()) == 1 and said in err, (args, err)
