"""``event-explorer profile ...`` and ``--profile NAME``, without a cluster: the file
format at the command line, the keyring, and the refusals (exit 2, one line)."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import pytest
from keyring_fixtures import MemoryKeyring

from app.cli.main import main
from app.profiles import ProfileStore

pytestmark = pytest.mark.usefixtures("private_profiles")
SECRET = "pw-0d6e1c-never-shown"
TEAM_FILE = """\
format_version = 1
name = "team"
description = "the team's cluster"
locked_topics = ["orders.*"]

[kafka]
bootstrap = "127.0.0.1:1"
secrets = ["sasl.username", "sasl.password"]

[kafka.properties]
"security.protocol" = "SASL_SSL"
"sasl.mechanism" = "SCRAM-SHA-512"

[topics."orders.v1"]
aggregate_rule = "key"

[masking]
fields = ["payload.cardNumber"]
"""


@pytest.fixture
def team_file(tmp_path: Path) -> Path:
    path = tmp_path / "team.evx-profile"
    path.write_text(TEAM_FILE)
    return path


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in err
    return lines[0]


def test_import_list_show_export_round_trip_with_secrets_in_the_keyring(
    team_file: Path,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _stdin(monkeypatch, f"support-1\n{SECRET}\n")
    assert main(["profile", "import", str(team_file), "--password-stdin"]) == 0
    err = capsys.readouterr().err
    assert "imported profile team" in err and "stored sasl.username, sasl.password" in err
    assert memory_keyring.values == {
        ("event-explorer", "team/sasl.username"): "support-1",
        ("event-explorer", "team/sasl.password"): SECRET,
    }
    assert main(["profile", "list"]) == 0
    assert capsys.readouterr().out == "team\t127.0.0.1:1\tthe team's cluster\n"
    assert main(["profile", "show", "team"]) == 0
    shown = capsys.readouterr().out
    assert "Only these topics" in shown and "orders.*" in shown
    assert "Secret sasl.password" in shown and "in the keyring" in shown
    assert SECRET not in shown and "support-1" not in shown
    assert main(["profile", "export", "team"]) == 0
    exported = capsys.readouterr().out
    assert SECRET not in exported and "support-1" not in exported
    assert tomllib.loads(exported) == tomllib.loads(TEAM_FILE) | {
        "masking": {
            "fields": ["payload.cardNumber"],
            "how": "hide",
            "allow_unmask": False,
            "use_index_cache": True,
        }
    }
    # What the store wrote holds no secret either.
    for path in ProfileStore().root.rglob("*"):
        assert SECRET.encode() not in path.read_bytes()
    assert main(["profile", "delete", "team"]) == 0
    assert memory_keyring.values == {}
    assert "deleted profile team and its secrets" in capsys.readouterr().err
    assert main(["profile", "show", "team"]) == 2
    assert "no profile named 'team'" in _one_line(capsys.readouterr().err)


def test_a_file_with_a_secret_is_refused_naming_it_and_nothing_is_saved(
    tmp_path: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    leaky = tmp_path / "leaky.evx-profile"
    leaky.write_text(TEAM_FILE.replace('"sasl.mechanism"', f'"sasl.password" = "{SECRET}"\n"x"'))
    assert main(["profile", "import", str(leaky)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "sasl.password" in line and "never carry secrets" in line
    assert SECRET not in line
    assert ProfileStore().names() == []


def test_newer_and_malformed_files_are_one_line_exit_2(
    tmp_path: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    newer = tmp_path / "newer.evx-profile"
    newer.write_text(TEAM_FILE.replace("format_version = 1", "format_version = 7"))
    assert main(["profile", "import", str(newer)]) == 2
    assert "newer Event Explorer" in _one_line(capsys.readouterr().err)
    broken = tmp_path / "broken.evx-profile"
    broken.write_text(TEAM_FILE.replace('bootstrap = "127.0.0.1:1"', "bootstrap = "))
    assert main(["profile", "import", str(broken)]) == 2
    assert "not a valid profile file" in _one_line(capsys.readouterr().err)


def test_an_existing_name_is_kept_unless_replaced_or_renamed(
    team_file: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["profile", "import", str(team_file)]) == 0
    assert main(["profile", "import", str(team_file)]) == 2
    assert "--replace" in capsys.readouterr().err.splitlines()[-1]
    assert main(["profile", "import", str(team_file), "--replace"]) == 0
    assert main(["profile", "import", str(team_file), "--name", "team-copy"]) == 0
    assert ProfileStore().names() == ["team", "team-copy"]


def test_without_a_terminal_import_says_how_to_store_the_secrets_later(
    team_file: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["profile", "import", str(team_file)]) == 0
    err = capsys.readouterr().err
    assert "no terminal to ask for sasl.username, sasl.password" in err
    assert "event-explorer profile set-password team PROPERTY" in err
    assert memory_keyring.values == {}


def test_set_password_stores_one_secret_of_the_profile(
    team_file: Path,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["profile", "import", str(team_file)]) == 0
    _stdin(monkeypatch, SECRET + "\n")
    assert main(["profile", "set-password", "team", "sasl.password", "--password-stdin"]) == 0
    assert memory_keyring.values == {("event-explorer", "team/sasl.password"): SECRET}
    capsys.readouterr()
    assert main(["profile", "set-password", "team", "ssl.key.password", "--password-stdin"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "not a secret of team" in line and "sasl.username, sasl.password" in line
    assert main(["profile", "set-password", "team", "sasl.username"]) == 2
    assert "give --password-stdin" in _one_line(capsys.readouterr().err)


def test_with_no_keyring_nothing_is_stored_and_the_reason_is_said(
    team_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The session's default keyring refuses every call: no OS keyring here.
    _stdin(monkeypatch, f"support-1\n{SECRET}\n")
    assert main(["profile", "import", str(team_file), "--password-stdin"]) == 0
    err = capsys.readouterr().err
    assert "no OS keyring is available" in err and "asked for on each connect" in err
    _stdin(monkeypatch, SECRET + "\n")
    assert main(["profile", "set-password", "team", "sasl.password", "--password-stdin"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "no OS keyring is available" in line and "nothing stored" in line
    # Without a terminal a connect cannot ask either: it says so, and how to fix it.
    assert main(["topics", "--profile", "team"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "no terminal to ask on" in line and "no OS keyring is available" in line
    for path in Path(ProfileStore().root).rglob("*"):
        assert SECRET.encode() not in path.read_bytes()


def test_profile_refuses_other_connection_options_and_topics_outside_its_lock(
    team_file: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["profile", "import", str(team_file)]) == 0
    capsys.readouterr()
    assert main(["topics", "--profile", "team", "-b", "127.0.0.1:9092"]) == 2
    assert "--bootstrap cannot be combined with --profile" in _one_line(capsys.readouterr().err)
    assert main(["events", "--profile", "team", "--registry", "http://r:8081", "-t", "x"]) == 2
    assert "--registry cannot be combined" in _one_line(capsys.readouterr().err)
    # Refused before any password is asked for or any broker contacted (127.0.0.1:1).
    assert main(["events", "--profile", "team", "-t", "payments"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "'payments' is outside the topics profile team allows (orders.*)" in line
    assert main(["state", "--profile", "team", "-t", "users", "-a", "u1"]) == 2
    assert "outside the topics" in _one_line(capsys.readouterr().err)
    assert main(["topics", "--profile", "nope"]) == 2
    assert "no profile named 'nope'" in _one_line(capsys.readouterr().err)


def test_create_saves_a_connection_without_its_secrets(
    tmp_path: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["profile", "create", "mine", "-b", "127.0.0.1:1", "--lock", "orders.*"]
    args += ["-X", "security.protocol=SASL_SSL", "-X", "sasl.username=me"]
    args += ["-X", f"sasl.password={SECRET}", "--registry", "http://reg:8081"]
    args += ["--registry-auth", f"reg-user:{SECRET}"]
    assert main(args) == 0
    assert SECRET not in capsys.readouterr().err
    text = ProfileStore().path("mine").read_text()
    assert SECRET not in text and "me" not in tomllib.loads(text)["kafka"]["properties"].values()
    doc = tomllib.loads(text)
    assert doc["kafka"]["secrets"] == ["sasl.username", "sasl.password"]
    assert doc["registry"] == {"url": "http://reg:8081", "auth": True}
    assert doc["locked_topics"] == ["orders.*"]
    assert memory_keyring.values == {
        ("event-explorer", "mine/sasl.username"): "me",
        ("event-explorer", "mine/sasl.password"): SECRET,
        ("event-explorer", "mine/basic.auth.user.info"): f"reg-user:{SECRET}",
    }
