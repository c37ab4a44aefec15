"""Topic > Rules…: how one topic is read — where its event type and aggregate id are,
its value format and the partitioner its producers used.

The same settings as the CLI's ``--type-rule``, ``--aggregate-rule``, ``--format``,
``--partitioner`` and ``--proto-descriptors``/``--proto-message`` (plain Protobuf values);
the window remembers them per cluster and topic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from app.sources.proto_rule import ProtoRule
from app.sources.settings import VALUE_FORMATS, TopicSettings
from widgets.dialog_parts import error_line, ok_cancel, quiet_note, stack

RULE_HINT = "key | header:NAME | field:dotted.path (empty: detect)"


class TopicRulesDialog(QDialog):
    def __init__(
        self,
        topic: str,
        current: TopicSettings,
        partitioners: Sequence[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Rules for {topic}")
        self.type_rule = QLineEdit(current.type_rule or "")
        self.type_rule.setPlaceholderText(RULE_HINT)
        self.aggregate_rule = QLineEdit(current.aggregate_rule or "")
        self.aggregate_rule.setPlaceholderText(RULE_HINT)
        self.value_format = QComboBox()
        self.value_format.addItems(list(VALUE_FORMATS))
        self.value_format.setCurrentText(str(current.value_format))
        self.partitioner = QComboBox()
        self.partitioner.addItem("detect")
        self.partitioner.addItems(list(partitioners))
        self.partitioner.setCurrentText(current.partitioner or "detect")
        self.partitioner.setEnabled(bool(partitioners))
        proto = current.proto
        self.proto_descriptors = QLineEdit(proto.descriptors if proto else "")
        self.proto_descriptors.setPlaceholderText("protoc --descriptor_set_out … --include_imports")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_descriptors)
        descriptors_row = QHBoxLayout()
        descriptors_row.addWidget(self.proto_descriptors, 1)
        descriptors_row.addWidget(browse)
        self.proto_message = QLineEdit(proto.message if proto else "")
        self.proto_message.setPlaceholderText("plain Protobuf values: pkg.MessageType")
        self.error = error_line()
        note = quiet_note("Changing these reads the topic again.")
        form = QFormLayout()
        form.addRow("Event type:", self.type_rule)
        form.addRow("Aggregate id:", self.aggregate_rule)
        form.addRow("Value format:", self.value_format)
        form.addRow("Partitioner:", self.partitioner)
        form.addRow("Protobuf descriptors:", descriptors_row)
        form.addRow("Protobuf message:", self.proto_message)
        stack(self, form, note, self.error, ok_cancel(self, self._accept))
        self.chosen: TopicSettings | None = None

    def settings(self) -> TopicSettings | None:
        """The form as settings, or None (with the reason shown) if a rule is invalid."""
        partitioner = self.partitioner.currentText()
        try:
            parsed = TopicSettings.parse(
                self.type_rule.text().strip() or None,
                self.aggregate_rule.text().strip() or None,
                self.value_format.currentText(),
                None if partitioner == "detect" else partitioner,
            )
            proto = ProtoRule.parse(
                self.proto_descriptors.text().strip() or None,
                self.proto_message.text().strip() or None,
            )
            return parsed if proto is None else replace(parsed, proto=proto)
        except ValueError as exc:
            self.error.setText(str(exc))
            return None

    def _browse_descriptors(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Protobuf descriptor set", "", "Descriptor sets (*.pb *.desc *.protoset);;All (*)"
        )
        if path:
            self.proto_descriptors.setText(path)

    def _accept(self) -> None:
        chosen = self.settings()
        if chosen is not None:
            self.chosen = chosen
            self.accept()
