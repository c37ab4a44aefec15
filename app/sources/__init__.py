"""The one door to data: an event file or a Kafka cluster, behind one interface.

It also hands out the records the faces show: topics, partitions, groups.

The CLI, the GUI's jobs and the tests all read through a ``Source``, so a file and a
cluster give the same Events and the same answers.
"""

from app.sources.base import (
    FollowableSource,
    Following,
    Listing,
    Progress,
    Read,
    ReadReport,
    Source,
    make_registry,
)
from app.sources.cluster import ClusterSource
from app.sources.files import FileSource
from app.sources.settings import SourceSettings, TopicSettings
from kafka_io.metadata import GroupInfo, PartitionInfo, TopicInfo

__all__ = [
    "ClusterSource",
    "FileSource",
    "FollowableSource",
    "Following",
    "GroupInfo",
    "Listing",
    "PartitionInfo",
    "Progress",
    "Read",
    "ReadReport",
    "Source",
    "SourceSettings",
    "TopicInfo",
    "TopicSettings",
    "make_registry",
]
