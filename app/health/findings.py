"""What a health check reports: findings, each a kind, a severity, a position and a sentence."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    VERSION_GAP = "version_gap"
    VERSION_DUPLICATE = "version_duplicate"
    VERSION_BACKWARDS = "version_backwards"
    DUPLICATE_EVENT_ID = "duplicate_event_id"
    SPLIT_PARTITION = "split_partition"
    KEY_MISMATCH = "key_mismatch"
    TIMESTAMP_BACKWARDS = "timestamp_backwards"
    UNDECODABLE = "undecodable"
    UNKNOWN_SCHEMA = "unknown_schema"
    UNHANDLED_TYPE = "unhandled_type"
    MISSING_CORRELATION = "missing_correlation"
    BROKEN_CAUSATION = "broken_causation"
    UNFINISHED_SAGA = "unfinished_saga"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}

# A lost or conflicting append, lost ordering and unreadable records break state; the
# rest deserves a look.  A type no fold handles may well be on purpose: info.
DEFAULT_SEVERITY: Mapping[Kind, Severity] = {
    Kind.VERSION_GAP: Severity.ERROR,
    Kind.VERSION_DUPLICATE: Severity.ERROR,
    Kind.VERSION_BACKWARDS: Severity.ERROR,
    Kind.DUPLICATE_EVENT_ID: Severity.WARNING,
    Kind.SPLIT_PARTITION: Severity.ERROR,
    Kind.KEY_MISMATCH: Severity.WARNING,
    Kind.TIMESTAMP_BACKWARDS: Severity.WARNING,
    Kind.UNDECODABLE: Severity.ERROR,
    Kind.UNKNOWN_SCHEMA: Severity.ERROR,
    Kind.UNHANDLED_TYPE: Severity.INFO,
    Kind.MISSING_CORRELATION: Severity.WARNING,
    Kind.BROKEN_CAUSATION: Severity.WARNING,
    Kind.UNFINISHED_SAGA: Severity.WARNING,
}


@dataclass(frozen=True)
class Other:
    """The other position of a duplicate."""

    topic: str
    partition: int
    offset: int

    def to_json(self) -> dict[str, Any]:
        return {"topic": self.topic, "partition": self.partition, "offset": self.offset}


@dataclass(frozen=True)
class Finding:
    kind: Kind
    severity: Severity
    topic: str
    aggregate: str | None
    partition: int | None
    offset: int | None
    detail: str
    other: Other | None = None
    correlation: str | None = None

    def to_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "kind": str(self.kind),
            "severity": str(self.severity),
            "topic": self.topic,
            "aggregate": self.aggregate,
            "partition": self.partition,
            "offset": self.offset,
            "detail": self.detail,
        }
        if self.other is not None:
            record["other"] = self.other.to_json()
        if self.correlation is not None:
            record["correlation"] = self.correlation
        return record

    @property
    def where(self) -> str:
        if self.partition is None:
            return self.topic
        return f"{self.topic} p{self.partition}@{self.offset}"

    def sort_key(self) -> tuple[Any, ...]:
        return (self.topic, -1 if self.partition is None else self.partition,
                -1 if self.offset is None else self.offset, self.kind)  # fmt: skip


@dataclass
class Summary:
    """Findings counted by kind and by severity."""

    by_kind: Counter[Kind]
    by_severity: Counter[Severity]

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> Summary:
        kinds: Counter[Kind] = Counter()
        severities: Counter[Severity] = Counter()
        for f in findings:
            kinds[f.kind] += 1
            severities[f.severity] += 1
        return cls(kinds, severities)

    @property
    def worst(self) -> Severity | None:
        present = [s for s, n in self.by_severity.items() if n]
        return max(present, key=lambda s: s.rank) if present else None

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": {str(k): self.by_kind[k] for k in Kind if self.by_kind[k]},
            "errors": self.by_severity[Severity.ERROR],
            "warnings": self.by_severity[Severity.WARNING],
            "infos": self.by_severity[Severity.INFO],
        }

    def line(self) -> str:
        if not self.total:
            return "no findings"
        counts = ", ".join(f"{self.by_kind[k]} {k}" for k in Kind if self.by_kind[k])
        sev = self.by_severity
        return (
            f"{self.total} finding{'s' * (self.total != 1)} ({sev[Severity.ERROR]} errors, "
            f"{sev[Severity.WARNING]} warnings, {sev[Severity.INFO]} info): {counts}"
        )
