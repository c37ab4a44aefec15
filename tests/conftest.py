"""Shared fixtures: one real Kafka broker per test session; each test makes its own topics.

Set EVENT_EXPLORER_BOOTSTRAP=HOST:PORT to reuse a broker started with
``python tests/broker.py start`` instead of starting one for the session.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "widgets"))

import broker as broker_harness


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


# ---------------------------------------------------------------- GUI fixtures
# Kept here rather than in tests/widgets/conftest.py: one conftest module name keeps
# mypy's view of the test tree unambiguous.  Qt is imported only by the tests using them.


@pytest.fixture(scope="module")
def demo_window(qapp: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A main window on the bundled demo data, loaded once per module."""
    from gui_helpers import loaded, pump_until

    from app.gui.launch import build_window
    from app.gui.settings import Settings

    settings = Settings(tmp_path_factory.mktemp("settings") / "settings.ini")
    window = build_window(None, settings, use_user_folds=False)
    window.show()
    pump_until(lambda: loaded(window))
    yield window
    window.close()
    window.deleteLater()


@pytest.fixture
def window(demo_window: Any) -> Any:
    """The demo window with its filters cleared, on the bank-accounts topic."""
    demo_window.filter_bar.clear()
    demo_window.filter_bar.flush()
    if demo_window.topic_view.topic != "bank-accounts":
        demo_window.activate_topic("bank-accounts")
    return demo_window


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "settings.ini"
