"""Every kind of tampering with a report fails ``verify`` with its own message (exit 1),
and a report the tool cannot read fails with exit 2: never a traceback, never a false
"verified".  The report is made once, on the real broker; each test edits a copy."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from audit_helpers import T0, Bank, copy_report, delete_topic, manifest_of, new_bank, run
from audit_helpers import write_manifest as put_manifest

from app.audit.canonical import state_sha256
from app.cli.main import main
from app.sources import FileSource
from kafka_io.event import Event, iso_utc
from kafka_io.eventfile import write_event_file

pytestmark = pytest.mark.kafka
AT = T0 + 120 * 60_000


@pytest.fixture(scope="module")
def bank(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    bank = new_bank(kafka_bootstrap, tmp_path_factory.mktemp("bank"))
    yield bank
    delete_topic(kafka_bootstrap, bank.topic)


@pytest.fixture(scope="module")
def reports(bank: Bank, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    made = {}
    for account in ("acc-1", "acc-3"):
        folder = tmp_path_factory.mktemp("reports") / account
        argv = ["audit", *bank.args(), "-a", account, "--at", iso_utc(AT), "--out", str(folder)]
        assert main(argv) == 0
        made[account] = folder
    return made


def _events(report: Path) -> list[Event]:
    return list(FileSource(report / "events.avro").read(None).events())


def _rewrite(report: Path, change: Callable[[list[Event]], list[Event]]) -> None:
    write_event_file(report / "events.avro", change(_events(report)))


def _edit_event(report: Path) -> None:
    def change(events: list[Event]) -> list[Event]:
        victim = events[3]
        events[3] = victim._replace(value=victim.value.replace(b'"amount": ', b'"amount": 1'))  # type: ignore[union-attr]
        return events

    _rewrite(report, change)


def _remove_event(report: Path) -> None:
    _rewrite(report, lambda events: events[:2] + events[3:])


def _reorder_events(report: Path) -> None:
    _rewrite(report, lambda events: [events[1], events[0], *events[2:]])


def _edit_state(report: Path) -> None:
    doc = manifest_of(report)
    doc["state"]["balance"] += 1000
    put_manifest(report, doc)


def _edit_state_and_its_hash(report: Path) -> None:
    doc = manifest_of(report)
    doc["state"]["balance"] += 1000
    doc["state_sha256"] = state_sha256(doc["state"])
    put_manifest(report, doc)


def _edit_fold(report: Path) -> None:
    fold = report / "fold" / "balance_fold.py"
    fold.write_text(fold.read_text().replace('state["balance"] -=', 'state["balance"] +='))


def _drop_from_manifest(report: Path) -> None:
    doc = manifest_of(report)
    del doc["events"][2]
    put_manifest(report, doc)


def _drop_everywhere_but_the_scan(report: Path) -> None:
    """An event removed from events.avro and the manifest, chain recomputed."""
    from app.audit.canonical import chain_sha256

    _remove_event(report)
    doc = manifest_of(report)
    del doc["events"][2]
    doc["chain_sha256"] = chain_sha256(e["sha256"] for e in doc["events"])
    put_manifest(report, doc)


def _edit_html(report: Path) -> None:
    html = report / "report.html"
    html.write_text(html.read_text().replace("Answer", "Answer (approved)"))


CASES = {
    "edited event": (_edit_event, "differs from the manifest"),
    "removed event": (_remove_event, "is not in events.avro: removed"),
    "reordered events": (_reorder_events, "another order"),
    "edited state": (_edit_state, "state in manifest.json was edited"),
    "edited state and hash": (_edit_state_and_its_hash, "state field balance: the report says"),
    "edited fold": (_edit_fold, "fold/balance_fold.py was edited"),
    "event dropped from the manifest": (_drop_from_manifest, "chain_sha256"),
    "event dropped, chain redone": (_drop_everywhere_but_the_scan, "an event was removed"),
    "edited html": (_edit_html, "report.html was edited"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_tampering_is_caught(
    case: str, reports: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper, message = CASES[case]
    report = copy_report(reports["acc-1"], tmp_path / "r")
    tamper(report)
    code, out, err = run(capsys, "verify", str(report))
    assert code == 1, (out, err)
    assert message in err and "not verified" in err
    assert "verified:" not in out and "Traceback" not in err


def test_an_edited_event_is_named_by_partition_and_offset(
    reports: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = copy_report(reports["acc-1"], tmp_path / "r")
    fourth = manifest_of(report)["events"][3]
    _edit_event(report)
    _, _, err = run(capsys, "verify", str(report))
    assert f"partition {fourth['partition']} offset {fourth['offset']}" in err


def test_a_swapped_events_file(
    reports: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = copy_report(reports["acc-1"], tmp_path / "r")
    (report / "events.avro").write_bytes((reports["acc-3"] / "events.avro").read_bytes())
    code, _, err = run(capsys, "verify", str(report))
    assert code == 1 and "events.avro is not the file the report was made with" in err


def test_a_rewritten_but_identical_events_file_is_still_not_the_same_file(
    reports: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = copy_report(reports["acc-1"], tmp_path / "r")
    _rewrite(report, lambda events: events)  # same records, another container (sync marker)
    code, _, err = run(capsys, "verify", str(report))
    assert code == 1 and "its records match" in err


def test_a_report_from_another_manifest_version_cannot_be_checked(
    reports: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = copy_report(reports["acc-1"], tmp_path / "r")
    doc = manifest_of(report)
    doc["manifest_version"], doc["tool_version"] = 7, "9.0.0"
    put_manifest(report, doc)
    code, out, err = run(capsys, "verify", str(report))
    assert code == 2 and "event-explorer 9.0.0 with manifest version 7" in err and not out


def test_another_tool_version_with_the_same_manifest_version_is_said(
    reports: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = copy_report(reports["acc-1"], tmp_path / "r")
    doc = manifest_of(report)
    doc["tool_version"] = "0.0.1"
    put_manifest(report, doc)
    code, out, err = run(capsys, "verify", str(report))
    # The manifest changed, so its own file hashes still hold but nothing else is edited.
    assert code == 0 and "made by event-explorer 0.0.1" in err and "verified" in out


def test_not_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "verify", str(tmp_path))
    assert code == 2 and "is not an audit report" in err
    (tmp_path / "manifest.json").write_text("{not json")
    code, _, err = run(capsys, "verify", str(tmp_path))
    assert code == 2 and "not readable JSON" in err


def test_the_untouched_copies_still_verify(
    reports: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    for report in reports.values():
        code, out, _ = run(capsys, "verify", str(report))
        assert code == 0 and "verified" in out
    assert json.loads((reports["acc-1"] / "manifest.json").read_text())["aggregate"] == "acc-1"
