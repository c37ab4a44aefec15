"""The profile file: human-editable TOML, versioned, never a secret in it."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from app.profiles import (
    FORMAT_VERSION,
    MaskHow,
    MaskingRules,
    Profile,
    ProfileFormatError,
    SecretInProfile,
    dumps,
    loads,
    read_profile_file,
)
from app.sources import TopicSettings
from kafka_io.decode import ValueFormat

PASSWORD = "Tr0ub4dor&3-never-printed"

HAND_WRITTEN = """
# as a team lead would write it, with unquoted dotted keys
format_version = 1
name = "payments-prod"
description = "Payments, read-only support access"
locked_topics = ["payments.*", "refunds"]
fold_folder = "~/folds/payments"

[kafka]
bootstrap = "b1:9093,b2:9093"
secrets = ["sasl.username", "sasl.password"]

[kafka.properties]
security.protocol = "SASL_SSL"
sasl.mechanism = "SCRAM-SHA-512"
"ssl.ca.location" = "/etc/ssl/certs/payments-ca.pem"
enable.ssl.certificate.verification = true
socket.timeout.ms = 30000

[registry]
url = "https://registry.payments:8081"
auth = true

[topic_defaults]
type_rule = "header:eventType"

[topics."payments.orders"]
type_rule = "field:eventType"
aggregate_rule = "key"
format = "json"
partitioner = "murmur2"

