"""File > Connect...: bootstrap servers, -X properties, a properties file, a schema registry.

Recent connections fill the form; they carry only non-secret properties, so the user
retypes passwords (which are never written to settings in plain text).  The records
(``ConnectionRequest``, ``RecentConnection``) belong to the core, ``app.sources``.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from app.sources.connections import ConnectionRequest, RecentConnection
from widgets.dialog_parts import error_line, ok_cancel, quiet_note, stack
from widgets.profile_picker import ProfilePicker


class ConnectDialog(QDialog):
    def __init__(
        self,
        recent: Sequence[RecentConnection] = (),
        parent: QWidget | None = None,
        profiles: Sequence[str] = (),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect to a Kafka cluster")
        # A saved profile (its secrets in the OS keyring) instead of the form below.
        self.picker = ProfilePicker(profiles)
        self.chosen_profile: str | None = None
        self._recent = list(recent)
        self.recent = QComboBox()
        self.recent.addItem("— recent connections —" if recent else "— no recent connections —")
        for r in self._recent:
            self.recent.addItem(r.label)
        self.recent.setEnabled(bool(recent))
        self.recent.currentIndexChanged.connect(self._pick_recent)
        self.bootstrap = QLineEdit()
        self.bootstrap.setPlaceholderText("HOST:PORT[,HOST:PORT]")
        self.properties = QPlainTextEdit()
        self.properties.setPlaceholderText(
            "librdkafka properties, one key=value per line (as kcat -X), e.g.\n"
            "security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.username=app"
        )
        self.properties.setFixedHeight(96)
        self.config = QLineEdit()
        self.config.setPlaceholderText("properties file (kcat -F / client.properties)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        config_row = QHBoxLayout()
        config_row.addWidget(self.config, 1)
        config_row.addWidget(browse)
        self.registry = QLineEdit()
        self.registry.setPlaceholderText("http://registry:8081 (optional)")
        self.registry_auth = QLineEdit()
        self.registry_auth.setEchoMode(QLineEdit.EchoMode.Password)
        self.registry_auth.setPlaceholderText("user:password (optional, not saved)")
        note = quiet_note("Passwords, secrets and tokens are never saved with recent connections.")
        self.error = error_line()
        self.picker.picked.connect(lambda _name: self.error.clear())
        form = QFormLayout()
        form.addRow("Profile:", self.picker)
        form.addRow(self.recent)
        form.addRow("Bootstrap servers:", self.bootstrap)
        form.addRow("Properties (-X):", self.properties)
        form.addRow("Config file:", config_row)
        form.addRow("Schema registry:", self.registry)
        form.addRow("Registry auth:", self.registry_auth)
        stack(self, form, note, self.error, ok_cancel(self, self._accept, ok_text="Connect"))
        self.resize(520, self.sizeHint().height())
        self._request: ConnectionRequest | None = None
        if self._recent:
            self.recent.setCurrentIndex(1)

    def request(self) -> ConnectionRequest | None:
        """The form as a request, or None (with the reason shown) if it is incomplete."""
        bootstrap = self.bootstrap.text().strip()
        config = self.config.text().strip() or None
        if not bootstrap and not config:
            self.error.setText("Give bootstrap servers or a config file that names them.")
            return None
        options = []
        for lineno, raw in enumerate(self.properties.toPlainText().splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if "=" not in line or not line.partition("=")[0].strip():
                # The line is not echoed: it may hold a password.
                self.error.setText(f"Properties line {lineno}: expected key=value")
                return None
            options.append(line)
        return ConnectionRequest(
            bootstrap=bootstrap,
            x_options=tuple(options),
            config=config,
            registry=self.registry.text().strip() or None,
            registry_auth=self.registry_auth.text() or None,
        )

    def fill(self, recent: RecentConnection) -> None:
        self.bootstrap.setText(recent.bootstrap)
        self.properties.setPlainText("\n".join(f"{k}={v}" for k, v in recent.properties.items()))
        self.config.setText(recent.config or "")
        self.registry.setText(recent.registry or "")
        self.registry_auth.clear()

    def _pick_recent(self, index: int) -> None:
        if 1 <= index <= len(self._recent):
            self.fill(self._recent[index - 1])

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Properties file", "", "Properties (*.properties *.conf *.cfg);;All files (*)"
        )
        if path:
            self.config.setText(path)

    def _accept(self) -> None:
        self.chosen_profile = self.picker.current()
        if self.chosen_profile is not None:
            self.accept()
            return
        request = self.request()
        if request is not None:
            self._request = request
            self.accept()

    @property
    def chosen(self) -> ConnectionRequest | None:
        return self._request
