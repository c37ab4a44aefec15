"""Profiles against a broker that really checks passwords: the SASL_SSL listener of the
test broker (SCRAM-SHA-512 over TLS with the harness's own CA).

The right password reads, from the keyring through a profile and through -X; a wrong
one is refused by the broker and said in one line that names the authentication
failure and never repeats the password; a locked profile shows and reads only its
topics; and the installed command asks once, reads, leaves a real group's committed
offsets as they were, and writes the password nowhere."""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions
from confluent_kafka.admin import AdminClient
from kafka_helpers import Rec, produce
from keyring.backend import KeyringBackend
from keyring_fixtures import SecretServiceSession
from secure_broker_fixtures import SecureKafka
from terminal_helpers import Terminal, installed_binary

from app.cli.main import main
from app.profiles import (
    Credentials,
    ProfileStore,
    SecretRequest,
    TopicLocked,
    profile_to_source,
    read_profile_file,
)

pytestmark = [pytest.mark.kafka, pytest.mark.usefixtures("private_profiles")]
WRONG = "wrong-Pa55word-7c1e"


def _profile_file(kafka: SecureKafka, folder: Path, name: str, locked: list[str]) -> Path:
    lock = f"locked_topics = {json.dumps(locked)}\n" if locked else ""
    path = folder / f"{name}.evx-profile"
    path.write_text(
        f'format_version = 1\nname = "{name}"\n{lock}\n[kafka]\n'
        f'bootstrap = "{kafka.bootstrap}"\nsecrets = ["sasl.username", "sasl.password"]\n\n'
        f'[kafka.properties]\n"security.protocol" = "SASL_SSL"\n'
        f'"sasl.mechanism" = "{kafka.mechanism}"\n"ssl.ca.location" = "{kafka.ca_file}"\n'
    )
    return path


def _fill(kafka: SecureKafka, topic: str, n: int) -> None:
    records = [
        Rec(json.dumps({"eventType": "Opened", "i": i}).encode(), key=f"acc-{i % 5}".encode())
        for i in range(n)
    ]
    produce(kafka.plain_bootstrap, topic, records)


