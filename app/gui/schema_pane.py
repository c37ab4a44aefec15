"""The Event panel's schema: the message type and the schema the shown value was written
with (Protobuf, JSON Schema, Avro), from the decoder that decoded it for display."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.schema_view import SchemaView, SchemaViews
from widgets.event_detail import EventDetail

if TYPE_CHECKING:
    from app.gui.loader import Loader


class SchemaPane:
    """Answers the Event panel's question "what was this value written with?"."""

    def __init__(self, detail: EventDetail, loader: Loader) -> None:
        self._loader = loader
        self._views = SchemaViews()
        detail.describe = self.describe

    def describe(self, ev: Event) -> tuple[str, str] | None:
        view = self.view(ev)
        return None if view is None else (view.title, view.text)

    def view(self, ev: Event) -> SchemaView | None:
        dataset = self._loader.dataset
        index = dataset.indexes.get(ev.topic) if dataset is not None else None
        # The display decoder already resolved the event's schema: no registry call here.
        decoder = index.decoder if index is not None else None
        if not isinstance(decoder, Decoder):
            return None
        return self._views.of_event(decoder, ev)
