"""The command line around a misbehaving fold: its print() never lands in the output,
os._exit and states it cannot keep are one line naming the fold, and a fold that cannot
be interrupted ends the command with a message instead of hanging it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from resources import demo_path

AGGREGATE = "ACC-102224"


def _fold_file(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(
        "import os, threading\nfrom app.folds import fold\n\n"
        f"@fold({name!r}, topics=['bank-*'])\n"
        f"def {name}(state, event):\n" + body
    )
    return path


def _state(fold_file: Path, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app", "state", "--file", str(demo_path()), "-t",
         "bank-accounts", "-a", AGGREGATE, "--folds", str(fold_file), "--json", *extra],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


@pytest.mark.parametrize("mode", [[], ["--history"]])
def test_a_folds_print_goes_to_stderr_and_the_json_stays_clean(
    tmp_path: Path, mode: list[str]
) -> None:
    fold = _fold_file(
        tmp_path, "chatty", "    print('debug', event.offset)\n    return (state or 0) + 1\n"
    )
    proc = _state(fold, *mode)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]  # every line is JSON
    assert rows and "debug" not in proc.stdout
    applied = rows[-1]["n"] if mode else rows[0]["events_applied"]
    assert proc.stderr.count("debug ") >= applied > 0  # history folds once per row, at least


def test_os_exit_in_a_fold_is_one_line_naming_it(tmp_path: Path) -> None:
    fold = _fold_file(tmp_path, "quitter", "    os._exit(3)\n")
    proc = _state(fold)
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert "fold 'quitter'" in line and "os._exit(3)" in line and "quitter.py, line 6" in line


@pytest.mark.parametrize(
    "body, says",
    [
        ("    return {'lock': threading.Lock()}\n", "lock"),
        ("    d = {'n': 1}\n    d['me'] = d\n    return d\n", "contains itself"),
    ],
)
def test_a_state_the_app_cannot_keep_is_one_line_naming_the_fold(
    tmp_path: Path, body: str, says: str
) -> None:
    fold = _fold_file(tmp_path, "keeper", body)
    for command in (["state"], ["states"]):
        proc = subprocess.run(
            [sys.executable, "-m", "app", *command, "--file", str(demo_path()), "-t",
             "bank-accounts", *(["-a", AGGREGATE] if command == ["state"] else []),
             "--folds", str(fold), "--json"],
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert proc.returncode == 2, (command, proc.stderr)
        (line,) = proc.stderr.strip().splitlines()
        assert "fold 'keeper'" in line and says in line and "Traceback" not in proc.stderr


def test_a_fold_that_cannot_be_interrupted_ends_the_command_with_a_message(
    tmp_path: Path,
) -> None:
    fold = _fold_file(
        tmp_path,
        "stubborn",
        "    while True:\n        try:\n            while True:\n                pass\n"
        "        except BaseException:\n            pass\n",
    )
    proc = _state(fold, timeout=90)
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert "fold 'stubborn'" in line and "catches BaseException" in line


def test_compare_keeps_a_folds_print_out_of_its_json(tmp_path: Path) -> None:
    fold = _fold_file(tmp_path, "chatty", "    print('debug')\n    return (state or 0) + 1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "app", "compare", "--file", str(demo_path()), "-t",
         "bank-accounts", "--folds", str(fold), "--fold", "chatty", "--against", "events",
         "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # they differ
    rows = [json.loads(line) for line in proc.stdout.splitlines()]  # every line is JSON
    assert rows[-1]["differ"] == rows[-1]["aggregates"] > 0
    assert "debug" in proc.stderr and "debug" not in proc.stdout
