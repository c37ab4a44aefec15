"""A topic's health, from its index: run every check and gather the findings.

The CLI (``event-explorer health``) and the GUI's Health panel both call ``check_health``
with the indexes they hold.  Checks that look across topics (causation, sagas) see every
topic given, so the topics of one business process are checked together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from app.health.aggregates import (
    key_findings,
    partition_findings,
    timestamp_findings,
    version_findings,
)
from app.health.config import HealthConfig
from app.health.context import TopicData
from app.health.findings import Finding, Kind, Severity, Summary
from app.health.records import (
    correlation_findings,
    decode_findings,
    duplicate_findings,
    unhandled_findings,
)
from app.health.sagas import broken_causation_findings, unfinished_saga_findings
from app.index.topic_index import TopicIndex
from app.masking.masker import Masker
from app.replay.folds import FoldRegistry
from app.trace.rules import ROLES, IdRuleBook, Role
from app.trace.space import DecoderFactory, TraceSpace

ROLE_WORDS = {
    Role.EVENT_ID: "event ids",
    Role.CORRELATION: "correlation ids",
    Role.CAUSATION: "causation ids",
    Role.VERSION: "versions",
}


@dataclass
class HealthReport:
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    events: int = 0

    @property
    def summary(self) -> Summary:
        return Summary.of(self.findings)

    @property
    def exit_code(self) -> int:
        """0: nothing above info; 1: warnings or errors (for CI)."""
        worst = self.summary.worst
        return 0 if worst is None or worst is Severity.INFO else 1


def check_health(
    indexes: Mapping[str, TopicIndex],
    config: HealthConfig | None = None,
    *,
    rules: IdRuleBook | None = None,
    registry: FoldRegistry | None = None,
    decoders: DecoderFactory | None = None,
    cancelled: Callable[[], bool] | None = None,
    progress: Callable[[str], None] | None = None,
    masker: Masker | None = None,
) -> HealthReport:
    """Check the topics of ``indexes`` (their rows at the time of the call); the ids in
    the findings are masked as ``masker`` says."""
    config = config or HealthConfig()
    space = TraceSpace(indexes, rules, decoders, cancelled)
    topics: list[TopicData] = []
    notes: list[str] = []
    for topic in space.topics:
        if progress is not None:
            progress(f"reading the ids of {topic}")
        td = TopicData(topic, space.indexes[topic], space.columns(topic), config, space,
                       masker=masker or Masker())  # fmt: skip
        topics.append(td)
        notes.extend(_rule_notes(td))
    findings: list[Finding] = []
    for td in topics:
        if progress is not None:
            progress(f"checking {td.topic}")
        findings += duplicate_findings(td)  # first: it marks the copies the others skip
        findings += version_findings(td)
        findings += timestamp_findings(td)
        findings += partition_findings(td)
        findings += key_findings(td)
        findings += decode_findings(td)
        findings += correlation_findings(td)
        findings += unhandled_findings(td, registry)
    findings += broken_causation_findings(topics)
    findings += unfinished_saga_findings(topics, config)
    if config.wants(Kind.UNFINISHED_SAGA) and not config.saga_ends:
        notes.append("unfinished sagas: not checked (no saga end types given)")
    findings.sort(key=Finding.sort_key)
    return HealthReport(findings, notes, space.topics, sum(td.n for td in topics))


def _rule_notes(td: TopicData) -> list[str]:
    """What each topic's ids were read with, and what could not be used."""
    described = "; ".join(f"{ROLE_WORDS[role]}: {td.ids.rules.describe(role)}" for role in ROLES)
    notes = [f"{td.topic} ({td.n:,} events): {described}"]
    for role in ROLES:
        bad = td.ids.unusable[role]
        if bad:
            kind = "integers" if role is Role.VERSION else "text or numbers"
            notes.append(
                f"{td.topic}: {bad:,} {ROLE_WORDS[role]} were not {kind} (objects, lists, "
                "fractions...): ignored"
            )
    return notes
