"""``verify -b`` when the cluster changed since the report: records deleted by retention,
a topic deleted and recreated; and what ``state``, ``states`` and ``audit`` say when a
partition's early history is gone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import (
    T0,
    Bank,
    bank_records,
    copy_report,
    create_topic,
    delete_topic,
    manifest_of,
    new_bank,
    produce_bank,
    run,
)
from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient

from kafka_io.event import iso_utc

pytestmark = pytest.mark.kafka
AT = T0 + 200 * 60_000


def _delete_records_before(bootstrap: str, topic: str, partition: int, offset: int) -> None:
    """What retention does: move the partition's low watermark up to ``offset``."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.delete_records([TopicPartition(topic, partition, offset)])
    for fut in futures.values():
        fut.result(30)


def _audit(
    capsys: pytest.CaptureFixture[str], bank: Bank, account: str, folder: Path
) -> dict[str, Any]:
    code, _, err = run(
        capsys, "audit", *bank.args(), "-a", account, "--at", iso_utc(AT), "--out", str(folder)
    )
    assert code == 0, err
    return manifest_of(folder)


def test_records_removed_by_retention_since_the_report(
    kafka_bootstrap: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = new_bank(kafka_bootstrap, tmp_path)
    try:
        doc = _audit(capsys, bank, "acc-0", tmp_path / "report")
        first = doc["events"][0]
        p, cut = first["partition"], doc["events"][2]["offset"]
        _delete_records_before(kafka_bootstrap, bank.topic, p, cut)
        code, out, err = run(capsys, "verify", str(tmp_path / "report"), "-b", kafka_bootstrap)
        assert code == 1
        assert (
            "no longer provable against the cluster" in err and "offline check still stands" in err
        )
        assert f"partition {p} offset {first['offset']}" in err
        code, out, _ = run(capsys, "verify", str(tmp_path / "report"))
        assert code == 0 and "verified" in out  # the offline check still stands

        # Now the history of that partition is gone: every command says so.
        code, _, err = run(capsys, "state", *bank.args(), "-a", "acc-0", "--json")
        assert code == 0 and f"partition {p} of {bank.topic} starts at offset {cut}" in err
        code, _, err = run(capsys, "states", *bank.args(), "--json", "--no-cache")
        assert code == 0 and f"starts at offset {cut}" in err
        later = _audit(capsys, bank, "acc-0", tmp_path / "later")
        assert later["completeness"]["provable"] is False
        scan = later["completeness"]["partitions"][0]
        assert scan["history_gone"] and scan["low_watermark"] == cut and scan["scanned_from"] == cut
        html = (tmp_path / "later" / "report.html").read_text()
        assert "Not provably complete" in html and "truncated history" in html
        # The shorter history verifies (as what it is), with the note.
        code, out, err = run(capsys, "verify", str(tmp_path / "later"), "-b", kafka_bootstrap)
        assert code == 0 and "not provably complete" in err
    finally:
        delete_topic(kafka_bootstrap, bank.topic)


def test_a_topic_deleted_and_recreated(
    kafka_bootstrap: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = new_bank(kafka_bootstrap, tmp_path, n=150)
    try:
        _audit(capsys, bank, "acc-3", tmp_path / "report")
        kept = copy_report(tmp_path / "report", tmp_path / "copy")
        delete_topic(kafka_bootstrap, bank.topic)
        code, _, err = run(capsys, "verify", str(kept), "-b", kafka_bootstrap)
        assert code == 1 and f"topic {bank.topic} no longer exists" in err

        # Recreated with as many records, but other ones: same offsets, other bytes.
        create_topic(kafka_bootstrap, bank.topic)
        produce_bank(kafka_bootstrap, bank.topic, bank_records(150, start=7))
        code, _, err = run(capsys, "verify", str(kept), "-b", kafka_bootstrap)
        assert code == 1 and "deleted and recreated" in err
        code, out, _ = run(capsys, "verify", str(kept))
        assert code == 0 and "verified" in out
    finally:
        delete_topic(kafka_bootstrap, bank.topic)


def test_a_recreated_topic_with_fewer_records(
    kafka_bootstrap: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = new_bank(kafka_bootstrap, tmp_path, n=150)
    try:
        _audit(capsys, bank, "acc-1", tmp_path / "report")
        delete_topic(kafka_bootstrap, bank.topic)
        create_topic(kafka_bootstrap, bank.topic)
        produce_bank(kafka_bootstrap, bank.topic, bank_records(20))
        code, _, err = run(capsys, "verify", str(tmp_path / "report"), "-b", kafka_bootstrap)
        assert code == 1 and "now ends at offset" in err and "recreated" in err
    finally:
        delete_topic(kafka_bootstrap, bank.topic)


def test_a_report_made_from_an_exported_file_verifies_on_the_cluster(
    kafka_bootstrap: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = new_bank(kafka_bootstrap, tmp_path)
    try:
        exported = tmp_path / "bank.avro"
        assert (
            run(capsys, "export", "-b", kafka_bootstrap, "-t", bank.topic, "-o", str(exported))[0]
            == 0
        )
        args = ["--file", str(exported), "--folds", str(bank.fold_file), "--fold", "balance"]
        code, _, err = run(
            capsys, "audit", *args, "-a", "acc-4", "--at", iso_utc(AT), "--out", str(tmp_path / "r")
        )
        assert code == 0, err
        doc = manifest_of(tmp_path / "r")
        assert doc["source"]["kind"] == "file" and len(doc["source"]["file_sha256"]) == 64
        assert doc["state"] == bank.balance("acc-4", AT)
        code, out, err = run(capsys, "verify", str(tmp_path / "r"), "-b", kafka_bootstrap)
        assert code == 0 and "every record of the report is still there" in out, err
        assert json.loads(json.dumps(doc["events"]))[0]["sha256"] == bank.of("acc-4")[0].sha256()
    finally:
        delete_topic(kafka_bootstrap, bank.topic)
