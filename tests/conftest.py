"""Shared fixtures: one real Kafka broker per test session; each test makes its own topics.

No Qt here: the core tests also run in an environment without PySide6 (see tests/run).

Set EVENT_EXPLORER_BOOTSTRAP=HOST:PORT to reuse a broker started with
``python tests/broker.py start`` instead of starting one for the session.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator

import broker as broker_harness
import pytest

# The GUI tests' fixtures: a plugin module rather than a second conftest.py (one conftest
# module name keeps mypy's view of the test tree unambiguous).  It imports Qt only inside
# its fixtures, so the Qt-free core run loads it harmlessly.
pytest_plugins = ["gui_fixtures", "registry_fixtures", "secure_broker_fixtures", "keyring_fixtures"]


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    with broker_harness.running() as bootstrap:
        yield bootstrap


@pytest.fixture
def make_topic(kafka_bootstrap: str) -> Iterator[Callable[..., str]]:
    """Create a uniquely named topic on the real broker; deleted after the test."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    made: list[str] = []

    def make(partitions: int = 1, prefix: str = "t", config: dict[str, str] | None = None) -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        futures = admin.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})]
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


@pytest.fixture(autouse=True, scope="module")
def _no_warm_read_workers_after_a_module() -> Iterator[None]:
    """Reads keep their worker processes warm for the next read; a test module's are
    stopped when it ends, so another module's count of child processes is its own."""
    yield
    from kafka_io.worker_pool import stop_shared_pool

    stop_shared_pool()


@pytest.fixture(autouse=True, scope="session")
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Persisted indexes of test runs go to a temp folder, never the user's cache."""
    old = os.environ.get("EVENT_EXPLORER_CACHE_DIR")
    os.environ["EVENT_EXPLORER_CACHE_DIR"] = str(tmp_path_factory.mktemp("index-cache"))
    yield
    if old is None:
        os.environ.pop("EVENT_EXPLORER_CACHE_DIR", None)
    else:
        os.environ["EVENT_EXPLORER_CACHE_DIR"] = old
