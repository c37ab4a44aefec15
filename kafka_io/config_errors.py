"""librdkafka's configuration errors as one line that names the property.

A client built with a bad property fails with a raw ``KafkaException`` whose text is
librdkafka's (sometimes with a trailing newline, sometimes with the value).  This turns
it into a ``ConfigError`` that says which property, what to use instead for the Java
settings librdkafka does not take, and never carries a secret value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from confluent_kafka import KafkaError, KafkaException

from kafka_io.errors import ConfigError
from kafka_io.sensitive import is_secret, scrub, secret_values

T = TypeVar("T")
WHERE = "(given with -X or in the config file)"

_UNKNOWN = re.compile(r'No such configuration property: "(?P<name>[^"]*)"')
_BAD_VALUE = re.compile(
    r'Invalid value (?:"(?P<value>[^"]*)" )?for configuration property "(?P<name>[^"]*)"'
)
_BOOL = re.compile(r'Expected bool value for "(?P<name>[^"]*)"')
_RANGE = re.compile(
    r'Configuration property "(?P<name>[^"]*)" value (?P<value>\S+) '
    r"is outside allowed range (?P<range>\S+)"
)
_UNSUPPORTED = re.compile(
    r'Configuration property "(?P<name>[^"]*)" not supported in this build: (?P<why>.*)'
)
_FAILED = re.compile(r"^Failed to create [a-z ]+: (?P<rest>.*)$", re.DOTALL)
_QUOTED = re.compile(r'["`](?P<name>[a-z][a-z0-9_.]*)["`]')
_NAME_END = re.compile(r"[=:\s]")

# Java client settings librdkafka rejects, and what to give it instead.
JAVA_SETTINGS = {
    "sasl.jaas.config": (
        "is a Java client setting: librdkafka takes sasl.mechanism, sasl.username and "
        "sasl.password instead, or sasl.oauthbearer.* for OAUTHBEARER"
    ),
    "ssl.truststore.location": (
        "is a Java trust store: librdkafka takes ssl.ca.location with a PEM file instead"
    ),
    "ssl.truststore.password": "is a Java trust store setting: librdkafka needs none",
    "ssl.truststore.type": "is a Java trust store setting: librdkafka needs none",
    "ssl.keystore.type": (
        "is a Java setting: librdkafka reads a PKCS#12 ssl.keystore.location, or PEM "
        "ssl.key.location and ssl.certificate.location"
    ),
}

# librdkafka's own texts for the two Java settings it knows, which do not name them.
_JAVA_MARKERS = {
    "sasl.jaas.config": "Java JAAS configuration is not supported",
    "ssl.truststore.location": "Java TrustStores are not supported",
}


def build_client(factory: Callable[[dict[str, Any]], T], conf: Mapping[str, Any]) -> T:
    """``factory(conf)`` (Consumer, Producer, AdminClient), with configuration errors
    turned into ``ConfigError``."""
    try:
        return factory(dict(conf))
    except KafkaException as exc:
        # "from None": librdkafka's own text may hold the value, and a chained
        # exception would print it with the traceback.
        raise config_error(exc, conf) from None


def config_error(exc: KafkaException, conf: Mapping[str, Any]) -> ConfigError:
    """One line naming the property, with no secret value in it."""
    err = exc.args[0] if exc.args else None
    text = err.str() if isinstance(err, KafkaError) else str(exc)
    text = " ".join(text.split())  # librdkafka ends some messages with a newline
    name, message = _explain(text, conf)
    return ConfigError(scrub(message, secret_values(conf)), name)


def _explain(text: str, conf: Mapping[str, Any]) -> tuple[str | None, str]:
    for java_name, advice in JAVA_SETTINGS.items():
        if f'"{java_name}"' in text or _JAVA_MARKERS.get(java_name, "\0") in text:
            return java_name, f"'{java_name}' {advice} {WHERE}"
    if m := _UNKNOWN.search(text):
        name = _shown_name(m["name"])
        return name, f"unknown property '{name}' {WHERE}"
    if m := _BAD_VALUE.search(text):
        name = _shown_name(m["name"])
        return name, f"invalid value{_shown_value(name, m['value'])} for property '{name}' {WHERE}"
    if m := _BOOL.search(text):
        name = _shown_name(m["name"])
        return name, f"property '{name}' takes true or false {WHERE}"
    if m := _RANGE.search(text):
        name = _shown_name(m["name"])
        value = _shown_value(name, m["value"])
        return name, f"value{value} for property '{name}' is outside {m['range']} {WHERE}"
    if m := _UNSUPPORTED.search(text):
        name = _shown_name(m["name"])
        return name, f"property '{name}' is not supported here: {m['why']} {WHERE}"
    rest = m["rest"] if (m := _FAILED.search(text)) else text
    return _mentioned(rest, conf), f"invalid client configuration: {rest}"


def _shown_name(name: str) -> str:
    """A property name fit to repeat: a name that swallowed its value by a wrong
    separator (``sasl.password:pw``) is cut at the separator."""
    head = _NAME_END.split(name, maxsplit=1)[0]
    return name if head == name else f"{head}..."


def _shown_value(name: str, value: str | None) -> str:
    if value is None or is_secret(name, value):
        return ""
    return f" '{value}'"


def _mentioned(text: str, conf: Mapping[str, Any]) -> str | None:
    """The property a free-form librdkafka message is about, if it names one."""
    if m := _QUOTED.search(text):
        return m["name"]
    if "SASL mechanism" in text:
        return "sasl.mechanism"
    for name in sorted(conf, key=len, reverse=True):
        if "." in name and name in text:
            return name
    return None
