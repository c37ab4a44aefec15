"""Opening sources from the window: files (dialog, recent, drop, demo) and clusters
(connect dialog, recent connections).

Only what worked is remembered: a file joins Open recent once it gave events, a
connection joins Recent connections once the cluster answered.  A connection that does
not answer leaves the open source as it was and says why in the dialog's place (the
window's banner).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from app.gui.dataset import Dataset
from app.gui.jobs import ReadDone
from app.gui.loader import Loader
from app.gui.profile_actions import ProfileActions
from app.gui.settings import Settings
from app.sources import ClusterSource, FileSource, Source, SourceSettings
from app.sources.connections import ConnectionRequest
from kafka_io.profile import ConnectionProfile, ProfileError
from resources import demo_path
from widgets.connect_dialog import ConnectDialog

FILE_FILTER = "Event files (*.avro *.jsonl *.json *.ndjson);;All files (*)"


class Opener(QObject):
    failed = Signal(str)  # a one-line reason, for the banner
    opened = Signal(object)  # the Source, once it is open

    def __init__(
        self,
        loader: Loader,
        settings: Settings,
        recent_files: QMenu,
        recent_connections: QMenu,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.loader = loader
        self.settings = settings
        self.recent_files_menu = recent_files
        self.recent_conn_menu = recent_connections
        self._parent = parent
        self._pending_file: Path | None = None
        self._pending_request: ConnectionRequest | None = None
        self.profiles: ProfileActions | None = None  # saved profiles (set by the window)
        loader.dataset_changed.connect(self._dataset_changed)
        loader.open_failed.connect(self._open_failed)
        loader.read_finished.connect(self._read_finished)
        self.refresh_menus()

    # --- files ---------------------------------------------------------------------------

    def open_file(self, path: str | Path, *, remember: bool = True) -> bool:
        path = Path(path)
        if not path.exists():
            self.failed.emit(f"No such file: {path}")
            return False
        source = FileSource(path)
        source = source.clone(self._settings_for(source.location))
        try:
            source.check()
        except (OSError, ValueError) as exc:
            self.failed.emit(f"Cannot open {path.name}: {exc}")
            return False
        self._pending_file = path if remember else None
        self.open_source(source)
        return True

    def open_demo(self) -> None:
        self.open_file(demo_path(), remember=False)

    def open_file_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self._parent, "Open event file", "", FILE_FILTER)
        if path:
            self.open_file(path)

    # --- clusters ------------------------------------------------------------------------

    def connect_dialog(self) -> None:
        profiles = self.profiles
        names = profiles.names() if profiles is not None else []
        dialog = ConnectDialog(self.settings.recent_connections(), self._parent, names)
        if profiles is not None:

            def import_profile() -> None:
                profiles.import_dialog()
                dialog.picker.set_profiles(profiles.names())

            dialog.picker.import_requested.connect(import_profile)
        if not dialog.exec():
            return
        if dialog.chosen_profile is not None and profiles is not None:
            profiles.connect_profile(dialog.chosen_profile)
        elif dialog.chosen is not None:
            self.connect_to(dialog.chosen)

    def connect_to(self, request: ConnectionRequest) -> bool:
        try:
            profile = request.to_profile()
        except ProfileError as exc:
            self.failed.emit(str(exc))
            return False
        self._pending_request = request
        self.connect_profile(profile)
        return True

    def connect_profile(self, profile: ConnectionProfile) -> None:
        source = ClusterSource(profile)
        self.open_source(source.clone(self._settings_for(source.location)))

    def open_source(self, source: Source) -> None:
        self.loader.open(source)

    def _settings_for(self, location: str) -> SourceSettings:
        """The per-topic settings remembered for this cluster or file."""
        return SourceSettings(topics=self.settings.topic_settings(location))

    # --- outcomes ------------------------------------------------------------------------

    def _dataset_changed(self, dataset: Dataset) -> None:
        if self._pending_request is not None and not dataset.source.preloads:
            self.settings.add_recent_connection(self._pending_request.to_recent())
            self._pending_request = None
            self.refresh_menus()
        self.opened.emit(dataset.source)

    def _open_failed(self, name: str, reason: str) -> None:
        self._pending_request = None
        self.failed.emit(f"Could not connect to {name}: {reason}")

    def _read_finished(self, done: ReadDone) -> None:
        path, self._pending_file = self._pending_file, None
        if path is not None and done.events > 0:
            self.settings.add_recent_file(path)
            self.refresh_menus()

    def refresh_menus(self) -> None:
        self.recent_files_menu.clear()
        for path in self.settings.recent_files():
            self.recent_files_menu.addAction(path, partial(self.open_file, path))
        self.recent_files_menu.setEnabled(not self.recent_files_menu.isEmpty())
        self.recent_conn_menu.clear()
        for conn in self.settings.recent_connections():
            request = conn.to_request()
            self.recent_conn_menu.addAction(conn.label, partial(self.connect_to, request))
        self.recent_conn_menu.setEnabled(not self.recent_conn_menu.isEmpty())
