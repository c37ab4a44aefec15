"""Why librdkafka could not reach a cluster, as one line for a person.

A metadata request that fails says only "Broker transport failure"; the cause (a refused
password, a certificate the CA does not vouch for, a refused connection) reaches the
client's ``error_cb`` instead.  ``CauseWatch`` keeps the most telling one, so an error
message can name the authentication failure rather than a timeout.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from confluent_kafka import KafkaError

from kafka_io.sensitive import scrub

# A failed login or handshake says more than a broken connection that follows it.
_TELLING = (KafkaError._AUTHENTICATION, KafkaError._SSL)
_CONNECTION = (KafkaError._TRANSPORT, KafkaError._RESOLVE)
_BROKER_PREFIX = re.compile(r"^\S+/(?:bootstrap|\d+): ")
_STATE_SUFFIX = re.compile(r" \(after \d+ms in state \w+\)$")


class CauseWatch:
    """An ``error_cb`` that remembers the cause of failed connections.

    confluent-kafka calls ``error_cb`` from ``poll()``: call ``cause`` after polling."""

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        self._secrets = secrets
        self._telling: KafkaError | None = None
        self._connection: KafkaError | None = None

    def __call__(self, error: KafkaError) -> None:
        if error.code() in _TELLING:
            self._telling = error
        elif error.code() in _CONNECTION:
            self._connection = error

    def cause(self) -> str | None:
        """The last authentication or TLS failure, else the last connection failure."""
        error = self._telling or self._connection
        if error is None:
            return None
        text = _STATE_SUFFIX.sub("", _BROKER_PREFIX.sub("", error.str().strip()))
        # librdkafka's texts are not ours to trust with a password.
        return scrub(text, self._secrets)
