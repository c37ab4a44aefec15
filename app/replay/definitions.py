"""What a fold file defines besides folds: upcasters and snapshot adapters, kept together.

A fold file is executed once per (re)load; every ``@fold``, ``@upcaster`` and
``@snapshots`` it runs is collected (``app.replay.folds.FoldCollector``) and sorted here
into ``Definitions``.  The library keeps the upcasters and adapters of every file in an
``Extras``, next to its fold registry, and drops a file's ones when it is reloaded or
deleted, exactly as it does its folds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from app.replay.folds import FoldSpec, Origin
from app.replay.snapshots import SnapshotRegistry, SnapshotSpec
from app.replay.upcasting import UpcastChainError, UpcasterRegistry, UpcasterSpec, Upcasting
from kafka_io.version_rules import SchemaVersionLookup, VersionRule


@dataclass
class Definitions:
    """What one file (or entry point) defines, with its source recorded."""

    folds: list[FoldSpec] = field(default_factory=list)
    upcasters: list[UpcasterSpec] = field(default_factory=list)
    snapshots: list[SnapshotSpec] = field(default_factory=list)

    @classmethod
    def of(cls, collected: Iterable[Any], source: str, origin: Origin) -> Definitions:
        found = cls()
        folds: dict[str, FoldSpec] = {}
        for spec in collected:
            if isinstance(spec, FoldSpec):
                folds[spec.name] = spec.with_source(source, origin)  # the last of a name wins
            elif isinstance(spec, UpcasterSpec):
                found.upcasters.append(spec.with_source(source, origin))
            elif isinstance(spec, SnapshotSpec):
                found.snapshots.append(spec.with_source(source, origin))
        found.folds = list(folds.values())
        return found


@dataclass
class Extras:
    """The upcasters and snapshot adapters of a fold library."""

    upcasters: UpcasterRegistry = field(default_factory=UpcasterRegistry)
    snapshots: SnapshotRegistry = field(default_factory=SnapshotRegistry)

    def add(self, found: Definitions) -> None:
        for up in found.upcasters:
            self.upcasters.register(up)
        for snap in found.snapshots:
            self.snapshots.register(snap)

    def remove_source(self, source: str) -> None:
        self.upcasters.remove_source(source)
        self.snapshots.remove_source(source)

    def chain_problems(self) -> dict[str, str]:
        """Source file -> why an upcaster chain it takes part in is refused."""
        out: dict[str, str] = {}
        for specs, message in self.upcasters.problems():
            for spec in specs:
                out.setdefault(spec.source, message)
        return out

    def upcasting(
        self,
        topic: str,
        rule: VersionRule | None = None,
        schema_version: SchemaVersionLookup | None = None,
    ) -> Upcasting | None:
        """The topic's upcasting (None: no upcaster applies).  Raises UpcastChainError."""
        return self.upcasters.for_topic(topic, rule, schema_version)


__all__ = ["Definitions", "Extras", "UpcastChainError"]
