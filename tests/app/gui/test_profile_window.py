"""Profiles in the window, against the broker's SASL_SSL listener: a double-clicked
profile is imported and connected with, the tree, reads and lag keep to its topic lock,
the connect dialog offers saved profiles, and a refused password offers to forget it."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from gui_helpers import pump_until
from keyring_fixtures import MemoryKeyring
from masking_data import write_fold
from PySide6.QtWidgets import QApplication, QDialog
from secure_broker_fixtures import SecureKafka

from app.gui.launch import build_window
from app.gui.main_window import FORGET, MainWindow
from app.gui.settings import Settings
from app.profiles import LockedClusterSource, ProfileStore
from widgets.connect_dialog import ConnectDialog
from widgets.password_prompt import PasswordPrompt

pytestmark = [pytest.mark.kafka, pytest.mark.usefixtures("private_profiles")]


class Answers:
    """Accepts the import dialog and types each secret asked for; counts the prompts."""

    def __init__(self, secrets: dict[str, str]) -> None:
        self.secrets = secrets
        self.prompts = 0

    def __call__(self, dialog: QDialog) -> bool:
        if isinstance(dialog, PasswordPrompt):
            self.prompts += 1
            dialog.field.setText(self.secrets[dialog.field.placeholderText()])
        dialog.accept()
        return True


def profile_file(folder: Path, kafka: SecureKafka, lock: str, folds: Path | None = None) -> Path:
    path = folder / "support.evx-profile"
    fold_folder = f'fold_folder = "{folds}"\n' if folds is not None else ""
    path.write_text(
        f'format_version = 1\nname = "support"\nlocked_topics = ["{lock}"]\n{fold_folder}'
        f'[kafka]\nbootstrap = "{kafka.bootstrap}"\n'
        'secrets = ["sasl.username", "sasl.password"]\n'
        f'[kafka.properties]\n"security.protocol" = "SASL_SSL"\n'
        f'"sasl.mechanism" = "{kafka.mechanism}"\n"ssl.ca.location" = "{kafka.ca_file}"\n'
    )
    return path


def window_with(tmp_path: Path, **args: object) -> MainWindow:
    namespace = argparse.Namespace(
        bootstrap=None, x_options=[], config=None, registry=None, registry_auth=None,
        file=None, folds=[], import_profile=None, profile=None,
    )  # fmt: skip
    for name, value in args.items():
        setattr(namespace, name, value)
    return build_window(namespace, Settings(tmp_path / "s.ini"), use_user_folds=False)


@pytest.fixture
def topics(
    secure_kafka: SecureKafka, make_secure_topic: Callable[..., str]
) -> Iterator[tuple[str, str, str]]:
    """A topic the profile may read, one it may not, and a group on the second."""
    mine, other = make_secure_topic(1, prefix="payments"), make_secure_topic(1, prefix="users")
    producer = Producer({"bootstrap.servers": secure_kafka.plain_bootstrap})
    for topic in (mine, other):
        for i in range(5):
            producer.produce(topic, key=f"ACC-{i}", value=b'{"eventType":"Opened"}')
    assert producer.flush(30) == 0
    group = f"users-reader-{other[-6:]}"
    consumer = Consumer({"bootstrap.servers": secure_kafka.plain_bootstrap, "group.id": group})
    consumer.commit(offsets=[TopicPartition(other, 0, 2)], asynchronous=False)
    consumer.close()
    yield mine, other, group


def test_a_double_clicked_profile_is_imported_and_connected_within_its_lock(
    qapp: QApplication,
    memory_keyring: MemoryKeyring,
    secure_kafka: SecureKafka,
    topics: tuple[str, str, str],
    tmp_path: Path,
) -> None:
    mine, other, group = topics
    folds = tmp_path / "team-folds"
    folds.mkdir()
    write_fold(folds)
    window = window_with(
        tmp_path, import_profile=str(profile_file(tmp_path, secure_kafka, "payments-*", folds))
    )
    answers = Answers({"sasl.username": secure_kafka.user, "sasl.password": secure_kafka.password})
    window.profile_actions.confirm = answers  # before the queued import runs
    window.show()
    try:
        tree = window.cluster_tree
        pump_until(lambda: mine in tree.topic_names(), 90)
        assert other not in tree.topic_names()
        assert answers.prompts == 2 and ProfileStore().names() == ["support"]
        # The profile's fold folder is loaded for this session, not remembered.
        assert "customer" in window.folds.registry.names()
        assert str(folds) not in window.settings.fold_files()
        assert isinstance(window.loader.dataset.source, LockedClusterSource)  # type: ignore[union-attr]
        window.activate_topic(mine)
        pump_until(lambda: window.topic_view.model.rowCount() == 5, 60)
        # The lag sampler keeps to the lock: the group of the other topic is not shown.
        history = window.monitoring.lag_monitor
        pump_until(lambda: len(history.history) >= 1, 60)
        assert group not in history.history.groups()
    finally:
        window.close()

    # The next start connects from the keyring, asking nothing.
    again = window_with(tmp_path, profile="support")
    quiet = Answers({})
    again.profile_actions.confirm = quiet
    try:
        pump_until(lambda: mine in again.cluster_tree.topic_names(), 90)
        assert quiet.prompts == 0
    finally:
        again.close()


def test_the_connect_dialog_offers_saved_profiles(qapp: QApplication) -> None:
    dialog = ConnectDialog([], None, ["payments", "support"])
    assert dialog.picker.combo.count() == 3  # a placeholder, then the names
    dialog._accept()
    assert dialog.result() != QDialog.DialogCode.Accepted  # no profile, no address
    assert "bootstrap" in dialog.error.text().lower()
    dialog.picker.select("support")
    dialog._accept()
    assert dialog.chosen_profile == "support" and dialog.chosen is None


def test_a_refused_password_offers_to_forget_it(
    qapp: QApplication,
    memory_keyring: MemoryKeyring,
    secure_kafka: SecureKafka,
    topics: tuple[str, str, str],
    tmp_path: Path,
) -> None:
    mine, _, _ = topics
    window = window_with(tmp_path)
    window.show()
    pump_until(lambda: window.topic_view.model.rowCount() > 0, 60)  # the demo, opened first
    wrong = Answers({"sasl.username": secure_kafka.user, "sasl.password": "not-it"})
    window.profile_actions.confirm = wrong
    assert window.profile_actions.import_file(profile_file(tmp_path, secure_kafka, "payments-*"))
    try:
        window.profile_actions.connect_profile("support")
        banner = window.banner
        pump_until(lambda: "Authentication failed" in banner.message, 90)
        assert banner.action_button.text() == FORGET
        right = Answers(
            {"sasl.username": secure_kafka.user, "sasl.password": secure_kafka.password}
        )
        window.profile_actions.confirm = right
        banner.action_button.click()  # forget, then connect again: asked anew
        pump_until(lambda: mine in window.cluster_tree.topic_names(), 90)
        assert right.prompts == 2
    finally:
        window.close()
