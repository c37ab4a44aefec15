"""The detail pane's Upcasted tab: the selected event's schema version, the upcasters
its type goes through, and its value before and after them (masked like the rest)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPlainTextEdit, QSplitter, QVBoxLayout, QWidget

from app.masking.masker import Masker
from app.replay.event_sources import copy_state
from app.replay.upcasting import Upcasting
from kafka_io.event import Event
from widgets.event_detail import EventDetail, value_as_json

TITLE = "Upcasted"


class UpcastTab(QWidget):
    def __init__(self, detail: EventDetail) -> None:
        super().__init__()
        self.setObjectName("upcastTab")
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.original, self.upcasted = QPlainTextEdit(), QPlainTextEdit()
        sides = QSplitter()
        for title, text in (("Original", self.original), ("Upcasted", self.upcasted)):
            text.setReadOnly(True)
            box = QWidget()
            col = QVBoxLayout(box)
            col.setContentsMargins(0, 0, 0, 0)
            col.addWidget(QLabel(title))
            col.addWidget(text)
            sides.addWidget(box)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(sides, 1)
        self.tabs = detail.tabs
        self.position = self.tabs.addTab(self, TITLE)
        self.tabs.setTabVisible(self.position, False)

    def explain(self, event: Event | None, upcast: Upcasting | None, masker: Masker) -> None:
        """The tab is there while the topic has upcasters; it explains ``event``."""
        self.tabs.setTabVisible(self.position, event is not None and upcast is not None)
        if event is None or upcast is None:
            self.summary.setText("")
            self.original.clear()
            self.upcasted.clear()
            return
        view = upcast.explain(event, copy_state)
        version = view.version or "none"
        if view.error is not None:
            text = f"Version {version}: an upcaster failed: {view.error}"
        elif view.ran:
            text = f"Version {version} → {view.final_version} through " + ", then ".join(view.ran)
        elif event.type in upcast.chains:
            text = f"Version {version}: already current, no upcaster ran"
        else:
            text = f"Version {version}: no upcaster for {event.type}"
        self.summary.setText(text)
        self.original.setPlainText(value_as_json(masker.data(view.original)))
        after = view.upcasted if view.error is None else None
        self.upcasted.setPlainText("" if after is None else value_as_json(masker.data(after)))
