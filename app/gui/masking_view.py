"""Masking in the window: the masker in force (a profile's rules, ``--mask``), what
it applies to, and the status bar saying so.

Every view that shows values asks this for its masker: the table reads its events
through ``MaskedEvents`` (``app.gui.masked_events``), the detail pane hides its Raw
tab, copies and exports write masked events, the inspector, the search box and the
States dock mask states.  Folds still run on the real values.  A profile that allows
it lets the viewer reveal the values (View > Show masked values), and the status bar
says that too.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QStatusBar

from app.masking.masker import Masker
from widgets.event_detail import EventDetail

if TYPE_CHECKING:
    from app.gui.inspector import InspectorController
    from app.gui.topic_view import TopicView


NO_TEXT_SEARCH = "Text search is off while values are masked"


class Masking(QObject):
    changed = Signal(object)  # Masker

    def __init__(
        self,
        status_bar: QStatusBar,
        topic_view: TopicView,
        inspector: InspectorController,
        detail: EventDetail,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.topic_view, self.inspector, self.detail = topic_view, inspector, detail
        self.masker = Masker()
        self.given: tuple[str, ...] = ()  # --mask on the command line: every source
        self.label = QLabel()
        self.label.setObjectName("maskingStatus")
        self.label.setVisible(False)
        status_bar.addPermanentWidget(self.label)

    @property
    def active(self) -> bool:
        return self.masker.active

    def set(self, masker: Masker) -> None:
        if self.given:
            fields = tuple(dict.fromkeys((*masker.rules.fields, *self.given)))
            masker = replace(masker, rules=replace(masker.rules, fields=fields))
        self.masker = masker
        self.label.setText(masker.describe().capitalize() if masker.rules.active else "")
        self.label.setToolTip(
            "Masked values never reach the table, the detail, copies, exports or states; "
            "folds still see the real values."
        )
        self.label.setVisible(masker.rules.active)
        self._apply(masker)
        self.changed.emit(masker)

    def _apply(self, masker: Masker) -> None:
        """Every view shows through ``masker`` from now on, starting with what is shown."""
        view = self.topic_view
        # A text search would tell which events hold a masked value: off while masking.
        view.filter_bar.set_text_search(not masker.active, NO_TEXT_SEARCH)
        view.set_masker(masker)
        self.detail.set_raw_visible(not masker.active)
        selected = view.table.currentIndex()
        if selected.isValid():
            self.detail.show_event(view.model.event_at(selected.row()))
        self.inspector.set_masker(masker)

    def toggle_unmask(self) -> str | None:
        """Reveal (or hide again) the masked values; why not, when the rules forbid it."""
        if not self.masker.rules.active:
            return "Nothing is masked."
        if not self.masker.rules.allow_unmask:
            return "This profile does not allow revealing masked values."
        self.set(replace(self.masker, unmasked=not self.masker.unmasked))
        return None
