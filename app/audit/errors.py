"""The one error the audit core raises for a report it cannot make or read."""

from __future__ import annotations


class AuditError(ValueError):
    """A report that cannot be made, or a folder that is not a report: one line, exit 2.

    A ValueError, so every face shows it as one line rather than a traceback."""
