"""``audit`` and ``verify`` against the real broker: a report, checked offline and on the
cluster, and every kind of tampering caught with its own message."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_helpers import T0, Bank, copy_report, delete_topic, manifest_of, new_bank, run

from app.cli.main import main
from kafka_io.event import iso_utc

pytestmark = pytest.mark.kafka
HAS_QT = importlib.util.find_spec("PySide6") is not None
AT = T0 + 100 * 60_000 + 30_000  # between two events


@pytest.fixture(scope="module")
def bank(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    bank = new_bank(kafka_bootstrap, tmp_path_factory.mktemp("bank"))
    yield bank
    delete_topic(kafka_bootstrap, bank.topic)


@pytest.fixture(scope="module")
def report(bank: Bank, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reports") / "acc-2"
    assert (
        main(["audit", *bank.args(), "-a", "acc-2", "--at", iso_utc(AT), "--out", str(folder)]) == 0
    )
    return folder


def test_the_report_holds_exactly_what_the_state_depends_on(bank: Bank, report: Path) -> None:
    names = {p.name for p in report.iterdir()}
    assert {"manifest.json", "events.avro", "fold", "report.html"} <= names
    assert ("report.pdf" in names) == HAS_QT
    doc = manifest_of(report)
    mine = bank.of("acc-2", AT)
    assert doc["aggregate"] == "acc-2" and doc["source"]["topic"] == bank.topic
    assert [(e["partition"], e["offset"]) for e in doc["events"]] == [
        (r.partition, r.offset) for r in mine
    ]
    assert [e["sha256"] for e in doc["events"]] == [r.sha256() for r in mine]
    assert doc["state"] == bank.balance("acc-2", AT)
    assert doc["as_of"]["timestamp_ms"] == AT and doc["events_applied"] == len(mine)
    assert (report / "fold" / "balance_fold.py").read_bytes() == bank.fold_file.read_bytes()
    part = doc["completeness"]["partitions"]
    assert len(part) == 1 and part[0]["partition"] == mine[0].partition
    assert part[0]["scanned_from"] == 0 and part[0]["low_watermark"] == 0
    assert part[0]["records_found"] == len(mine)
    # The scan stopped at the first record of the partition stamped after T.
    later = [r for r in bank.records if r.partition == mine[0].partition and r.timestamp_ms > AT]
    assert part[0]["scanned_to"] == min(r.offset for r in later)
    assert doc["completeness"]["provable"] is True
    assert doc["source"]["kind"] == "cluster" and doc["source"]["cluster_id"]
    html = (report / "report.html").read_text()
    assert "acc-2" in html and "How to verify" in html and doc["state_sha256"] in html


def test_it_verifies_offline_and_on_the_cluster(
    bank: Bank, report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "verify", str(report))
    assert code == 0, err
    assert out.strip().splitlines()[-1].startswith("verified: acc-2")
    code, out, err = run(capsys, "verify", str(report), "-b", bank.bootstrap)
    assert code == 0, err
    assert "every record of the report is still there" in out and "verified" in out


def test_the_state_equals_state_at(
    bank: Bank, report: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "state", *bank.args(), "-a", "acc-2", "--at", iso_utc(AT), "--json")
    assert code == 0
    assert json.loads(out)["state"] == manifest_of(report)["state"]


def test_a_time_before_the_first_event(
    bank: Bank, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys,
        "audit",
        *bank.args(),
        "-a",
        "acc-4",
        "--at",
        iso_utc(T0 - 1),
        "--out",
        str(tmp_path / "r"),
    )
    assert code == 1
    assert "acc-4 has no event" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_an_existing_folder_is_never_overwritten(
    bank: Bank, report: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = copy_report(report, tmp_path / "kept")
    before = (target / "manifest.json").read_bytes()
    code, _, err = run(
        capsys, "audit", *bank.args(), "-a", "acc-1", "--at", iso_utc(AT), "--out", str(target)
    )
    assert code == 2 and "not an empty folder" in err
    assert (target / "manifest.json").read_bytes() == before


def test_audit_at_an_offset(bank: Bank, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifth = bank.of("acc-3")[4]
    folder = tmp_path / "at-offset"
    code, _, err = run(
        capsys,
        "audit",
        *bank.args(),
        "-a",
        "acc-3",
        "--offset",
        str(fifth.offset),
        "--out",
        str(folder),
    )
    assert code == 0, err
    doc = manifest_of(folder)
    assert doc["as_of"]["offsets"] == {str(fifth.partition): fifth.offset}
    assert [e["sha256"] for e in doc["events"]] == [r.sha256() for r in bank.of("acc-3")[:5]]
    assert doc["completeness"]["partitions"][0]["scanned_to"] == fifth.offset + 1
    code, out, _ = run(capsys, "verify", str(folder), "-b", bank.bootstrap)
    assert code == 0 and "verified" in out
    code, _, err = run(
        capsys, "audit", "--file", str(folder / "events.avro"), "-a", "acc-3", "--offset", "3",
        "--folds", str(bank.fold_file), "--out", str(tmp_path / "x"),
    )  # fmt: skip
    assert code == 2 and "PARTITION:OFFSET" in err
