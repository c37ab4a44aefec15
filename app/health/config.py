"""What a health check looks for, and how strictly: every threshold has a default."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from app.health.findings import DEFAULT_SEVERITY, Kind, Severity

SECOND_MS = 1000
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
_UNITS = {"ms": 1, "s": SECOND_MS, "m": 60_000, "min": 60_000, "h": HOUR_MS, "d": DAY_MS}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d)?\s*$")


def parse_duration(text: str, default_unit: str = "s") -> int:
    """``500ms``, ``1s``, ``1.5s``, ``15min``, ``24h``, ``2d`` (a bare number: seconds) -> ms."""
    found = _DURATION.match(text)
    if found is None:
        raise ValueError(f"not a duration: {text!r} (e.g. 500ms, 1s, 15min, 24h, 2d)")
    return int(float(found.group(1)) * _UNITS[found.group(2) or default_unit])


def parse_types(text: str | Iterable[str] | None) -> frozenset[str]:
    """Event types given as ``A|B``, ``A,B`` or a list of such."""
    if text is None:
        return frozenset()
    parts = [text] if isinstance(text, str) else list(text)
    return frozenset(t.strip() for p in parts for t in re.split(r"[|,]", p) if t.strip())


def parse_severity(text: str) -> tuple[Kind, Severity]:
    """``KIND=LEVEL``, e.g. ``unhandled_type=warning`` or ``duplicate_event_id=error``."""
    kind, sep, level = text.partition("=")
    try:
        if not sep:
            raise ValueError
        return Kind(kind.strip()), Severity(level.strip())
    except ValueError:
        kinds = ", ".join(k.value for k in Kind)
        raise ValueError(
            f"severity {text!r}: expected KIND=info|warning|error, KIND one of {kinds}"
        ) from None


@dataclass(frozen=True)
class HealthConfig:
    """Thresholds and switches of a health check.

    ``clock_tolerance_ms``: how far a timestamp may go back within an aggregate.
    ``correlation_share``: "most events have a correlation id" from this share up.
    ``saga_ends``: event types that end a saga; none given, unfinished sagas are not
    checked.  ``saga_starts``: only sagas whose first event is of one of these types
    (none given: every correlation id).  ``saga_window_ms``: how long a saga may run.
    ``now_ms``: the clock sagas are judged by; None takes the latest event checked (the
    data's own clock, so a quiet topic or an old export is judged as it was).
    """

    clock_tolerance_ms: int = SECOND_MS
    correlation_share: float = 0.9
    saga_ends: frozenset[str] = frozenset()
    saga_starts: frozenset[str] = frozenset()
    saga_window_ms: int = DAY_MS
    now_ms: int | None = None
    severities: Mapping[Kind, Severity] = field(default_factory=lambda: dict(DEFAULT_SEVERITY))
    skip: frozenset[Kind] = frozenset()

    def __post_init__(self) -> None:
        if not 0.0 < self.correlation_share <= 1.0:
            raise ValueError(f"correlation share {self.correlation_share}: must be in (0, 1]")
        if self.clock_tolerance_ms < 0 or self.saga_window_ms < 0:
            raise ValueError("tolerances and windows cannot be negative")
        merged = {**DEFAULT_SEVERITY, **self.severities}
        object.__setattr__(self, "severities", MappingProxyType(merged))

    def severity(self, kind: Kind) -> Severity:
        return self.severities[kind]

    def wants(self, kind: Kind) -> bool:
        return kind not in self.skip

    def with_severities(self, overrides: Mapping[Kind, Severity]) -> HealthConfig:
        return replace(self, severities={**self.severities, **overrides})
