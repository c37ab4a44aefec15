"""Masking rules a profile carries: which fields of an event to hide from its viewer,
how, and what the viewer may do about it.

Only the rules live here (defined, parsed, validated, carried through import and
export); applying them to what the app shows and writes is the outputs' job.

A field pattern is a glob over the path of a field in the decoded value, the names of
nested objects joined by dots (``payload.cardNumber``; items of a list are paths of the
list itself: ``payload.lines.sku``), where ``*`` and ``?`` match any characters, dots
included, so ``*.email`` is an ``email`` field at any depth below the top.  A pattern
``header:NAME`` is a glob over a header's name, in any case (``header:x-user``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

HEADER = "header:"


class MaskHow(StrEnum):
    HIDE = "hide"  # the value replaced by a mark
    HASH = "hash"  # a stable keyed hash: equal values stay equal, so they can be followed


@dataclass(frozen=True)
class MaskingRules:
    """What a profile masks; no fields: nothing is masked."""

    fields: tuple[str, ...] = ()
    how: MaskHow = MaskHow.HIDE
    # Whether the viewer may reveal a masked value (a deliberate act the app can record).
    allow_unmask: bool = False
    # Whether reads may use and keep the persisted index: it holds every value unmasked.
    use_index_cache: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", tuple(self.fields))
        object.__setattr__(self, "how", MaskHow(self.how))

    @property
    def active(self) -> bool:
        return bool(self.fields)

    def masks_field(self, path: str) -> bool:
        """Whether the value at ``path`` (dot-joined field names) is masked."""
        return any(fnmatchcase(path, pattern) for pattern in self.fields if not _is_header(pattern))

    def masks_header(self, name: str) -> bool:
        wanted = name.lower()
        return any(
            fnmatchcase(wanted, pattern[len(HEADER) :].lower())
            for pattern in self.fields
            if _is_header(pattern)
        )

    def warnings(self) -> list[str]:
        """Patterns that can match no field or header, each said in one line."""
        return [f"masking field {p!r} {why}" for p in self.fields if (why := _never(p))]

    def unmatched(self, paths: Iterable[str], headers: Iterable[str] = ()) -> list[str]:
        """Patterns that match none of the given field paths and header names (a sample
        of a topic's events): likely a typo, worth a warning."""
        paths, headers = list(paths), list(headers)
        single = (MaskingRules((p,)) for p in self.fields)
        return [
            rule.fields[0]
            for rule in single
            if not any(map(rule.masks_field, paths)) and not any(map(rule.masks_header, headers))
        ]

    def to_toml(self) -> dict[str, Any]:
        return {
            "fields": list(self.fields),
            "how": str(self.how),
            "allow_unmask": self.allow_unmask,
            "use_index_cache": self.use_index_cache,
        }

    @classmethod
    def from_toml(cls, data: Mapping[str, Any]) -> MaskingRules:
        """Rules from a profile file's ``[masking]`` table (ValueError names the key)."""
        unknown = set(data) - {"fields", "how", "allow_unmask", "use_index_cache"}
        if unknown:
            raise ValueError(f"masking: unknown key {sorted(unknown)[0]!r}")
        fields = data.get("fields", [])
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise ValueError("masking.fields: expected a list of strings")
        how = data.get("how", "hide")
        try:
            how = MaskHow(how)
        except ValueError:
            raise ValueError(
                f"masking.how: expected one of {', '.join(m.value for m in MaskHow)}"
            ) from None
        flags = {}
        for key, default in (("allow_unmask", False), ("use_index_cache", True)):
            value = data.get(key, default)
            if not isinstance(value, bool):
                raise ValueError(f"masking.{key}: expected true or false")
            flags[key] = value
        return cls(tuple(fields), how, **flags)


def _is_header(pattern: str) -> bool:
    return pattern.lower().startswith(HEADER)


_EMPTY_CLASS = re.compile(r"\[!?\]")


def _never(pattern: str) -> str | None:
    """Why ``pattern`` can match nothing, or None when it can match something."""
    if not pattern.strip():
        return "is empty"
    if pattern != pattern.strip():
        return "starts or ends with spaces"
    if _is_header(pattern):
        if not pattern[len(HEADER) :]:
            return "names no header"
        return None
    if pattern.startswith(".") or pattern.endswith(".") or ".." in pattern:
        return "has an empty field name (a leading, trailing or double dot)"
    if _EMPTY_CLASS.search(pattern):
        return "has an empty [] character class"
    return None
