"""Profiles in the window: File > Import profile… (and ``--import-profile FILE``, the
desktop entry's double-click), connecting with a saved profile, and the password prompt.

The window owns one ``ProfileActions`` and gives it the way to open a source (the
opener's ``open_source``); failures go out as one line on ``failed`` (the banner).
Secrets are asked for once (then kept in the keyring); with no usable keyring they are
asked for on each connect, and the prompt says why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QFileDialog, QWidget

from app.profiles import (
    EXTENSION,
    Credentials,
    Profile,
    ProfileStore,
    SecretRequest,
    import_profile,
    profile_to_source,
    read_profile_file,
)
from app.sources import Source, SourceSettings, TopicSettings
from kafka_io.properties import ProfileError
from widgets.password_prompt import PasswordPrompt
from widgets.profile_dialog import ProfileDialog

FILE_FILTER = f"Event Explorer profiles (*{EXTENSION});;All files (*)"


class ProfileActions(QObject):
    failed = Signal(str)  # one line, for the banner
    imported = Signal(str)  # the name a profile was saved under
    note = Signal(str)  # something to tell that is not a failure (secrets not kept)
    opening = Signal(object)  # the Profile being connected with (its masking, its cache)

    def __init__(
        self,
        parent: QWidget,
        open_source: Callable[[Source], None],
        *,
        store: ProfileStore | None = None,
        credentials: Credentials | None = None,
        remembered: Callable[[str], Mapping[str, TopicSettings]] | None = None,
    ) -> None:
        """``remembered(location)``: per-topic rules the window keeps for a cluster
        (Topic > Rules…); they win over the profile's for the topics they name."""
        super().__init__(parent)
        self._parent = parent
        self._open_source = open_source
        self.store = store or ProfileStore()
        self.credentials = credentials or Credentials()
        self._remembered = remembered
        # The profile of the connect in progress (until a source opens): a failure then
        # offers to forget its stored secrets.
        self.connecting: str | None = None
        # How a dialog is shown and answered: exec() here, replaced by tests.
        self.confirm: Callable[[QDialog], bool] = lambda dialog: bool(dialog.exec())

    # --- import ----------------------------------------------------------------------------

    def import_dialog(self) -> None:
        """File > Import profile…"""
        path, _ = QFileDialog.getOpenFileName(
            self._parent, "Import connection profile", "", FILE_FILTER
        )
        if path:
            self.import_file(Path(path))

    def import_file(self, path: str | Path) -> str | None:
        """Show what the file holds, save it, ask for its secrets once; the name it was
        saved under, or None (refused, or cancelled)."""
        path = Path(path)
        try:
            profile, warnings = read_profile_file(path)
        except ProfileError as exc:
            self.failed.emit(f"Cannot import {path.name}: {exc}")
            return None
        dialog = ProfileDialog(
            profile.describe(), profile.name, warnings, self.store.names(), self._parent
        )
        if not self.confirm(dialog):
            return None
        try:
            profile = replace(profile, name=dialog.chosen_name)
            import_profile(self.store, profile, replace=dialog.replace.isChecked())
        except ProfileError as exc:
            self.failed.emit(f"Cannot import {path.name}: {exc}")
            return None
        self._store_secrets(profile)
        self.imported.emit(profile.name)
        return profile.name

    def _store_secrets(self, profile: Profile) -> None:
        if not profile.secret_names:
            return
        broken = self.credentials.unavailable()
        if broken is not None:
            self.note.emit(
                f"Profile {profile.name} imported; its secrets are not kept ({broken}): "
                "they will be asked for on each connect."
            )
            return
        for name in profile.secret_names:
            request = SecretRequest(profile.name, name, "asked for once, on import", True)
            value = self.ask(request)
            if value is None:  # skipped: asked for on the first connect instead
                continue
            try:
                self.credentials.set(profile.name, name, value)
            except ProfileError as exc:
                self.note.emit(f"{name} of {profile.name} not kept: {exc}")
                return

    # --- connect ---------------------------------------------------------------------------

    def names(self) -> list[str]:
        return self.store.names()

    def connect_profile(self, name: str) -> bool:
        """Open the cluster of a saved profile (locked to its topics when it says so)."""
        try:
            profile = self.store.load(name)
            source = profile_to_source(profile, self.ask, self.credentials)
        except ProfileError as exc:
            self.failed.emit(f"Cannot connect with profile {name}: {exc}")
            return False
        if self._remembered is not None:
            own = self._remembered(source.location)
            topics = {**profile.topics, **{t: s for t, s in own.items() if not s.is_default}}
            source = source.clone(SourceSettings(profile.defaults, topics))
        self.connecting = name
        self.opening.emit(profile)
        self._open_source(source)
        return True

    def opened(self, _source: Source) -> None:
        """A source opened (this profile's, or another): no connect is in progress."""
        self.connecting = None

    def forget_secrets(self, name: str) -> None:
        """Drop a profile's secrets from the keyring (a password the broker refuses):
        the next connect asks for them again."""
        try:
            profile = self.store.load(name)
            for secret in profile.secret_names:
                self.credentials.delete(name, secret)
        except ProfileError as exc:
            self.failed.emit(f"Cannot forget the secrets of {name}: {exc}")

    def ask(self, request: SecretRequest) -> str | None:
        """The password provider of the GUI: a prompt, answered or cancelled."""
        prompt = PasswordPrompt(
            request.profile, request.label, request.reason, request.remembered, self._parent
        )
        if not self.confirm(prompt):
            return None
        return prompt.value()
