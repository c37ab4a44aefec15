"""Topic > Trace and health ids…: where one topic's event id, correlation id, causation
id and aggregate version are, for the Trace view and the Health panel.

The same rules as the CLI's ``--event-id-rule``, ``--correlation-rule``,
``--causation-rule`` and ``--version-rule``; empty fields are detected from common names.
They change no decoding, so the topic is not read again.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QFormLayout, QLineEdit, QWidget

from app.trace.rules import FIELD_NAMES, ROLES, IdRules
from widgets.dialog_parts import error_line, ok_cancel, quiet_note, stack

ID_HINT = "key | header:NAME | field:dotted.path | traceparent | none"
DETECTED = (
    "Empty: detected from the first events, by the common names ("
    + "; ".join(", ".join(FIELD_NAMES[role]) for role in ROLES)
    + "), also under metadata. or meta., and headers such as x-correlation-id and "
    "traceparent. none: the topic has no such id."
)


class IdRulesDialog(QDialog):
    def __init__(self, topic: str, current: IdRules, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Trace and health ids of {topic}")
        self.fields = {role.value: QLineEdit(current.text(role) or "") for role in ROLES}
        form = QFormLayout()
        labels = ("Event id:", "Correlation id:", "Causation id:", "Aggregate version:")
        for label, edit in zip(labels, self.fields.values(), strict=True):
            edit.setPlaceholderText(ID_HINT)
            form.addRow(label, edit)
        self.error = error_line()
        stack(self, form, quiet_note(DETECTED), self.error, ok_cancel(self, self._accept))
        self.chosen: IdRules | None = None

    def rules(self) -> IdRules | None:
        """The form as rules, or None (with the reason shown) if a rule is invalid."""
        self.error.clear()
        try:
            return IdRules(
                **{role: edit.text().strip() or None for role, edit in self.fields.items()}
            )
        except ValueError as exc:
            self.error.setText(str(exc))
            return None

    def _accept(self) -> None:
        chosen = self.rules()
        if chosen is not None:
            self.chosen = chosen
            self.accept()
