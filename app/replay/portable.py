"""What a worker process needs to redo the parent's set-up: picklable recipes.

A fold is user code, and the fold files are loaded as fresh modules that exist only in
the process that loaded them, so a function cannot be sent to another process.  What
travels instead is where it came from: the file (loaded again in the worker), or, for
functions of importable modules (the built-ins, a program's own), the function itself.
The same goes for upcasters, and for the source: a cluster's connection profile and
the topic settings, or an event file's path, from which the worker makes its own
source and decoder (librdkafka clients and decoders are never shared).
"""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from app.replay.definitions import Definitions
from app.replay.discovery import load_definitions
from app.replay.folds import FoldSpec
from app.replay.upcasting import UpcasterRegistry, UpcasterSpec, Upcasting
from app.sources import ClusterSource, FileSource, Source, SourceSettings, TopicSettings
from kafka_io.profile import ConnectionProfile

_loaded: dict[str, Definitions] = {}


def definitions_in(path: str) -> Definitions:
    """A fold file's definitions, loaded once per process."""
    found = _loaded.get(path)
    if found is None:
        found = _loaded[path] = load_definitions(Path(path))
    return found


def _picklable(obj: object) -> bool:
    try:
        pickle.dumps(obj)
    except Exception:  # closures, lambdas, functions of fold-file modules
        return False
    return True


def _file(source: str) -> str | None:
    return source if source.endswith(".py") and Path(source).is_file() else None


@dataclass(frozen=True)
class FoldRef:
    """A fold a worker can load: from its file, or a picklable function."""

    name: str
    path: str | None = None
    function: Any = None

    @classmethod
    def of(cls, spec: FoldSpec) -> FoldRef | None:
        """None when the fold cannot be sent to another process."""
        path = _file(spec.source)
        if path is not None:
            return cls(spec.name, path=path)
        return cls(spec.name, function=spec.function) if _picklable(spec.function) else None

    def resolve(self) -> FoldSpec:
        if self.path is None:
            return FoldSpec(self.name, ("*",), self.function)
        for spec in definitions_in(self.path).folds:
            if spec.name == self.name:
                return spec
        raise LookupError(f"{Path(self.path).name} no longer defines fold {self.name!r}")


@dataclass(frozen=True)
class UpcastRecipe:
    """A topic's upcasting, as upcasters to find again plus the version rule."""

    topic: str
    specs: tuple[tuple[str | None, str, str | None, str, Any], ...]  # path, type, from, to, fn

    @classmethod
    def of(cls, upcast: Upcasting | None, topic: str) -> UpcastRecipe | Literal[False] | None:
        """None: no upcasting; False: an upcaster that cannot cross a process."""
        if upcast is None:
            return None
        found = []
        for s in upcast.specs:
            path = _file(s.source)
            fn = None if path is not None else s.function
            if fn is not None and not _picklable(fn):
                return False
            found.append((path, s.event_type, s.from_version, s.to_version, fn))
        return cls(topic, tuple(found))

    def resolve(self, source: Source) -> Upcasting | None:
        from app.replay.versions import schema_version_lookup

        specs: list[UpcasterSpec] = []
        for path, etype, old, new, fn in self.specs:
            if path is None:
                specs.append(UpcasterSpec(etype, old, new, fn))
                continue
            for spec in definitions_in(path).upcasters:
                if (spec.event_type, spec.from_version, spec.to_version) == (etype, old, new):
                    specs.append(spec)
                    break
            else:
                raise LookupError(f"{Path(path).name} no longer defines upcaster {etype}")
        rule = source.settings.for_topic(self.topic).versions
        lookup = schema_version_lookup(source, self.topic)
        return UpcasterRegistry(specs).for_topic(self.topic, rule, lookup)


def _plain(value: Any) -> Any:
    return dict(value) if isinstance(value, MappingProxyType | Mapping) else value


@dataclass(frozen=True)
class SourceRecipe:
    """A source another process can make again: an event file, or a cluster."""

    kind: Literal["file", "cluster"]
    path: str | None
    profile: tuple[tuple[str, Any], ...]
    default: TopicSettings
    topics: tuple[tuple[str, TopicSettings], ...]

    @classmethod
    def of(cls, source: Source) -> SourceRecipe | None:
        settings = source.settings
        parts = (settings.default, tuple(settings.topics.items()))
        if isinstance(source, FileSource):
            return cls("file", str(source.path), (), *parts)
        if isinstance(source, ClusterSource):
            profile = tuple(
                (f.name, _plain(getattr(source.profile, f.name)))
                for f in dataclasses.fields(source.profile)
            )
            return cls("cluster", None, profile, *parts)
        return None

    def make(self) -> Source:
        settings = SourceSettings(self.default, dict(self.topics))
        if self.kind == "file" and self.path is not None:
            return FileSource(Path(self.path), settings)
        return ClusterSource(ConnectionProfile(**dict(self.profile)), settings)


__all__ = ["FoldRef", "SourceRecipe", "UpcastRecipe"]
