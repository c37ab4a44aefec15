"""Schema registry fixtures: one real registry per test session, and proxies in front of it.

Set EVENT_EXPLORER_REGISTRY_URL=http://HOST:PORT/apis/ccompat/v7 to reuse a registry
started with ``python tests/registry.py start`` instead of starting one for the session.
No Qt here: the core tests use these too.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import pytest
import registry as registry_harness
from confluent_kafka.schema_registry import SchemaRegistryClient
from registry_helpers import RegistryWithAuth, registry_client
from registry_proxy import RegistryProxy


@pytest.fixture(scope="session")
def schema_registry_url() -> Iterator[str]:
    """The Confluent-compatible API of a real registry (Apicurio), compatibility BACKWARD."""
    with registry_harness.running() as url:
        yield url


@pytest.fixture(scope="session")
def registry_with_auth(schema_registry_url: str) -> Iterator[RegistryWithAuth]:
    """The registry behind a basic-auth proxy, with a random user and password."""
    user, password = f"user-{secrets.token_hex(4)}", secrets.token_urlsafe(18)
    with RegistryProxy(schema_registry_url, (user, password)) as proxy:
        yield RegistryWithAuth(proxy.url, user, password)


@pytest.fixture
def registry_proxy(schema_registry_url: str) -> Iterator[Callable[[], RegistryProxy]]:
    """Start proxies (no auth) in front of the registry; a test may stop one to make the
    registry vanish mid-read without taking it from the other tests."""
    made: list[RegistryProxy] = []

    def make() -> RegistryProxy:
        proxy = RegistryProxy(schema_registry_url).start()
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.stop()


@pytest.fixture
def make_registry_client() -> Iterator[Callable[..., SchemaRegistryClient]]:
    """Clients for producing test data (``make(url, user_info=None)``), closed after the
    test: an open keep-alive connection left to the garbage collector is a warning."""
    made: list[SchemaRegistryClient] = []

    def make(url: str, user_info: str | None = None) -> SchemaRegistryClient:
        made.append(registry_client(url, user_info))
        return made[-1]

    yield make
    for client in made:
        client.close()