def _import(path: Path, password: str, kafka: SecureKafka, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{kafka.user}\n{password}\n"))
    assert main(["profile", "import", str(path), "--password-stdin"]) == 0


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, lines
    return lines[0]


def test_the_password_from_the_keyring_reads_through_a_profile(
    secure_kafka: SecureKafka,
    make_secure_topic: Callable[..., str],
    real_keyring: KeyringBackend,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topic = make_secure_topic(2)
    _fill(secure_kafka, topic, 40)
    _import(
        _profile_file(secure_kafka, tmp_path, "sec", []),
        secure_kafka.password,
        secure_kafka,
        monkeypatch,
    )
    assert Credentials(real_keyring).get("sec", "sasl.password") == secure_kafka.password
    capsys.readouterr()
    assert main(["events", "--profile", "sec", "-t", topic, "--json", "--no-cache"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(r["data"]["i"] for r in rows) == list(range(40))
    assert main(["topics", "--profile", "sec", "--json"]) == 0
    assert topic in {json.loads(line)["topic"] for line in capsys.readouterr().out.splitlines()}


def test_x_options_read_and_a_wrong_password_is_refused_in_one_line(
    secure_kafka: SecureKafka,
    make_secure_topic: Callable[..., str],
    real_keyring: KeyringBackend,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topic = make_secure_topic(1)
    _fill(secure_kafka, topic, 10)
    base = ["-b", secure_kafka.bootstrap, "--timeout", "5"]
    assert main(["events", *base, *secure_kafka.x_options(), "-t", topic, "--json"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 10
    for command in (["topics"], ["events", "-t", topic]):
        assert main([*command, *base, *secure_kafka.x_options(password=WRONG)]) == 2
        line = _one_line(capsys.readouterr().err)
        assert "Authentication failed" in line and "SCRAM-SHA-512" in line, line
        assert WRONG not in line
    # The same through a profile whose keyring entry is wrong.
    _import(_profile_file(secure_kafka, tmp_path, "wrong", []), WRONG, secure_kafka, monkeypatch)
    capsys.readouterr()
    assert main(["events", "--profile", "wrong", "-t", topic, "--timeout", "5"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "Authentication failed" in line and WRONG not in line
    # -X wins over the profile, here over the keyring's wrong password.
    fixed = ["-X", f"sasl.password={secure_kafka.password}", "--json"]
    assert main(["events", "--profile", "wrong", "-t", topic, "--timeout", "5", *fixed]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 10


def test_a_locked_profile_shows_and_reads_only_its_topics(
    secure_kafka: SecureKafka,
    make_secure_topic: Callable[..., str],
    real_keyring: KeyringBackend,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    mine, other = make_secure_topic(1, prefix="orders"), make_secure_topic(1, prefix="users")
    _fill(secure_kafka, mine, 5)
    _fill(secure_kafka, other, 5)
    for topic in (mine, other):  # a real group on each topic
        _consume_and_commit(secure_kafka, f"group-{topic}", topic, 5)
    path = _profile_file(secure_kafka, tmp_path, "locked", ["orders-*"])
    _import(path, secure_kafka.password, secure_kafka, monkeypatch)
    capsys.readouterr()
    assert main(["topics", "--profile", "locked", "--json"]) == 0
    listed = {json.loads(line)["topic"] for line in capsys.readouterr().out.splitlines()}
    assert mine in listed and other not in listed
    assert all(name.startswith("orders-") for name in listed)
    assert main(["lag", "--profile", "locked", "--json"]) == 0
    lag_topics = {json.loads(line).get("topic") for line in capsys.readouterr().out.splitlines()}
    assert mine in lag_topics and other not in lag_topics
    assert main(["events", "--profile", "locked", "-t", other]) == 2
    assert "outside the topics profile locked allows" in _one_line(capsys.readouterr().err)

    # The source the GUI gets: the same lock.
    profile, _ = read_profile_file(path)

    def never(request: SecretRequest) -> str | None:
        raise AssertionError(f"asked for {request.name}: it is in the keyring")

    source = profile_to_source(profile, never, Credentials(real_keyring), timeout_s=10)
    names = {t.name for t in source.listing().topics}
    assert mine in names and other not in names
    assert other not in source.clone().topic_names()
    with pytest.raises(TopicLocked):
        source.read(other)
    assert sum(len(batch) for batch in source.read(mine)) == 5


def test_the_installed_command_asks_once_reads_and_leaves_offsets_alone(
    secure_kafka: SecureKafka,
    make_secure_topic: Callable[..., str],
    secret_service: SecretServiceSession,
    tmp_path: Path,
) -> None:
    topic = make_secure_topic(3)
    _fill(secure_kafka, topic, 60)
    group = f"real-group-{topic}"
    _consume_and_commit(secure_kafka, group, topic, 30)
    admin = AdminClient({"bootstrap.servers": secure_kafka.plain_bootstrap})
    before = _committed(admin, topic)
    assert set(before) == {group} and sum(before[group].values()) >= 30

    env = _private_env(tmp_path) | {
        "DBUS_SESSION_BUS_ADDRESS": secret_service.env["DBUS_SESSION_BUS_ADDRESS"]
    }
    path = _profile_file(secure_kafka, tmp_path, "support", [])
    term = Terminal([installed_binary(), "profile", "import", str(path)], env)
    term.expect("sasl.username for profile support:")
    term.type(secure_kafka.user)
    term.expect("sasl.password for profile support:")
    term.type(secure_kafka.password)
    code, _ = term.finish()
    assert code == 0, term.text
    assert "stored sasl.username, sasl.password of support in the keyring" in term.text
    assert secure_kafka.password not in term.text  # no echo

    # No terminal now: the secrets come from the keyring.
    for args in (["events", "-t", topic, "--json"], ["events", "-t", topic, "-a", "acc-3"]):
        done = _run(env, [*args, "--profile", "support"])
        assert done.returncode == 0, done.stderr
        assert len(done.stdout.splitlines()) == (60 if "--json" in args else 12)
    after = _committed(admin, topic)
    assert after == before, "a real group's committed offsets changed, or a new group committed"
    listed = admin.list_consumer_groups(request_timeout=10).result().valid
    assert not [g.group_id for g in listed if g.group_id.startswith("event-explorer-")]
    _assert_nowhere(secure_kafka.password, tmp_path)


def test_the_installed_command_without_a_keyring_asks_each_time_and_writes_nothing(
    secure_kafka: SecureKafka, make_secure_topic: Callable[..., str], tmp_path: Path
) -> None:
    topic = make_secure_topic(1)
    _fill(secure_kafka, topic, 7)
    env = _private_env(tmp_path) | {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    path = _profile_file(secure_kafka, tmp_path, "nokeyring", [])
    done = _run(env, ["profile", "import", str(path)])
    assert done.returncode == 0 and "asked for on each connect" in done.stderr
    for _ in range(2):
        term = Terminal(
            [installed_binary(), "events", "--profile", "nokeyring", "-t", topic, "--json"], env
        )
        term.expect("sasl.username for profile nokeyring: ")
        term.type(secure_kafka.user)
        term.expect("sasl.password for profile nokeyring: ")
        term.type(secure_kafka.password)
        code, out = term.finish()
        assert code == 0, term.text
        assert len(out.splitlines()) == 7
        assert "no OS keyring is available" in term.text and "each time" in term.text
        assert secure_kafka.password not in term.text
    _assert_nowhere(secure_kafka.password, tmp_path)
    assert [p.name for p in ProfileStore(tmp_path / "config" / "profiles").root.iterdir()] == [
        "nokeyring.evx-profile"
    ]


def _private_env(tmp_path: Path) -> dict[str, str]:
    """The command's own HOME, config and cache under ``tmp_path``, so every file it
    writes can be inspected."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "PYTHON_KEYRING"))}
    return env | {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "EVENT_EXPLORER_CONFIG_DIR": str(tmp_path / "config"),
        "EVENT_EXPLORER_CACHE_DIR": str(tmp_path / "cache"),
    }


def _run(env: dict[str, str], args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [installed_binary(), *args], env=env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _consume_and_commit(kafka: SecureKafka, group: str, topic: str, at_least: int) -> None:
    consumer = Consumer(
        {
            "bootstrap.servers": kafka.plain_bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    consumed = 0
    while consumed < at_least:
        consumed += len([m for m in consumer.consume(50, timeout=5) if m.error() is None])
    consumer.commit(asynchronous=False)
    consumer.close()


def _committed(admin: AdminClient, topic: str) -> dict[str, dict[int, int]]:
    out: dict[str, dict[int, int]] = {}
    for g in admin.list_consumer_groups(request_timeout=10).result().valid:
        req = [ConsumerGroupTopicPartitions(g.group_id)]
        res = admin.list_consumer_group_offsets(req, request_timeout=10)[g.group_id].result()
        offsets = {tp.partition: tp.offset for tp in res.topic_partitions if tp.topic == topic}
        if offsets:
            out[g.group_id] = offsets
    return out


def _assert_nowhere(secret: str, root: Path) -> None:
    needles = [secret.encode(), secret.encode("utf-16-le")]
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            assert not any(n in data for n in needles), f"the password is in {path}"
