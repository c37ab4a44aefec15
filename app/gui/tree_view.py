"""The cluster tree as the window keeps it: the open source's topics and groups, each
topic's details (its partitioner and the evidence, an incomplete read), and which topic
is open."""

from __future__ import annotations

from collections.abc import Collection

from app.gui.dataset import Dataset
from widgets.cluster_tree import ClusterTree


def show_dataset(
    tree: ClusterTree, dataset: Dataset, open_topic: str | None, live: Collection[str] = ()
) -> None:
    """Everything the tree shows of ``dataset``, with ``open_topic`` selected and the
    topics being followed marked live."""
    tree.set_source_name(dataset.name)
    tree.set_topics(dataset.topic_infos())
    show_notes(tree, dataset)
    for topic in live:
        tree.set_topic_note(topic, "Following live", live=True)
    listing = dataset.listing
    groups = listing.groups if listing is not None else []
    note = listing.groups_note if listing is not None else "(none in a file)"
    tree.set_groups(groups, note)
    if open_topic is not None:
        tree.select_topic(open_topic, emit=False)


def show_notes(tree: ClusterTree, dataset: Dataset) -> None:
    """Topic details: partitioner evidence, and the marks of incomplete reads."""
    for topic, note in dataset.partitioners.items():
        tree.set_topic_note(topic, f"Partitioner: {note}")
    for topic in dataset.indexes:
        why = dataset.incomplete_note(topic)
        if why:
            tree.set_topic_note(topic, f"Incomplete: {why}", warning=True)
