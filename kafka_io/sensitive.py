"""Which connection settings are secret, and the part of them that may be shown or saved.

One decision for the whole app: recent connections, settings files, log lines and error
messages all ask ``is_secret``.  It errs on the side of hiding: a property is secret if
librdkafka itself treats it as sensitive, if its name has a word that suggests a secret,
or if its value carries one (``clientSecret=...`` inside ``sasl.oauthbearer.config``, a
PEM private key, credentials inside a URL).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# The properties librdkafka marks _RK_SENSITIVE (rdkafka_conf.c): their values read
# "[redacted]" in its own configuration dump.  tests/kafka_io/test_sensitive.py checks
# this set against the installed librdkafka, so a new sensitive property fails a test.
LIBRDKAFKA_SENSITIVE = frozenset(
    {
        "sasl.oauthbearer.assertion.private.key.file",
        "sasl.oauthbearer.assertion.private.key.passphrase",
        "sasl.oauthbearer.assertion.private.key.pem",
        "sasl.oauthbearer.client.credentials.client.secret",  # alias of the next
        "sasl.oauthbearer.client.secret",
        "sasl.oauthbearer.config",
        "sasl.password",
        "sasl.username",
        "ssl.ca.pem",
        "ssl.key.location",
        "ssl.key.password",
        "ssl.key.pem",
        "ssl.keystore.password",
        "ssl_key",
    }
)
# Words that make any setting secret, librdkafka's or not (Java clients, the schema
# registry's basic.auth.user.info, bearer.auth.token, sasl.jaas.config...).
_WORDS = ("password", "secret", "key", "token", "passphrase", "credential", "jaas")
_NAME_HINT = re.compile("|".join((*_WORDS, r"user\.?info")), re.IGNORECASE)
# The same words as a key=value (or key: value) inside a value, a private key, or a
# URL with a user part: sasl.oauthbearer.config="principal=x clientSecret=y" and
# sasl.jaas.config='... password="y";' hide a secret behind an innocent name.
_VALUE_HINT = re.compile(
    r"(?:" + "|".join(_WORDS) + r"|user\.?info)\w*\s*[=:]"
    r"|-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"
    r"|://[^/\s@]*@",
    re.IGNORECASE,
)
MASK = "***"


def is_secret(name: str, value: str | None = None) -> bool:
    """Whether a property (by its name, and its value when given) must never be shown,
    logged or saved."""
    key = name.strip().lower()
    if key in LIBRDKAFKA_SENSITIVE or _NAME_HINT.search(key):
        return True
    return value is not None and _VALUE_HINT.search(value) is not None


def public_properties(properties: Mapping[str, str]) -> dict[str, str]:
    """The properties that may be saved or shared: every secret one left out."""
    return {k: v for k, v in properties.items() if not is_secret(k, v)}


def masked_properties(properties: Mapping[str, str]) -> dict[str, str]:
    """Every property, secret values replaced by ``***``: for showing what is set."""
    return {k: (MASK if is_secret(k, v) else v) for k, v in properties.items()}


def strip_url_credentials(url: str) -> str:
    """``https://user:pw@host:8081/x?api_key=k&a=b`` -> ``https://host:8081/x?a=b``.

    A comma-separated list of URLs (as the schema registry client takes) is stripped
    URL by URL.  Text that is not a URL comes back unchanged.
    """
    if "," in url:
        return ",".join(strip_url_credentials(part) for part in url.split(","))
    if "//" not in url:  # no scheme: "user:pw@host:8081"
        return url.rpartition("@")[2]
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url if "@" not in url else MASK
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if not is_secret(k, v)]
        if len(kept) != len(pairs):
            query = urlencode(kept)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of the given secret values replaced by ``***``.

    A last guard for messages built by others (librdkafka's errors): values shorter
    than three characters are left alone, or every message would be shredded.
    """
    for secret in sorted({s for s in secrets if len(s) >= 3}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def secret_values(properties: Mapping[str, object]) -> list[str]:
    """The values of the secret properties among ``properties`` (strings only)."""
    return [v for k, v in properties.items() if isinstance(v, str) and is_secret(k, v)]
