"""What the app remembers between runs (QSettings): recent files and connections, how each
topic is read and where its ids are, folds, window geometry and dock/splitter state.

Recent connections keep only non-secret properties (``ConnectionRequest.to_recent``); a
password typed in the connect dialog lives in memory for the session and nowhere else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from PySide6.QtCore import QByteArray, QSettings

from app.sources.connections import RecentConnection
from app.sources.settings import TopicSettings
from app.trace.rules import ROLES, IdRules

MAX_RECENT = 10
ORGANIZATION = "EventExplorer"
APPLICATION = "event-explorer"


class Settings:
    def __init__(self, path: Path | None = None) -> None:
        """``path``: an INI file (tests, portable use); default: the platform's store."""
        if path is None:
            self.qs = QSettings(ORGANIZATION, APPLICATION)
        else:
            self.qs = QSettings(str(path), QSettings.Format.IniFormat)

    # --- recent files ----------------------------------------------------------------------

    def recent_files(self) -> list[str]:
        return self._list("recent/files")

    def add_recent_file(self, path: str | Path) -> None:
        text = str(Path(path).resolve())
        self._push("recent/files", text)

    # --- recent connections ----------------------------------------------------------------

    def recent_connections(self) -> list[RecentConnection]:
        found = (RecentConnection.from_json(item) for item in self._json_list("recent/connections"))
        return [conn for conn in found if conn is not None]

    def add_recent_connection(self, conn: RecentConnection) -> None:
        entry = conn.to_json()  # RecentConnection holds no secret: nothing secret is written
        current = [c.to_json() for c in self.recent_connections()]
        current = [c for c in current if c != entry]
        current.insert(0, entry)
        self.qs.setValue("recent/connections", orjson.dumps(current[:MAX_RECENT]).decode())
        self.qs.sync()  # at once: a crash later must not lose what worked

    # --- how each topic is read --------------------------------------------------------------

    def topic_settings(self, location: str) -> dict[str, TopicSettings]:
        """Per-topic settings remembered for a cluster (or file) at ``location``."""
        out: dict[str, TopicSettings] = {}
        for topic, data in self._per_topic("topics", location).items():
            try:
                out[topic] = TopicSettings.from_json(data)
            except ValueError:
                continue  # a rule this version cannot parse: forget it
        return out

    def set_topic_settings(self, location: str, topic: str, settings: TopicSettings) -> None:
        current = {t: s.to_json() for t, s in self.topic_settings(location).items()}
        self._set_per_topic(
            "topics", location, topic, None if settings.is_default else settings.to_json(), current
        )

    # --- where each topic's ids are (Trace, Health) --------------------------------------------

    def id_rules(self, location: str) -> dict[str, IdRules]:
        """Per-topic id rules remembered for a cluster (or file) at ``location``."""
        out: dict[str, IdRules] = {}
        for topic, data in self._per_topic("idrules", location).items():
            try:
                out[topic] = IdRules(**{r.value: _text(data.get(r.value)) for r in ROLES})
            except ValueError:
                continue
        return out

    def set_id_rules(self, location: str, topic: str, rules: IdRules) -> None:
        current = {t: _id_json(r) for t, r in self.id_rules(location).items()}
        self._set_per_topic("idrules", location, topic, _id_json(rules) or None, current)

    def _per_topic(self, section: str, location: str) -> dict[str, dict[str, Any]]:
        raw = self.qs.value(f"{section}/{_key(location)}", "")
        try:
            stored = orjson.loads(str(raw)) if raw else {}
        except orjson.JSONDecodeError:
            return {}
        if not isinstance(stored, dict):
            return {}
        return {str(t): d for t, d in stored.items() if isinstance(d, dict)}

    def _set_per_topic(
        self,
        section: str,
        location: str,
        topic: str,
        data: dict[str, Any] | None,
        current: dict[str, Any],
    ) -> None:
        """Remember ``data`` for ``topic`` (None: forget it) among ``current``."""
        if data is None:
            current.pop(topic, None)
        else:
            current[topic] = data
        self.qs.setValue(f"{section}/{_key(location)}", orjson.dumps(current).decode())
        self.qs.sync()

    # --- folds -------------------------------------------------------------------------------

    def fold_files(self) -> list[str]:
        return self._list("folds/files")

    def set_fold_files(self, paths: Sequence[str]) -> None:
        self.qs.setValue("folds/files", orjson.dumps(list(paths)).decode())

    # --- window ------------------------------------------------------------------------------

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        geometry = self.qs.value("window/geometry")
        state = self.qs.value("window/state")
        return (
            geometry if isinstance(geometry, QByteArray) else None,
            state if isinstance(state, QByteArray) else None,
        )

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.qs.setValue("window/geometry", geometry)
        self.qs.setValue("window/state", state)

    def splitter(self, name: str) -> QByteArray | None:
        value = self.qs.value(f"splitters/{name}")
        return value if isinstance(value, QByteArray) else None

    def save_splitter(self, name: str, state: QByteArray) -> None:
        self.qs.setValue(f"splitters/{name}", state)

    def sync(self) -> None:
        self.qs.sync()

    # --- helpers -----------------------------------------------------------------------------

    def _json_list(self, key: str) -> list[Any]:
        """A JSON list stored under ``key``; empty when missing or unreadable."""
        raw = self.qs.value(key, "")
        if not raw:
            return []
        try:
            items = orjson.loads(str(raw))
        except orjson.JSONDecodeError:
            return []
        return items if isinstance(items, list) else []

    def _list(self, key: str) -> list[str]:
        return [str(i) for i in self._json_list(key) if isinstance(i, str)]

    def _push(self, key: str, value: str) -> None:
        items = [v for v in self._list(key) if v != value]
        items.insert(0, value)
        self.qs.setValue(key, orjson.dumps(items[:MAX_RECENT]).decode())


def _key(location: str) -> str:
    """A settings key for a location (QSettings treats / and \\ as group separators)."""
    return hashlib.sha1(location.encode()).hexdigest()[:16]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _id_json(rules: IdRules) -> dict[str, str]:
    """The rules given (the detected ones are left out)."""
    return {r.value: text for r in ROLES if (text := rules.text(r)) is not None}
