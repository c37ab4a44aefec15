"""Construction of librdkafka clients from a profile, with their logs kept off stdout
and their configuration errors as one clear line (``ConfigError``).

librdkafka prints connection failures straight to stderr by default; routing them into
Python logging lets the CLI say one clear line and the GUI show a status instead.
"""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient

from kafka_io.config_errors import build_client
from kafka_io.profile import ConnectionProfile

LIBRDKAFKA_LOG = logging.getLogger("kafka_io.librdkafka")
# A library leaves logging to the application; without a handler Python would print
# librdkafka's connection chatter to stderr through its last-resort handler.
LIBRDKAFKA_LOG.addHandler(logging.NullHandler())


def admin_client(profile: ConnectionProfile, **overrides: Any) -> AdminClient:
    """An admin client; raises ``ConfigError`` for a property librdkafka rejects."""
    conf = profile.client_config()
    conf["logger"] = LIBRDKAFKA_LOG
    # An admin client is a producer inside librdkafka, and producers ask the broker to
    # create the topics they look up: asking about a missing topic would create it on
    # a cluster with auto.create.topics.enable.  Set after the user's properties.
    conf["allow.auto.create.topics"] = False
    conf.update(overrides)
    return build_client(AdminClient, conf)


def read_only_consumer(profile: ConnectionProfile, **overrides: Any) -> Consumer:
    """A consumer that can only read: private group id, never commits, never stores offsets.

    Raises ``ConfigError`` for a property librdkafka rejects."""
    conf = profile.consumer_config(**overrides)
    conf["logger"] = LIBRDKAFKA_LOG
    return build_client(Consumer, conf)
