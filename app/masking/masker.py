"""Applying masking rules to what the app shows and writes.

Every output path goes through a ``Masker``: the window's table, detail pane, copies,
exports, inspector, search box and States dock; the commands' ``events`` (text and
JSON), ``--follow``, ``export``, ``state`` and ``states``.  Folds run on the real values
(a balance needs the real amounts); their results are masked when shown.

* An **event** keeps its key, type, aggregate and position.  Its decoded value has each
  masked field replaced by a mark, its value bytes become the JSON of that masked value
  (the raw bytes, Avro or JSON, never leave), a masked header's value becomes the mark,
  and a record that could not be decoded keeps only its error.
* A **state** (a fold's result) has its fields masked when their path matches a rule,
  or when their name matches a rule's last part (``payload.cardNumber`` masks a
  ``cardNumber`` the fold copied into the state, wherever it put it).
* The mark is ``[masked]``, or with ``how = "hash"`` a keyed hash of the value,
  ``[masked:1f3a…]``, equal for equal values so they can still be matched.  The key is
  the installation's own (kept in the OS keyring), never in a profile file.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

import orjson

from app.masking.rules import HEADER, MaskHow, MaskingRules
from kafka_io.event import Event, Headers

MARK = "[masked]"
UNDECODED = b"[masked: a value that could not be decoded]"
HASH_HEX = 12  # 48 bits of the HMAC: plenty to tell values apart on one screen


@dataclass(frozen=True)
class Masker:
    rules: MaskingRules = field(default_factory=MaskingRules)
    key: bytes = b""  # the HMAC key of ``how = "hash"``
    unmasked: bool = False  # the viewer revealed the values (only if the rules allow it)

    def __post_init__(self) -> None:
        if self.rules.how is MaskHow.HASH and not self.key:
            object.__setattr__(self, "key", secrets.token_bytes(32))  # stable for this run
        names = tuple(_last_part(p) for p in self.rules.fields if not _is_header(p))
        object.__setattr__(self, "_names", names)

    @property
    def active(self) -> bool:
        return self.rules.active and not self.unmasked

    def describe(self) -> str:
        """One line for the status bar and the commands' stderr."""
        if not self.rules.active:
            return "masking off"
        if self.unmasked:
            return "masking off: you revealed the masked values"
        fields = ", ".join(self.rules.fields)
        how = "hashed" if self.rules.how is MaskHow.HASH else "hidden"
        return f"masking on: {fields} ({how})"

    # --- values ------------------------------------------------------------------------

    def mark(self, value: Any) -> str:
        if self.rules.how is not MaskHow.HASH:
            return MARK
        raw = orjson.dumps(value, default=str, option=orjson.OPT_SORT_KEYS)
        digest = hmac.new(self.key, raw, hashlib.sha256).hexdigest()[:HASH_HEX]
        return f"[masked:{digest}]"

    def data(self, value: Any, path: str = "") -> Any:
        """A decoded event value with its masked fields marked (a copy; None as is)."""
        if not self.active:
            return value
        return self._walk(value, path, self.rules.masks_field)

    def state(self, value: Any) -> Any:
        """A fold's state with masked fields marked (by path, or by the rule's name)."""
        if not self.active:
            return value
        return self._walk(value, "", self._masks_state_field)

    def headers(self, headers: Headers) -> Headers:
        if not self.active or not headers:
            return headers
        return tuple(
            (name, self.mark(_text(raw)).encode() if self.rules.masks_header(name) else raw)
            for name, raw in headers
        )

    def event(self, ev: Event) -> Event:
        """The event as it may be shown or written."""
        if not self.active:
            return ev
        data = self.data(ev.data)
        if ev.value is None:
            value = None
        elif ev.error is not None and ev.data is None:
            value = UNDECODED
        else:
            value = orjson.dumps(data, default=str)
        return ev._replace(data=data, value=value, headers=self.headers(ev.headers), schema_id=None)

    def changes(self, path: str, value: Any) -> Any:
        """One leaf of a state diff (its path in the state) as it may be shown."""
        if not self.active:
            return value
        if self._masks_state_field(path):
            return self.mark(value)
        return self._walk(value, path, self._masks_state_field)

    # --- walking -----------------------------------------------------------------------

    def _masks_state_field(self, path: str) -> bool:
        if self.rules.masks_field(path):
            return True
        name = path.rsplit(".", 1)[-1]
        return any(fnmatchcase(name, part) for part in self._names)  # type: ignore[attr-defined]

    def _walk(self, value: Any, path: str, masked: Any) -> Any:
        if isinstance(value, Mapping):
            out = {}
            for k, v in value.items():
                here = f"{path}.{k}" if path else str(k)
                out[k] = self.mark(v) if masked(here) else self._walk(v, here, masked)
            return out
        if isinstance(value, list | tuple):
            return [self._walk(v, path, masked) for v in value]  # items share the list's path
        return value


def _is_header(pattern: str) -> bool:
    return pattern.lower().startswith(HEADER)


def _last_part(pattern: str) -> str:
    return pattern.rsplit(".", 1)[-1]


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("utf-8", "replace")
