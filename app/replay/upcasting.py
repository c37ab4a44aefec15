"""Upcasters: old event versions turned into the current shape before a fold sees them.

    from app.folds import upcaster

    @upcaster("PropertyListed", from_version="1.0", to_version="2.0")
    def listed_v2(data, event):
        return {**data, "price": {"amount": data["price"], "currency": "EUR"}}

An upcaster gets the event's decoded value (a private copy: it may change it) and the
event, and returns the new value.  Upcasters are found where folds are, in the same
files, so a team ships a fold and the upcasters it relies on together.  The event's
version is found by the topic's version rule (``kafka_io.version_rules``); the chain
runs from that version until no upcaster starts at the version reached, and the value's
version field (or header) then says the version it has now.

Per event type the upcasters must form one chain: two upcasters from one version, a
cycle, or two chains that end at different versions (a gap: ``1.0→2.0`` and
``3.0→4.0`` with nothing from ``2.0``) are refused when the files load, naming the
versions.  An upcaster that raises is reported at its event, as a fold's error is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any, TypeVar

from app.replay.folds import Origin, announce
from app.replay.runner import StageError
from kafka_io.event import Event
from kafka_io.version_rules import (
    SchemaVersionLookup,
    VersionRule,
    version_key,
    with_version,
)

UpcastFunction = Callable[[Any, Event], Any]
T = TypeVar("T")
UPCASTER_ATTR = "__upcaster_spec__"
NO_VERSION = "(none)"


@dataclass(frozen=True)
class UpcasterSpec:
    """One upcaster: ``event_type`` values at ``from_version`` become ``to_version``."""

    event_type: str
    from_version: str | None
    to_version: str
    function: UpcastFunction
    topics: tuple[str, ...] = ("*",)
    source: str = "code"
    origin: Origin = Origin.CODE

    @property
    def label(self) -> str:
        return f"{self.event_type} {self.from_version or NO_VERSION}→{self.to_version}"

    @property
    def where(self) -> str:
        return self.source.rsplit("/", 1)[-1]

    def applies_to(self, topic: str) -> bool:
        return any(fnmatchcase(topic, pattern) for pattern in self.topics)

    def with_source(self, source: str, origin: Origin) -> UpcasterSpec:
        return replace(self, source=source, origin=origin)


def upcaster(
    event_type: str,
    from_version: str | int | None,
    to_version: str | int,
    *,
    topics: Sequence[str] | str = ("*",),
) -> Callable[[T], T]:
    """Register an upcaster ``(data, event) -> data`` of one event type and version.

    ``from_version`` None is for events that carry no version at all.
    """
    if not event_type or not isinstance(event_type, str):
        raise ValueError("an upcaster needs the event type it upcasts")
    old = None if from_version is None else str(from_version).strip()
    new = str(to_version).strip()
    if not new or old == "":
        raise ValueError(f"upcaster of {event_type}: versions must not be empty")
    if version_key(old) == version_key(new):
        raise ValueError(f"upcaster of {event_type}: from {old} to itself")
    patterns = (topics,) if isinstance(topics, str) else tuple(topics)

    def decorate(function: T) -> T:
        if not callable(function):
            raise TypeError(f"@upcaster({event_type!r}) decorates a function, not {function!r}")
        spec = UpcasterSpec(event_type, old, new, function, patterns)
        setattr(function, UPCASTER_ATTR, spec)
        announce(spec)
        return function

    return decorate


class UpcastChainError(ValueError):
    """Upcasters of one type that do not form one chain; the message names versions."""


def check_chain(specs: Sequence[UpcasterSpec]) -> dict[tuple[Any, ...], UpcasterSpec]:
    """The chain of one event type's upcasters, by the version each starts from.

    Raises UpcastChainError for two upcasters from one version, a cycle, or a gap.
    """
    by_start: dict[tuple[Any, ...], UpcasterSpec] = {}
    for spec in specs:
        key = version_key(spec.from_version)
        other = by_start.get(key)
        if other is not None:
            raise UpcastChainError(
                f"two upcasters of {spec.event_type} start at version "
                f"{spec.from_version or NO_VERSION}: {other.label} ({other.where}) and "
                f"{spec.label} ({spec.where})"
            )
        by_start[key] = spec
    ends: dict[tuple[Any, ...], str] = {}
    for key, spec in by_start.items():
        seen = [key]
        path = [spec.from_version or NO_VERSION]
        step: UpcasterSpec | None = spec
        while step is not None:
            path.append(step.to_version)
            nxt = version_key(step.to_version)
            if nxt in seen:
                raise UpcastChainError(
                    f"upcasters of {spec.event_type} go round in a cycle: {' → '.join(path)}"
                )
            seen.append(nxt)
            last = step.to_version
            step = by_start.get(nxt)
        ends[version_key(last)] = last
    if len(ends) > 1:
        stops = sorted(ends, key=lambda k: k)
        latest = ends[stops[-1]]
        short = ", ".join(ends[k] for k in stops[:-1])
        first = specs[0].event_type
        raise UpcastChainError(
            f"upcasters of {first} do not form one chain: some stop at {short} while "
            f"others go on to {latest} (no upcaster from {short})"
        )
    return by_start


@dataclass
class UpcasterRegistry:
    """Every upcaster found, kept per source file like the folds."""

    specs: list[UpcasterSpec] = field(default_factory=list)

    def register(self, spec: UpcasterSpec | Callable[..., Any]) -> UpcasterSpec:
        if not isinstance(spec, UpcasterSpec):
            found = getattr(spec, UPCASTER_ATTR, None)
            if not isinstance(found, UpcasterSpec):
                raise TypeError(f"{spec!r} is not decorated with @upcaster")
            spec = found
        self.specs.append(spec)
        return spec

    def remove_source(self, source: str) -> None:
        self.specs = [s for s in self.specs if s.source != source]

    def __len__(self) -> int:
        return len(self.specs)

    def problems(self) -> list[tuple[list[UpcasterSpec], str]]:
        """Chains that cannot be used, with the upcasters involved and why."""
        groups: dict[tuple[str, tuple[str, ...]], list[UpcasterSpec]] = {}
        for spec in self.specs:
            groups.setdefault((spec.event_type, spec.topics), []).append(spec)
        found = []
        for specs in groups.values():
            try:
                check_chain(specs)
            except UpcastChainError as exc:
                found.append((specs, str(exc)))
        return found

    def for_topic(
        self,
        topic: str,
        rule: VersionRule | None = None,
        schema_version: SchemaVersionLookup | None = None,
    ) -> Upcasting | None:
        """The upcasting of a topic; None when no upcaster applies (replay then pays
        nothing).  Raises UpcastChainError for a chain that cannot be used."""
        by_type: dict[str, list[UpcasterSpec]] = {}
        for spec in self.specs:
            if spec.applies_to(topic):
                by_type.setdefault(spec.event_type, []).append(spec)
        if not by_type:
            return None
        chains = {etype: check_chain(specs) for etype, specs in by_type.items()}
        return Upcasting(chains, rule or VersionRule(), schema_version)


@dataclass(frozen=True)
class UpcastView:
    """One event before and after its upcasters, for the detail pane."""

    original: Any
    upcasted: Any
    version: str | None  # as found on the event
    final_version: str | None
    ran: tuple[str, ...]  # the upcasters' labels, in order
    error: str | None = None


class Upcasting:
    """The upcaster chains of one topic with its version rule: ``apply(event)``."""

    def __init__(
        self,
        chains: Mapping[str, Mapping[tuple[Any, ...], UpcasterSpec]],
        rule: VersionRule,
        schema_version: SchemaVersionLookup | None = None,
    ) -> None:
        self.chains = dict(chains)
        self.rule = rule
        self.schema_version = schema_version

    @property
    def specs(self) -> list[UpcasterSpec]:
        return [s for chain in self.chains.values() for s in chain.values()]

    def version_of(self, event: Event) -> str | None:
        found = self.rule.locate(event.headers, event.data, event.schema_id, self.schema_version)
        return None if found is None else found.version

    def apply(self, event: Event) -> Event:
        """The event as the fold should see it (the same object when nothing applies).

        Raises StageError naming the upcaster when one fails."""
        chain = self.chains.get(event.type)
        if chain is None or event.data is None:
            return event
        return self._run(event, chain, None)

    def _run(
        self,
        event: Event,
        chain: Mapping[tuple[Any, ...], UpcasterSpec],
        ran: list[UpcasterSpec] | None,
    ) -> Event:
        found = self.rule.locate(event.headers, event.data, event.schema_id, self.schema_version)
        spec = chain.get(version_key(None if found is None else found.version))
        if spec is None:
            return event
        data, version = event.data, ""
        while spec is not None:
            try:
                new = spec.function(data, event)
            except (Exception, SystemExit) as exc:
                raise StageError(f"upcaster {spec.label}", exc) from exc
            if new is None:
                problem = TypeError("returned None; an upcaster returns the new value")
                raise StageError(f"upcaster {spec.label}", problem)
            data, version = new, spec.to_version
            if ran is not None:
                ran.append(spec)
            spec = chain.get(version_key(version))
        headers = event.headers
        if found is not None:
            data, headers = with_version(data, headers, found, version)
        return event._replace(data=data, headers=headers)

    def explain(self, event: Event, copy: Callable[[Any], Any]) -> UpcastView:
        """What the chain does to ``event`` (run on a copy made by ``copy``)."""
        version = None if event.data is None else self.version_of(event)
        chain = self.chains.get(event.type)
        ran: list[UpcasterSpec] = []
        if chain is None or event.data is None:
            return UpcastView(event.data, event.data, version, version, ())
        try:
            out = self._run(event._replace(data=copy(event.data)), chain, ran)
        except StageError as exc:
            labels = (*(s.label for s in ran), exc.stage.removeprefix("upcaster "))
            return UpcastView(event.data, None, version, None, labels, str(exc))
        final = ran[-1].to_version if ran else version
        return UpcastView(event.data, out.data, version, final, tuple(s.label for s in ran))


def upcasting_of(
    specs: Iterable[UpcasterSpec], topic: str, rule: VersionRule | None = None
) -> Upcasting | None:
    """The upcasting of ``topic`` made of ``specs`` (tests, programs)."""
    return UpcasterRegistry(list(specs)).for_topic(topic, rule)
