"""A property librdkafka rejects is one line naming it, from real clients of every kind,
and never with a secret value in it."""

from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import Producer

from kafka_io.clients import admin_client, read_only_consumer
from kafka_io.config_errors import build_client
from kafka_io.errors import ConfigError, KafkaIOError
from kafka_io.metadata import Cluster
from kafka_io.profile import ConnectionProfile
from kafka_io.reader import PartitionRange, TopicReader

pytestmark = pytest.mark.kafka

JAAS = (
    "org.apache.kafka.common.security.plain.PlainLoginModule required "
    'username="alice" password="hunter2";'
)


def _clients(profile: ConnectionProfile) -> list[Any]:
    def producer() -> Any:
        return build_client(Producer, profile.client_config())

    return [
        lambda: read_only_consumer(profile),
        lambda: admin_client(profile),
        producer,
        lambda: Cluster(profile),
    ]


def _error(make: Any) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        make()
    err = caught.value
    assert isinstance(err, KafkaIOError)
    assert "\n" not in str(err)
    assert err.__cause__ is None and err.__suppress_context__  # no raw text chained
    return err


@pytest.mark.parametrize("kind", range(4))
def test_an_unknown_property_names_it(kafka_bootstrap: str, kind: int) -> None:
    profile = ConnectionProfile(kafka_bootstrap, {"foo.bar": "1"})
    err = _error(_clients(profile)[kind])
    assert str(err) == "unknown property 'foo.bar' (given with -X or in the config file)"
    assert err.prop == "foo.bar"


@pytest.mark.parametrize("kind", range(4))
def test_sasl_jaas_config_says_what_librdkafka_takes_instead(
    kafka_bootstrap: str, kind: int
) -> None:
    profile = ConnectionProfile(kafka_bootstrap, {"sasl.jaas.config": JAAS})
    err = _error(_clients(profile)[kind])
    text = str(err)
    assert "'sasl.jaas.config'" in text and "Java" in text
    assert all(p in text for p in ("sasl.mechanism", "sasl.username", "sasl.password"))
    assert "hunter2" not in text and "alice" not in text
    assert err.prop == "sasl.jaas.config"


def test_a_truststore_points_to_ssl_ca_location(kafka_bootstrap: str) -> None:
    profile = ConnectionProfile(kafka_bootstrap, {"ssl.truststore.location": "/x.jks"})
    err = _error(lambda: read_only_consumer(profile))
    assert "ssl.truststore.location" in str(err) and "ssl.ca.location" in str(err)


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        (
            {"security.protocol": "bogus"},
            "invalid value 'bogus' for property 'security.protocol' "
            "(given with -X or in the config file)",
        ),
        (
            {"enable.ssl.certificate.verification": "maybe"},
            "property 'enable.ssl.certificate.verification' takes true or false "
            "(given with -X or in the config file)",
        ),
        (
            {"fetch.wait.max.ms": "-5"},
            "value '-5' for property 'fetch.wait.max.ms' is outside 0..300000 "
            "(given with -X or in the config file)",
        ),
    ],
)
def test_bad_values_name_the_property(
    kafka_bootstrap: str, props: dict[str, str], expected: str
) -> None:
    profile = ConnectionProfile(kafka_bootstrap, props)
    assert str(_error(lambda: read_only_consumer(profile))) == expected


def test_a_failing_combination_names_the_property_and_hides_secrets(
    kafka_bootstrap: str,
) -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYDATA\n-----END PRIVATE KEY-----"
    profile = ConnectionProfile(
        kafka_bootstrap,
        {"security.protocol": "SSL", "ssl.key.pem": pem, "ssl.certificate.pem": "x"},
    )
    err = _error(lambda: admin_client(profile))
    assert str(err).startswith("invalid client configuration: ")
    assert err.prop is not None and err.prop.startswith("ssl.")
    assert "TOPSECRETKEYDATA" not in str(err)


def test_a_property_name_that_swallowed_its_value_is_not_echoed(kafka_bootstrap: str) -> None:
    # What -X sasl.password:hunter2 was before -X refused it: a property by that name.
    profile = ConnectionProfile(kafka_bootstrap, {"sasl.password:hunter2": "x"})
    err = _error(lambda: read_only_consumer(profile))
    assert "sasl.password" in str(err) and "hunter2" not in str(err)


def test_a_bad_property_ends_a_read_before_it_starts(kafka_bootstrap: str) -> None:
    profile = ConnectionProfile(kafka_bootstrap, {"foo.bar": "1"})
    reader = TopicReader(profile, "any", decoder=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"foo\.bar"):
        list(reader.read([PartitionRange(0, 0, 1)]))


def test_user_properties_cannot_let_metadata_requests_create_topics() -> None:
    profile = ConnectionProfile("b:9092", {"allow.auto.create.topics": "true"})
    assert profile.consumer_config()["allow.auto.create.topics"] is False
