"""Fold files on the command line: a file that fails is an error naming it, and no other
fold stands in for the user's; ``folds`` says where the user's folder is."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from app.cli.main import main
from kafka_io.event import Event
from kafka_io.eventfile import write_event_file

T0 = 1_700_000_000_000
TOPIC = "bank-accounts"  # the shipped example fold "bank-account" applies to it

MINE = """from app.replay.folds import fold


@fold("deposits", topics=["bank-*"])
def deposits(state, event):
    return (state or 0) + event.data["payload"]["amount"]
"""
# The same file with the ':' missing on line 5.
BROKEN = MINE.replace("def deposits(state, event):", "def deposits(state, event)")
ELSEWHERE = """from app.replay.folds import fold


@fold("orders-only", topics=["orders", "orders-*"])
def orders_only(state, event):
    return state
"""


@pytest.fixture(autouse=True)
def user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private user config folder (platformdirs follows XDG_CONFIG_HOME on Linux)."""
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home / "event-explorer" / "folds"


@pytest.fixture
def bank_file(tmp_path: Path) -> Path:
    events = [
        Event(TOPIC, 0, i, T0 + i, "acc-1", "", None, (), None, None, None,
              orjson.dumps({"eventType": "MoneyDeposited", "payload": {"amount": i + 1}}))
        for i in range(4)
    ]  # fmt: skip
    path = tmp_path / "bank.avro"
    write_event_file(path, events, formats={TOPIC: "json"})
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_state_with_a_fold_file_that_fails_is_an_error_naming_it(
    tmp_path: Path, bank_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "my_fold.py"
    broken.write_text(BROKEN)
    code, out, err = run(
        capsys, "state", "--file", str(bank_file), "-a", "acc-1", "--folds", str(broken)
    )
    assert code == 2
    assert out == ""  # no state from the example fold that also matches the topic
    assert err == (
        "event-explorer state: could not load my_fold.py, line 5: SyntaxError: expected ':'\n"
    )


def test_state_chooses_among_the_users_folds_first(
    tmp_path: Path, bank_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine.py"
    mine.write_text(MINE)
    code, out, _ = run(
        capsys, "state", "--file", str(bank_file), "-a", "acc-1", "--folds", str(mine), "--json"
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["fold"] == "deposits" and doc["state"] == 1 + 2 + 3 + 4


def test_state_when_the_users_files_have_no_fold_for_the_topic(
    tmp_path: Path, bank_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "orders.py"
    elsewhere.write_text(ELSEWHERE)
    argv = ["state", "--file", str(bank_file), "-a", "acc-1", "--folds", str(elsewhere)]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert "no fold in" in err and str(elsewhere) in err and repr(TOPIC) in err
    assert "orders-only (topics: orders, orders-*)" in err
    # Named explicitly, any fold is fine, the examples' too.
    code, out, _ = run(capsys, *argv, "--fold", "bank-account", "--json")
    assert code == 0 and json.loads(out)["fold"] == "bank-account"


def test_folds_prints_load_failures_readably_and_fails_for_given_files(
    tmp_path: Path, user_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "my_fold.py"
    broken.write_text(BROKEN)
    code, out, err = run(capsys, "folds", "--folds", str(broken))
    assert code == 2
    assert "bank-account" in out  # the rest is still listed
    assert (
        "event-explorer folds: could not load my_fold.py, line 5: SyntaxError: expected ':'" in err
    )
    assert "Traceback" not in err and "\\n" not in err


def test_folds_lists_failures_in_the_user_folder_and_succeeds(
    user_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    user_config.mkdir(parents=True)
    (user_config / "half_typed.py").write_text(BROKEN)
    (user_config / "mine.py").write_text(MINE)
    code, out, err = run(capsys, "folds", "--json")
    assert code == 0
    names = {json.loads(line)["name"] for line in out.splitlines()}
    assert "deposits" in names
    assert "could not load half_typed.py, line 5: SyntaxError: expected ':'" in err


def test_folds_says_where_the_user_folder_is(
    user_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "folds")
    assert code == 0
    assert f"user folds folder: {user_config} (does not exist yet" in err
    user_config.mkdir(parents=True)
    code, _, err = run(capsys, "folds", "--json")
    assert code == 0
    assert err.splitlines()[0] == f"user folds folder: {user_config}"


def test_state_warns_of_a_broken_file_in_the_user_folder_and_goes_on(
    user_config: Path, bank_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    user_config.mkdir(parents=True)
    (user_config / "half_typed.py").write_text(BROKEN)
    code, out, err = run(
        capsys, "state", "--file", str(bank_file), "-a", "acc-1", "--fold", "merge", "--json"
    )
    assert code == 0 and json.loads(out)["fold"] == "merge"
    assert err == (
        "event-explorer state: warning: could not load half_typed.py, line 5: "
        "SyntaxError: expected ':'\n"
    )
