"""The Event panel's schema: the message type and the schema the shown value was written
with (Protobuf, JSON Schema, Avro), and a registry-framed key decoded, from the decoder
that decoded the event for display."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

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
        detail.describe_key = self.describe_key

    def describe(self, ev: Event) -> tuple[str, str] | None:
        view = self.view(ev)
        return None if view is None else (view.title, view.text)

    def view(self, ev: Event) -> SchemaView | None:
        # The display decoder already resolved the event's schema: no registry call here.
        decoder = self._decoder(ev)
        return self._views.of_event(decoder, ev) if decoder is not None else None

    def describe_key(self, ev: Event) -> str | None:
        """A registry-framed key, decoded by the topic's display decoder (which resolved
        its schema when it decoded the event) as compact JSON."""
        decoder = self._decoder(ev)
        data = decoder.key_data(ev.key) if decoder is not None else None
        if data is None:
            return None
        return orjson.dumps(data, default=str, option=orjson.OPT_SORT_KEYS).decode()

    def _decoder(self, ev: Event) -> Decoder | None:
        dataset = self._loader.dataset
        index = dataset.indexes.get(ev.topic) if dataset is not None else None
        decoder = index.decoder if index is not None else None
        return decoder if isinstance(decoder, Decoder) else None
