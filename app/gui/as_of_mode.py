"""As-of mode: one moment T (or per-partition offsets) for the whole window.

While it is on, the table, its counts and type lists, the rate chart and the inspector
show only what had been written by T (``app.audit.as_of``), the as-of strip says so
above the table and the window title repeats it.  Moving T is a mask over the index's
columns: milliseconds on a million-event topic.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from app.audit.as_of import AsOf, AsOfError
from widgets.as_of_bar import AsOfBar

TITLE = "Event Explorer"


class AsOfMode(QObject):
    changed = Signal(object)  # AsOf | None

    def __init__(
        self,
        bar: AsOfBar,
        set_title: Callable[[str], None],
        default_moment: Callable[[], int],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.bar = bar
        self.set_title = set_title
        self.default_moment = default_moment  # where T starts: the selected event, or now
        self.as_of: AsOf | None = None
        bar.moment_changed.connect(lambda ms: self.set(AsOf.moment(ms)))
        bar.offsets_entered.connect(self._offsets_entered)
        bar.leave_requested.connect(self.leave)

    @property
    def on(self) -> bool:
        return self.as_of is not None

    def toggle(self) -> None:
        """The menu action: enter at the default moment, or leave."""
        if self.on:
            self.leave()
        else:
            self.set(AsOf.moment(self.default_moment()))

    def set(self, as_of: AsOf) -> None:
        if as_of == self.as_of:
            return
        self.as_of = as_of
        if as_of.at_ms is not None:
            self.bar.show_moment(as_of.at_ms)
        elif as_of.offsets is not None:
            self.bar.show_offsets(",".join(f"{p}:{o}" for p, o in as_of.offsets.items()))
        self.bar.set_error("")
        self.bar.set_label(as_of.label())
        self.bar.setVisible(True)
        self.set_title(f"{TITLE} — {as_of.label()}")
        self.changed.emit(as_of)

    def leave(self) -> None:
        if self.as_of is None:
            return
        self.as_of = None
        self.bar.setVisible(False)
        self.set_title(TITLE)
        self.changed.emit(None)

    def _offsets_entered(self, text: str) -> None:
        try:
            as_of = AsOf.parse_offsets(text)
        except AsOfError as exc:
            self.bar.set_error(str(exc))
            return
        self.set(as_of)
