"""Profiles in the GUI: File > Import profile… shows the profile, saves it, and asks for
each secret once (kept in the keyring); connecting with a saved profile opens its
cluster locked to its topics; with no keyring the secrets are asked for on each connect."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from keyring_fixtures import MemoryKeyring
from PySide6.QtWidgets import QDialog, QWidget
from pytestqt.qtbot import QtBot
from secure_broker_fixtures import SecureKafka

from app.gui.profile_actions import ProfileActions
from app.profiles import LockedClusterSource, ProfileStore
from app.sources import Source
from widgets.password_prompt import PasswordPrompt
from widgets.profile_dialog import ProfileDialog

pytestmark = pytest.mark.usefixtures("private_profiles")
SECRET = "gui-pw-4b1d"


def _file(folder: Path, bootstrap: str, extra: str = "", props: str = "") -> Path:
    path = folder / "team.evx-profile"
    path.write_text(
        f'format_version = 1\nname = "team"\nlocked_topics = ["orders-*"]\n{extra}\n'
        f'[kafka]\nbootstrap = "{bootstrap}"\nsecrets = ["sasl.username", "sasl.password"]\n'
        f"[kafka.properties]\n{props}\n"
    )
    return path


class Answers:
    """Answers the dialogs as a user would: accepts the import, types each secret."""

    def __init__(self, secrets: dict[str, str]) -> None:
        self.secrets = secrets
        self.shown: list[QDialog] = []

    def __call__(self, dialog: QDialog) -> bool:
        self.shown.append(dialog)
        if isinstance(dialog, PasswordPrompt):
            dialog.field.setText(self.secrets[dialog.field.placeholderText()])
        elif isinstance(dialog, ProfileDialog):
            assert dialog.ok.isEnabled()
        dialog.accept()
        return True

    def prompts(self) -> list[PasswordPrompt]:
        return [d for d in self.shown if isinstance(d, PasswordPrompt)]


@pytest.fixture
def parent(qtbot: QtBot) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


def test_import_shows_the_profile_then_asks_each_secret_once_into_the_keyring(
    parent: QWidget, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    opened: list[Source] = []
    actions = ProfileActions(parent, opened.append)
    answers = Answers({"sasl.username": "support-1", "sasl.password": SECRET})
    actions.confirm = answers
    imported: list[str] = []
    actions.imported.connect(imported.append)
    assert actions.import_file(_file(tmp_path, "127.0.0.1:1")) == "team"
    assert imported == ["team"] and ProfileStore().names() == ["team"]
    dialog = answers.shown[0]
    assert isinstance(dialog, ProfileDialog)
    assert [p.field.placeholderText() for p in answers.prompts()] == [
        "sasl.username",
        "sasl.password",
    ]
    assert all("kept in the OS keyring" in p.kept.text() for p in answers.prompts())
    assert memory_keyring.values == {
        ("event-explorer", "team/sasl.username"): "support-1",
        ("event-explorer", "team/sasl.password"): SECRET,
    }
    assert SECRET not in ProfileStore().path("team").read_text()
    # A password the broker refuses is forgotten; the next connect asks again.
    actions.forget_secrets("team")
    assert memory_keyring.values == {}
    assert actions.connect_profile("team")
    assert len(answers.prompts()) == 4 and len(opened) == 1
    assert all("not in the keyring yet" in p.reason.text().lower() for p in answers.prompts()[2:])


def test_a_file_with_a_secret_is_refused_before_anything_is_shown(
    parent: QWidget, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    actions = ProfileActions(parent, lambda source: None)
    answers = Answers({})
    actions.confirm = answers
    failures: list[str] = []
    actions.failed.connect(failures.append)
    path = _file(tmp_path, "b:1", props=f'"sasl.password" = "{SECRET}"')
    assert actions.import_file(path) is None
    [failure] = failures
    assert "sasl.password" in failure and "never carry secrets" in failure
    assert SECRET not in failure
    assert answers.shown == [] and ProfileStore().names() == []


def test_with_no_keyring_secrets_are_asked_for_on_each_connect(
    parent: QWidget, tmp_path: Path
) -> None:
    # The session's default keyring refuses every call.
    opened: list[Source] = []
    actions = ProfileActions(parent, opened.append)
    answers = Answers({"sasl.username": "support-1", "sasl.password": SECRET})
    actions.confirm = answers
    notes: list[str] = []
    actions.note.connect(notes.append)
    assert actions.import_file(_file(tmp_path, "127.0.0.1:1")) == "team"
    assert answers.prompts() == [] and "asked for on each connect" in notes[0]
    for round_ in (1, 2):
        assert actions.connect_profile("team")
        assert len(answers.prompts()) == 2 * round_
    assert all(p.reason.text().startswith("No OS keyring") for p in answers.prompts())
    assert all("memory for this session only" in p.kept.text() for p in answers.prompts())
    assert opened[0].profile.properties["sasl.password"] == SECRET  # type: ignore[attr-defined]


@pytest.mark.kafka
def test_connecting_with_a_profile_opens_its_cluster_locked_to_its_topics(
    parent: QWidget,
    memory_keyring: MemoryKeyring,
    secure_kafka: SecureKafka,
    make_secure_topic: Callable[..., str],
    tmp_path: Path,
) -> None:
    mine, other = make_secure_topic(1, prefix="orders"), make_secure_topic(1, prefix="users")
    props = (
        f'"security.protocol" = "SASL_SSL"\n"sasl.mechanism" = "{secure_kafka.mechanism}"\n'
        f'"ssl.ca.location" = "{secure_kafka.ca_file}"\n'
    )
    opened: list[Source] = []
    actions = ProfileActions(parent, opened.append)
    actions.confirm = Answers(
        {"sasl.username": secure_kafka.user, "sasl.password": secure_kafka.password}
    )
    assert actions.import_file(_file(tmp_path, secure_kafka.bootstrap, props=props)) == "team"
    actions.confirm = Answers({})  # from now on the keyring answers
    assert actions.connect_profile("team")
    [source] = opened
    assert isinstance(source, LockedClusterSource)
    names = {t.name for t in source.listing().topics}
    assert mine in names and other not in names
