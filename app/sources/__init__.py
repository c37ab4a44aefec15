"""The one door to data: an event file or a Kafka cluster, behind one interface.

The CLI, the GUI's jobs and the tests all read through a ``Source``, so a file and a
cluster give the same Events and the same answers.
"""

from app.sources.base import Source, make_registry
from app.sources.cluster import ClusterSource
from app.sources.files import FileSource

__all__ = ["ClusterSource", "FileSource", "Source", "make_registry"]
