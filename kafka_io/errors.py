"""Errors kafka_io raises to its callers, each meant to be shown as one clear line."""

from __future__ import annotations


class KafkaIOError(Exception):
    """Base of every error kafka_io lets out."""


class KafkaUnavailable(KafkaIOError):
    """The cluster could not be reached (or stopped answering) within the timeout."""


class TopicNotFound(KafkaIOError):
    """The topic does not exist on the cluster."""
