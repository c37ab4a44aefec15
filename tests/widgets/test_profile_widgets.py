"""The profile widgets on their own: the password prompt, the import dialog, the picker."""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from widgets.password_prompt import KEPT, NOT_KEPT, PasswordPrompt
from widgets.profile_dialog import ProfileDialog
from widgets.profile_picker import ProfilePicker


def test_the_password_prompt_hides_what_is_typed_and_says_if_it_is_kept(qtbot: QtBot) -> None:
    prompt = PasswordPrompt("team", "sasl.password", "not in the keyring yet", True)
    qtbot.addWidget(prompt)
    assert prompt.field.echoMode() == QLineEdit.EchoMode.Password
    assert not prompt.ok.isEnabled()
    assert prompt.kept.text() == KEPT and prompt.reason.text() == "Not in the keyring yet."
    qtbot.keyClicks(prompt.field, "pw")
    assert prompt.ok.isEnabled()
    prompt.accept()
    assert prompt.value() == "pw"
    locked = PasswordPrompt("team", "sasl.password", "the keyring is locked", False)
    qtbot.addWidget(locked)
    assert locked.kept.text() == NOT_KEPT
    locked.reject()
    assert locked.value() is None


def test_the_import_dialog_shows_the_profile_and_guards_the_name(qtbot: QtBot) -> None:
    rows = [("Name", "team"), ("Bootstrap servers", "b:9093"), ("Only these topics", "orders.*")]
    dialog = ProfileDialog(rows, "team", ["masking field '' is empty"], existing=["team"])
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.ok.isEnabled() and "saved already" in dialog.problem.text()
    assert dialog.replace.isVisible()
    dialog.replace.setChecked(True)
    assert dialog.ok.isEnabled()
    dialog.name.setText("a b")
    assert not dialog.ok.isEnabled() and "profile name" in dialog.problem.text()
    dialog.name.setText("team-2")
    assert dialog.ok.isEnabled() and not dialog.replace.isVisible()
    assert dialog.chosen_name == "team-2"
    assert "Warning: masking field" in dialog.warnings.text()


def test_the_picker_offers_saved_profiles(qtbot: QtBot) -> None:
    picker = ProfilePicker(["dev", "prod"], {"prod": "production, read-only"})
    qtbot.addWidget(picker)
    assert picker.current() is None
    with qtbot.waitSignal(picker.picked) as picked:
        picker.select("prod")
    assert picked.args == ["prod"] and picker.current() == "prod"
    with qtbot.waitSignal(picker.import_requested):
        picker.import_button.click()
    picker.set_profiles([])
    assert not picker.combo.isEnabled() and picker.current() is None
