"""Reports from an event file, no cluster: built-in folds, offsets, failures, escaping,
and what the report says when the file's history does not start at offset 0."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from evfactory import envelope

from app.audit.as_of import AsOf
from app.audit.errors import AuditError
from app.audit.evidence import NothingToAudit, build_evidence, write_report
from app.audit.history import history_notes
from app.audit.verify import verify_offline
from app.replay.discovery import discover_folds
from app.replay.folds import FoldRegistry, FoldSpec
from app.sources import FileSource
from kafka_io.event import Event
from kafka_io.eventfile import write_event_file

T = 1_750_000_000_000
AGG = "acc-<b>&1"


def _file(tmp_path: Path, first_offset: int = 0) -> Path:
    events = []
    for i in range(12):
        agg = AGG if i % 2 == 0 else "acc-2"
        payload = {"amount": i, "note": "<script>x</script>"}
        ts = T + i * 1000
        events.append(
            envelope("bank-accounts", 0, first_offset + i, ts, agg, "MoneyDeposited", payload)
        )
    path = tmp_path / "bank.avro"
    write_event_file(path, events)
    return path


def _report(tmp_path: Path, spec: FoldSpec, as_of: AsOf, first_offset: int = 0) -> Path:
    evidence = build_evidence(
        FileSource(_file(tmp_path, first_offset)), "bank-accounts", AGG, spec, as_of
    )
    return write_report(evidence, tmp_path / "report")


def test_a_built_in_fold_is_kept_as_source_and_checked_against_this_tool(tmp_path: Path) -> None:
    merge = FoldRegistry.with_builtins().get("merge")
    report = _report(tmp_path, merge, AsOf.moment(T + 4000))
    assert (report / "fold" / "merge.builtin.py").read_text().startswith("def ")
    verdict = verify_offline(report)
    assert verdict.verified, verdict.problem
    assert verdict.manifest["state"] == {"amount": 4, "note": "<script>x</script>"}
    assert verdict.manifest["events_applied"] == 3


def test_offsets_and_escaping(tmp_path: Path) -> None:
    spec = discover_folds(use_user_dir=False).registry.get("bank-account")
    report = _report(tmp_path, spec, AsOf.parse_offsets("0:6"))
    verdict = verify_offline(report)
    assert verdict.verified and verdict.manifest["events_applied"] == 4
    html = (report / "report.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html and "acc-&lt;b&gt;&amp;1" in html


def test_history_not_in_the_file_is_not_provably_complete(tmp_path: Path) -> None:
    spec = discover_folds(use_user_dir=False).registry.get("bank-account")
    report = _report(tmp_path, spec, AsOf.moment(T + 10**6), first_offset=500)
    verdict = verify_offline(report)
    assert verdict.verified
    completeness = verdict.manifest["completeness"]
    assert completeness["provable"] is False and completeness["partitions"][0]["history_gone"]
    assert "starts at offset 500" in completeness["not_provable_because"][0]
    assert "Not provably complete" in (report / "report.html").read_text()


def test_a_failing_fold_and_nothing_to_report(tmp_path: Path) -> None:
    def broken(state: Any, event: Event) -> Any:
        raise KeyError("amount")

    with pytest.raises(AuditError, match="no report: fold 'broken' failed at partition 0"):
        _report(tmp_path, FoldSpec("broken", ("*",), broken), AsOf.moment(T + 10**6))
    spec = discover_folds(use_user_dir=False).registry.get("bank-account")
    with pytest.raises(NothingToAudit, match="has no event on bank-accounts by"):
        _report(tmp_path, spec, AsOf.moment(T - 1))


def test_history_notes() -> None:
    marks = {0: (0, 10), 1: (40, 90), 2: (5, 5)}
    notes = history_notes("bank", marks)
    assert len(notes) == 2 and notes[0].startswith("partition 1 of bank starts at offset 40")
    assert "offsets 0..39 were deleted" in notes[0]
    assert history_notes("bank", marks, [0]) == []
