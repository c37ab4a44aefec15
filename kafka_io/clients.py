"""Construction of librdkafka clients from a profile, with their logs kept off stdout.

librdkafka prints connection failures straight to stderr by default; routing them into
Python logging lets the CLI say one clear line and the GUI show a status instead.
"""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient

from kafka_io.profile import ConnectionProfile

LIBRDKAFKA_LOG = logging.getLogger("kafka_io.librdkafka")
# A library leaves logging to the application; without a handler Python would print
# librdkafka's connection chatter to stderr through its last-resort handler.
LIBRDKAFKA_LOG.addHandler(logging.NullHandler())


def admin_client(profile: ConnectionProfile, **overrides: Any) -> AdminClient:
    conf = profile.client_config()
    conf["logger"] = LIBRDKAFKA_LOG
    conf.update(overrides)
    return AdminClient(conf)


def read_only_consumer(profile: ConnectionProfile, **overrides: Any) -> Consumer:
    """A consumer that can only read: private group id, never commits, never stores offsets."""
    conf = profile.consumer_config(**overrides)
    conf["logger"] = LIBRDKAFKA_LOG
    return Consumer(conf)
