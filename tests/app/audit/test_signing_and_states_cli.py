"""Signed reports (keygen, audit --sign, verify --key), and the ``states`` and
``events --as-of`` commands on the real broker."""

from __future__ import annotations

import csv
import io
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_helpers import ACCOUNTS, T0, Bank, delete_topic, manifest_of, new_bank, run
from audit_helpers import write_manifest as put_manifest

from kafka_io.event import iso_utc

pytestmark = pytest.mark.kafka
AT = T0 + 90 * 60_000


@pytest.fixture(scope="module")
def bank(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    bank = new_bank(kafka_bootstrap, tmp_path_factory.mktemp("bank"))
    yield bank
    delete_topic(kafka_bootstrap, bank.topic)


def test_signed_report(bank: Bank, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "keygen", "--out", str(tmp_path / "alice"))
    assert code == 0 and "alice.key" in out
    key, pub = tmp_path / "alice.key", tmp_path / "alice.pub"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in key.read_bytes() and b"PUBLIC KEY" in pub.read_bytes()
    code, _, err = run(capsys, "keygen", "--out", str(tmp_path / "alice"))
    assert code == 2 and "never overwrites" in err
    run(capsys, "keygen", "--out", str(tmp_path / "mallory"))

    report = tmp_path / "signed"
    argv = ["audit", *bank.args(), "-a", "acc-0", "--at", iso_utc(AT), "--out", str(report)]
    assert run(capsys, *argv, "--sign", str(key))[0] == 0
    code, out, _ = run(capsys, "verify", str(report), "--key", str(pub))
    assert code == 0 and "signature by key" in out and "verified" in out
    code, _, err = run(capsys, "verify", str(report))
    assert code == 0 and "give --key to check the signature" in err
    code, _, err = run(capsys, "verify", str(report), "--key", str(tmp_path / "mallory.pub"))
    assert code == 1 and "another key" in err

    # An edit no hash covers (when the report was made) is caught by the signature only.
    doc = manifest_of(report)
    doc["created_at"] = "2020-01-01T00:00:00.000Z"
    put_manifest(report, doc)
    code, _, err = run(capsys, "verify", str(report), "--key", str(pub))
    assert code == 1 and "does not match manifest.json" in err
    code, out, _ = run(capsys, "verify", str(report))
    assert code == 0 and "verified" in out  # unsigned checks cannot see that edit

    unsigned = tmp_path / "unsigned"
    assert (
        run(
            capsys,
            "audit",
            *bank.args(),
            "-a",
            "acc-0",
            "--at",
            iso_utc(AT),
            "--out",
            str(unsigned),
        )[0]
        == 0
    )
    code, _, err = run(capsys, "verify", str(unsigned), "--key", str(pub))
    assert code == 1 and "not signed" in err


def test_states_json_rows_are_state_json(bank: Bank, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "states", *bank.args(), "--at", iso_utc(AT), "--json")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["aggregate"] for r in rows] == [f"acc-{i}" for i in range(ACCOUNTS)]
    for row in rows:
        code, out, _ = run(
            capsys, "state", *bank.args(), "-a", row["aggregate"], "--at", iso_utc(AT), "--json"
        )
        assert code == 0 and json.loads(out) == row
        assert row["state"] == bank.balance(row["aggregate"], AT)


def test_states_csv_and_out_file(
    bank: Bank, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "q1.csv"
    code, out, _ = run(
        capsys, "states", *bank.args(), "--at", iso_utc(AT), "--csv", "--out", str(target)
    )
    assert code == 0 and out == ""
    table = list(csv.DictReader(io.StringIO(target.read_text())))
    assert len(table) == ACCOUNTS
    for line in table:
        want = bank.balance(line["aggregate"], AT)
        assert int(line["state.balance"]) == want["balance"]
        assert int(line["state.deposits"]) == want["deposits"]
        last = bank.of(line["aggregate"], AT)[-1]
        assert (int(line["last_partition"]), int(line["last_offset"])) == (
            last.partition,
            last.offset,
        )
        assert int(line["events_applied"]) == len(bank.of(line["aggregate"], AT))


def test_states_before_the_first_event(bank: Bank, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "states", *bank.args(), "--at", iso_utc(T0 - 1000), "--json")
    assert code == 1 and out == ""
    assert "no aggregate had an event by" in err and "first event is at" in err


def test_events_as_of(bank: Bank, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "events", "-b", bank.bootstrap, "-t", bank.topic, "--as-of", iso_utc(AT), "--json"
    )
    got = {(e["partition"], e["offset"]) for e in map(json.loads, out.splitlines())}
    assert code == 0 and got == {
        (r.partition, r.offset) for r in bank.records if r.timestamp_ms <= AT
    }
    code, out, _ = run(
        capsys,
        "events",
        "-b",
        bank.bootstrap,
        "-t",
        bank.topic,
        "--as-of-offsets",
        "0:4,2:0",
        "--json",
    )
    got = {(e["partition"], e["offset"]) for e in map(json.loads, out.splitlines())}
    assert got == {(0, o) for o in range(5)} | {(2, 0)}
    code, _, err = run(
        capsys, "events", "-b", bank.bootstrap, "-t", bank.topic, "--as-of-offsets", "zero"
    )
    assert code == 2 and "PARTITION:OFFSET" in err
