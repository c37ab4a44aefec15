"""Topic > Trace and health ids…: the rules that say where each topic's event id,
correlation id, causation id and aggregate version are, remembered per cluster (or
file) and topic, and handed to every trace and health check the window runs (what the
CLI's ``--event-id-rule`` and its friends give).  Fields left empty are detected."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from app.gui.loader import Loader
from app.gui.settings import Settings
from app.trace.rules import IdRuleBook, IdRules
from widgets.id_rules_dialog import IdRulesDialog


class IdRulesChoice(QObject):
    def __init__(
        self,
        parent: QWidget,
        loader: Loader,
        settings: Settings,
        current_topic: Callable[[], str | None],
        say: Callable[[str], None],
    ) -> None:
        super().__init__(parent)
        self.parent_widget, self.loader, self.settings = parent, loader, settings
        self.current_topic, self.say = current_topic, say

    def book(self) -> IdRuleBook:
        """The rules of the open cluster's (or file's) topics."""
        dataset = self.loader.dataset
        if dataset is None:
            return IdRuleBook()
        return IdRuleBook(topics=self.settings.id_rules(dataset.source.location))

    def dialog(self, topic: str | None = None) -> None:
        topic = topic or self.current_topic()
        dataset = self.loader.dataset
        if topic is None or dataset is None:
            self.say("Pick a topic first.")
            return
        current = self.settings.id_rules(dataset.source.location).get(topic, IdRules())
        dialog = IdRulesDialog(topic, current, parent=self.parent_widget)
        if dialog.exec() and dialog.chosen is not None:
            self.set_rules(topic, dialog.chosen)

    def set_rules(self, topic: str, rules: IdRules) -> None:
        dataset = self.loader.dataset
        if dataset is None:
            return
        self.settings.set_id_rules(dataset.source.location, topic, rules)
        self.say(f"{topic}: trace and health use these ids from now on.")