[masking]
fields = ["payload.cardNumber", "*.email", "header:x-user"]
how = "hash"
allow_unmask = false
use_index_cache = false
"""


def test_a_hand_written_file_reads_as_written() -> None:
    profile, warnings = loads(HAND_WRITTEN)
    assert warnings == []
    assert profile.name == "payments-prod"
    assert profile.bootstrap == "b1:9093,b2:9093"
    assert dict(profile.properties) == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "ssl.ca.location": "/etc/ssl/certs/payments-ca.pem",
        "enable.ssl.certificate.verification": "true",
        "socket.timeout.ms": "30000",
    }
    assert profile.secrets == ("sasl.username", "sasl.password")
    assert profile.secret_names == ("sasl.username", "sasl.password", "basic.auth.user.info")
    assert profile.registry_url == "https://registry.payments:8081"
    assert profile.defaults == TopicSettings(type_rule="header:eventType")
    assert profile.topics["payments.orders"] == TopicSettings(
        "field:eventType", "key", ValueFormat.JSON, "murmur2"
    )
    assert profile.locked_topics == ("payments.*", "refunds")
    assert profile.allows_topic("payments.orders") and profile.allows_topic("refunds")
    assert not profile.allows_topic("refunds-archive") and not profile.allows_topic("users")
    assert profile.masking == MaskingRules(
        ("payload.cardNumber", "*.email", "header:x-user"), MaskHow.HASH, False, False
    )
    assert profile.fold_folder == "~/folds/payments"
    settings = profile.source_settings()
    assert settings.for_topic("payments.orders").type_rule == "field:eventType"
    assert settings.for_topic("refunds").type_rule == "header:eventType"


def test_written_files_read_back_the_same_and_say_their_version() -> None:
    profile, _ = loads(HAND_WRITTEN)
    text = dumps(profile)
    assert loads(text) == (profile, [])
    doc = tomllib.loads(text)
    assert doc["format_version"] == FORMAT_VERSION
    assert doc["kafka"]["properties"]["security.protocol"] == "SASL_SSL"
    assert text.startswith("# Event Explorer connection profile")
    # A second name on import replaces the file's own.
    assert loads(text, name="payments-copy")[0].name == "payments-copy"


def test_a_file_from_a_newer_version_is_refused_clearly() -> None:
    newer = HAND_WRITTEN.replace("format_version = 1", f"format_version = {FORMAT_VERSION + 1}")
    with pytest.raises(ProfileFormatError, match=r"newer Event Explorer.*update the app"):
        loads(newer)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("name = 'x'", "no format_version"),
        ("format_version = 'one'", "format_version: expected a whole number"),
        ("format_version = 1\nname = 'x'\n[kafka]\nbootstrap = ", "not a valid profile file"),
        ("format_version = 1\nname = 'x'", "kafka.bootstrap: required"),
        ("format_version = 1\n[kafka]\nbootstrap = 'b:1'", "name: required"),
        ("format_version = 1\nname = 'a b'\n[kafka]\nbootstrap = 'b:1'", "profile name 'a b'"),
        ("format_version = 1\nname='x'\nbootstarp='b'\n[kafka]\nbootstrap='b:1'", "'bootstarp'"),
        (
            "format_version = 1\nname='x'\n[kafka]\nbootstrap='b:1'\n[topics.payments.orders]\n"
            "type_rule='key'",
            'must be quoted: \\[topics."a.b"\\]',
        ),
        (
            "format_version = 1\nname='x'\n[kafka]\nbootstrap='b:1'\n[topics.t]\npartitioner='md5'",
            "topics.t.partitioner: unknown partitioner",
        ),
        (
            "format_version = 1\nname='x'\n[kafka]\nbootstrap='b:1'\n[topics.t]\ntype_rule='nope'",
            "topics.t:",
        ),
        (
            "format_version = 1\nname='x'\n[kafka]\nbootstrap='b:1'\n[masking]\nhow='blur'",
            "masking.how: expected one of hide, hash",
        ),
        ("format_version = 1\nname='x'\n[kafka]\nbootstrap='b:1'\n[registry]\nauth='yes'", "true"),
    ],
)
def test_malformed_files_are_refused_with_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ProfileFormatError, match=says):
        loads(text)


@pytest.mark.parametrize(
    ("line", "names"),
    [
        (f'"sasl.password" = "{PASSWORD}"', "sasl.password"),
        (f'sasl.password = "{PASSWORD}"', "password"),
        (f'"sasl.oauthbearer.config" = "principal=me clientSecret={PASSWORD}"', "oauthbearer"),
        (f'"sasl.jaas.config" = "x password=\\"{PASSWORD}\\";"', "sasl.jaas.config"),
    ],
)
def test_a_secret_value_in_a_file_is_refused_naming_it_never_repeating_it(
    line: str, names: str
) -> None:
    text = f"format_version = 1\nname='x'\n[kafka]\nbootstrap='b:1'\n[kafka.properties]\n{line}\n"
    with pytest.raises(SecretInProfile) as caught:
        loads(text)
    message = str(caught.value)
    assert names in message
    assert "never carry secrets" in message
    assert PASSWORD not in message


def test_secrets_anywhere_in_a_file_are_refused() -> None:
    base = "format_version = 1\nname='x'\n[kafka]\nbootstrap='b:1'\n"
    with pytest.raises(SecretInProfile, match=r"registry\.url") as caught:
        loads(base + f"[registry]\nurl = 'https://me:{PASSWORD}@reg:8081'\n")
    assert PASSWORD not in str(caught.value)
    # An unknown key is reported as a secret when it is one, not as a typo.
    with pytest.raises(SecretInProfile, match="password") as caught:
        loads(f"password = '{PASSWORD}'\n" + base)
    assert PASSWORD not in str(caught.value)


def test_a_profile_cannot_hold_a_secret_so_an_export_cannot_carry_one() -> None:
    with pytest.raises(SecretInProfile) as caught:
        Profile("x", "b:1", {"sasl.password": PASSWORD})
    assert PASSWORD not in str(caught.value)
    with pytest.raises(SecretInProfile):
        Profile("x", "b:1", registry_url=f"https://u:{PASSWORD}@reg")


def test_read_profile_file_names_the_file_and_refuses_what_is_not_one(tmp_path: Path) -> None:
    binary = tmp_path / "photo.evx-profile"
    binary.write_bytes(b"\xff\xd8\xff\xe0 not text")
    with pytest.raises(ProfileFormatError, match=r"photo\.evx-profile is not UTF-8"):
        read_profile_file(binary)
    bad = tmp_path / "team.evx-profile"
    bad.write_text("format_version = 99\n")
    with pytest.raises(
        ProfileFormatError,
        match=r"team\.evx-profile: the file is format_version 99",
    ):
        read_profile_file(bad)
    with pytest.raises(ValueError, match="cannot read"):
        read_profile_file(tmp_path / "missing.evx-profile")


def test_masking_rules_match_paths_and_headers_and_warn_about_dead_globs() -> None:
    rules = MaskingRules(("payload.cardNumber", "*.email", "header:X-User*"))
    assert rules.masks_field("payload.cardNumber")
    assert not rules.masks_field("payload.cardNumberLast4")  # a glob, not a prefix
    assert not rules.masks_field("cardNumber")
    assert rules.masks_field("customer.email") and rules.masks_field("a.b.email")
    assert not rules.masks_field("email")  # "*." needs a parent
    assert rules.masks_header("x-user") and rules.masks_header("X-User-Id")
    assert not rules.masks_header("x-trace")
    assert not rules.masks_field("header:x-user")
    assert rules.warnings() == []
    assert rules.unmatched(["customer.email"], ["x-user"]) == ["payload.cardNumber"]
    dead = MaskingRules(("", "payload..card", "header:", ".email", "a[]b", "ok.field"))
    warned = dead.warnings()
    assert len(warned) == 5
    assert all("ok.field" not in w for w in warned)
    _, warnings = loads(
        "format_version = 1\nname='x'\n[kafka]\nbootstrap='b:1'\n"
        "[masking]\nfields = ['payload..card']\n"
    )
    assert warnings == [
        "masking field 'payload..card' has an empty field name (a leading, trailing or double dot)"
    ]
