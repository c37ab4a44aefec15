"""Decoders for a source's values: one factory per source (a Decoder caches, so every
thread that decodes gets its own from the factory)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.sources.base import make_registry
from kafka_io.decode import Decoder, ValueFormat
from kafka_io.eventfile import detect_file_kind, open_event_file
from kafka_io.profile import ConnectionProfile
from kafka_io.rules import EventRules


def cluster_decoder_factory(
    profile: ConnectionProfile,
    rules: EventRules | None = None,
    value_format: ValueFormat = ValueFormat.AUTO,
) -> Callable[[], Decoder]:
    """Fresh decoders for a cluster's values (a Decoder caches: one per thread)."""
    return lambda: Decoder(value_format, rules, registry=make_registry(profile))


def file_decoder_factory(path: Path, rules: EventRules | None = None) -> Callable[[], Decoder]:
    """Fresh decoders for a file's values: its own schemas and formats, or auto-detect."""
    if detect_file_kind(path) == "avro":
        event_file = open_event_file(path)
        return lambda: event_file.decoder(rules=rules)
    return lambda: Decoder(ValueFormat.AUTO, rules)
