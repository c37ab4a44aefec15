"""The secure listener of the test broker: SASL_SSL (SCRAM-SHA-512 over TLS), one user.

``tests/run`` starts its broker with ``--secure`` and names its state file in
EVENT_EXPLORER_SECURE_BROKER; without it the fixture starts a secure broker of its own
for the session.  Test data is written through the same broker's plaintext listener
(``plain_bootstrap``), so a test only reads through the secure one.
No Qt here: the core tests use these too.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import broker as broker_harness
import pytest
from broker_tls import SecureListener

STATE_ENV = "EVENT_EXPLORER_SECURE_BROKER"


@dataclass(frozen=True)
class SecureKafka:
    bootstrap: str  # the SASL_SSL listener
    plain_bootstrap: str  # the same broker's plaintext listener, for test data
    ca_file: str
    user: str
    password: str
    mechanism: str

    def properties(self, password: str | None = None) -> dict[str, str]:
        """librdkafka properties for the secure listener (another password: to fail)."""
        listener = SecureListener(self.bootstrap, self.ca_file, self.user, self.password,
                                  self.mechanism)  # fmt: skip
        return listener.client_properties(password)

    def x_options(self, password: str | None = None) -> list[str]:
        return [arg for k, v in self.properties(password).items() for arg in ("-X", f"{k}={v}")]


def _from_handle(handle: broker_harness.BrokerHandle) -> SecureKafka:
    secure = handle.secure
    if secure is None:
        raise RuntimeError("the broker has no secure listener (start it with --secure)")
    return SecureKafka(
        secure.bootstrap, handle.bootstrap, secure.ca_file, secure.user, secure.password,
        secure.mechanism,
    )  # fmt: skip


@pytest.fixture(scope="session")
def secure_kafka() -> Iterator[SecureKafka]:
    state = os.environ.get(STATE_ENV)
    if state:
        yield _from_handle(
            broker_harness.BrokerHandle.from_json(json.loads(Path(state).read_text()))
        )
        return
    handle = broker_harness.start(secure=True)
    try:
        yield _from_handle(handle)
    finally:
        broker_harness.stop(handle)


@pytest.fixture
def make_secure_topic(secure_kafka: SecureKafka) -> Iterator[Callable[..., str]]:
    """A uniquely named topic on the secure broker; deleted after the test."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": secure_kafka.plain_bootstrap})
    made: list[str] = []

    def make(partitions: int = 1, prefix: str = "sec") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        futures = admin.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=1)]
        )
        futures[name].result(timeout=30)
        made.append(name)
        return name

    yield make
    if made:
        for fut in admin.delete_topics(made).values():
            try:
                fut.result(timeout=30)
            except Exception as exc:
                print(f"could not delete test topic: {exc}", file=sys.stderr)
