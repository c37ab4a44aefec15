"""What is secret: librdkafka's own sensitive properties (asked of the installed
librdkafka, not copied from it), names and values that carry a secret, credentials in
URLs; and the profile's shareable views that leave them out."""

from __future__ import annotations

import ctypes
import logging
import os
import tempfile
from pathlib import Path

import confluent_kafka
import pytest
from confluent_kafka import KafkaException, Producer

from kafka_io.profile import ConnectionProfile
from kafka_io.sensitive import (
    LIBRDKAFKA_SENSITIVE,
    is_secret,
    masked_properties,
    public_properties,
    scrub,
    strip_url_credentials,
)


def _librdkafka_properties() -> list[str]:
    """Every property the installed librdkafka knows, from its own property table
    (``rd_kafka_conf_properties_show``, the source of its CONFIGURATION.md)."""
    libs = Path(confluent_kafka.__file__).parent.parent / "confluent_kafka.libs"
    found = sorted(libs.glob("librdkafka*.so*"))
    if not found:
        pytest.skip("confluent-kafka is not the manylinux wheel with a bundled librdkafka")
    lib = ctypes.CDLL(str(found[0]))
    libc = ctypes.CDLL(None)
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    lib.rd_kafka_conf_properties_show.argtypes = [ctypes.c_void_p]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "properties.md")
        fp = libc.fopen(out.encode(), b"w")
        lib.rd_kafka_conf_properties_show(fp)
        libc.fclose(fp)
        text = Path(out).read_text()
    names = []
    for line in text.splitlines():
        name = line.split("|", 1)[0].strip()
        if "|" in line and name and name != "Property" and not name.startswith("-"):
            names.append(name)
    return names


def _redacted_by_librdkafka(name: str) -> bool | None:
    """Whether librdkafka's own configuration dump hides this property's value (None:
    the property does not take a string, or is an alias dumped under another name)."""
    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    log = logging.getLogger(f"test.sensitive.{name}")
    log.propagate = False
    log.addHandler(Capture())
    log.setLevel(logging.DEBUG)
    conf = {"bootstrap.servers": "127.0.0.1:1", "debug": "conf", "logger": log, name: "v4lue"}
    try:
        producer = Producer(conf)
    except (KafkaException, ValueError, TypeError):
        return None
    producer.poll(0)
    del producer
    shown = [line for line in lines if f"  {name} = " in line]
    if not shown:
        return None
    return all("[redacted]" in line for line in shown)


def test_every_property_librdkafka_redacts_is_secret() -> None:
    names = _librdkafka_properties()
    assert len(names) > 150 and "sasl.password" in names
    redacted = {n for n in names if _redacted_by_librdkafka(n)}
    assert "sasl.password" in redacted  # the probe itself works
    assert redacted <= LIBRDKAFKA_SENSITIVE
    assert all(is_secret(n) for n in redacted)
    # The list names nothing librdkafka does not hide (internal ones cannot be set).
    settable = LIBRDKAFKA_SENSITIVE - {"ssl_key"}
    assert {n for n in settable if _redacted_by_librdkafka(n) is False} == set()


@pytest.mark.parametrize(
    "name",
    [
        "ssl.key.pem",
        "ssl.key.password",
        "sasl.oauthbearer.assertion.private.key.pem",
        "sasl.oauthbearer.assertion.private.key.passphrase",
        "sasl.oauthbearer.config",
        "sasl.oauthbearer.client.secret",
        "sasl.jaas.config",
        "basic.auth.user.info",
        "schema.registry.basic.auth.user.info",
        "bearer.auth.token",
        "ssl.truststore.password",
        "SASL.PASSWORD",
        "my.db.credentials",
    ],
)
def test_secret_names(name: str) -> None:
    assert is_secret(name)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("sasl.oauthbearer.extensions", "logicalCluster=lkc-1,clientSecret=abc"),
        ("x.custom", 'org.apache...PlainLoginModule required username="u" password="p";'),
        ("x.custom", "apiKey: abc"),
        ("x.custom", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n"),
        ("sasl.oauthbearer.token.endpoint.url", "https://id:secret@idp.example/token"),
    ],
)
def test_secret_values_behind_innocent_names(name: str, value: str) -> None:
    assert not is_secret("client.id")  # the name alone says nothing
    assert is_secret(name, value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("bootstrap.servers", "b1:9092,b2:9092"),
        ("security.protocol", "SASL_SSL"),
        ("sasl.mechanism", "PLAIN"),
        ("ssl.ca.location", "/etc/ssl/ca.pem"),
        ("client.id", "event-explorer"),
    ],
)
def test_public_settings_are_not_secret(name: str, value: str) -> None:
    assert not is_secret(name, value)


def test_public_properties_keep_only_what_may_be_saved() -> None:
    props = {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "OAUTHBEARER",
        "sasl.oauthbearer.config": "principal=me clientSecret=abc",
        "ssl.key.pem": "-----BEGIN PRIVATE KEY-----",
        "sasl.oauthbearer.assertion.private.key.passphrase": "pp",
        "client.id": "x",
    }
    assert public_properties(props) == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "OAUTHBEARER",
        "client.id": "x",
    }
    masked = masked_properties(props)
    assert masked["ssl.key.pem"] == "***" and masked["client.id"] == "x"


@pytest.mark.parametrize(
    ("url", "stripped"),
    [
        ("https://user:pw@registry:8081", "https://registry:8081"),
        ("https://user:p%40ss@registry:8081/base/", "https://registry:8081/base/"),
        ("http://registry:8081", "http://registry:8081"),
        ("https://tok@[::1]:8081", "https://[::1]:8081"),
        ("https://r:8081/?api_key=k&region=eu", "https://r:8081/?region=eu"),
        ("https://a:1@r1:8081,https://b:2@r2:8081", "https://r1:8081,https://r2:8081"),
        ("user:pw@registry:8081", "registry:8081"),
        ("mock://scope", "mock://scope"),
    ],
)
def test_strip_url_credentials(url: str, stripped: str) -> None:
    assert strip_url_credentials(url) == stripped


def test_scrub_hides_known_secrets_in_foreign_text() -> None:
    assert scrub("login failed for hunter2 at b", ["hunter2", "x"]) == "login failed for *** at b"


def _secret_profile() -> ConnectionProfile:
    return ConnectionProfile(
        "b:9092",
        {
            "sasl.username": "alice",
            "sasl.password": "hunter2",
            "ssl.key.pem": "-----BEGIN PRIVATE KEY-----KEYDATA",
            "sasl.oauthbearer.config": "principal=me clientSecret=s3cr3t",
            "security.protocol": "SASL_SSL",
        },
        registry_url="https://reg:regpw@registry:8081",
        registry_auth="u:authpw",
    )


SECRETS = ("hunter2", "KEYDATA", "s3cr3t", "regpw", "authpw")


def test_a_profile_shows_and_saves_no_secret() -> None:
    profile = _secret_profile()
    shown = profile.redacted()
    assert shown["bootstrap.servers"] == "b:9092"
    assert shown["security.protocol"] == "SASL_SSL"
    assert shown["schema.registry.url"] == "https://registry:8081"
    assert shown["sasl.password"] == "***" and shown["basic.auth.user.info"] == "***"
    saved = profile.public()
    assert dict(saved.properties) == {"security.protocol": "SASL_SSL"}
    assert saved.registry_url == "https://registry:8081" and saved.registry_auth is None
    for text in (repr(shown), repr(saved), repr(profile), str(profile)):
        assert not any(s in text for s in SECRETS), text
