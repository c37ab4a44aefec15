"""``event-explorer compare`` against the real broker: a known fold change, the other fold
from another file or another git revision, exit codes, and the ways input goes wrong."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka_helpers import Rec, produce

from app.cli.main import main
from kafka_io.murmur2 import partition_for_key

pytestmark = pytest.mark.kafka
T0 = 1_700_000_000_000

FOLD = """
from app.folds import fold

@fold("ledger", topics=["bank-*"])
def ledger(state, event):
    state = dict(state or {"balance": 0})
    amount = event.data["payload"]["amount"]
    state["balance"] += -amount if event.type == "MoneyWithdrawn" else amount
    return state
"""
# The change under review: withdrawals over 40 pay a fee of 2.
FEE = FOLD.replace(
    'state["balance"] += -amount if event.type == "MoneyWithdrawn" else amount',
    'state["balance"] += -(amount + (2 if amount > 40 else 0)) '
    'if event.type == "MoneyWithdrawn" else amount',
)


@pytest.fixture(scope="module")
def bank(kafka_bootstrap: str) -> Iterator[tuple[str, list[tuple[str, str, int, int, int]]]]:
    """A 4-partition topic: (account, type, amount, partition, offset) of each event."""
    from confluent_kafka.admin import AdminClient, NewTopic

    topic = f"bank-compare-{os.getpid()}"
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    admin.create_topics([NewTopic(topic, 4, 1)])[topic].result(30)
    plan = []
    for i in range(240):
        account = f"acc-{(i * 7) % 24:02d}"
        kind = "MoneyWithdrawn" if i % 3 == 2 else "MoneyDeposited"
        plan.append((account, kind, (i * 11) % 50 + 1, T0 + i * 1000))
    records, events, offsets = [], [], [0, 0, 0, 0]
    for acc, kind, amount, ts in plan:
        # Placed as a Java producer would; offsets counted here, per partition.
        p = partition_for_key(acc.encode(), 4)
        body = json.dumps({"eventType": kind, "payload": {"amount": amount}}).encode()
        records.append(Rec(body, acc.encode(), partition=p, timestamp_ms=ts))
        events.append((acc, kind, amount, p, offsets[p]))
        offsets[p] += 1
    produce(kafka_bootstrap, topic, records)
    yield topic, events
    admin.delete_topics([topic])


def _affected(events: list[tuple[str, str, int, int, int]]) -> dict[str, dict[str, int]]:
    """The accounts the fee changes, each with its first withdrawal over 40 and fees."""
    out: dict[str, dict[str, int]] = {}
    for acc, kind, amount, p, o in sorted(events, key=lambda e: (e[3], e[4])):
        if kind == "MoneyWithdrawn" and amount > 40:
            entry = out.setdefault(acc, {"partition": p, "offset": o, "fees": 0})
            entry["fees"] += 2
    return out


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict], str]:
    code = main(["compare", *argv])
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines() if line.startswith("{")]
    return code, lines, captured.err


@pytest.mark.parametrize("processes", ["1", "2"])
def test_compare_lists_exactly_the_accounts_a_fold_change_affects(
    kafka_bootstrap: str, bank: tuple, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], processes: str,
) -> None:  # fmt: skip
    topic, events = bank
    mine, theirs = tmp_path / "mine", tmp_path / "prod"
    mine.mkdir()
    theirs.mkdir()
    (mine / "ledger.py").write_text(FEE)
    (theirs / "ledger.py").write_text(FOLD)
    code, lines, err = _run(
        capsys, "-b", kafka_bootstrap, "-t", topic, "--folds", str(mine), "--fold", "ledger",
        "--against-folds", str(theirs / "ledger.py"), "--json", "--processes", processes,
    )  # fmt: skip
    expected = _affected(events)
    assert code == 1, err
    *rows, summary = lines
    assert summary == {"aggregates": 24, "differ": len(expected)}
    assert [r["aggregate"] for r in rows] == sorted(expected)
    for row in rows:
        want = expected[row["aggregate"]]
        first = row["first_divergence"]
        assert (first["partition"], first["offset"]) == (want["partition"], want["offset"])
        assert first["type"] == "MoneyWithdrawn"
        change = row["diff"]["changed"]["balance"]
        assert change["new"] - change["old"] == want["fees"]  # A is mine: A charges the fees


def test_nothing_differs_exits_0_and_the_text_says_so(
    kafka_bootstrap: str, bank: tuple, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    topic, _ = bank
    folds = tmp_path / "ledger.py"
    folds.write_text(FOLD)
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "ledger.py").write_text(FOLD)
    code = main(["compare", "-b", kafka_bootstrap, "-t", topic, "--folds", str(folds),
                 "--fold", "ledger", "--against-folds", str(copy)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("0 of 24 aggregates differ: A ledger (ledger.py), B ledger")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_against_a_git_revision_of_the_fold_file(
    kafka_bootstrap: str, bank: tuple, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    topic, events = bank
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "dev@example.com")
    _git(repo, "config", "user.name", "Dev")
    fold_file = repo / "ledger.py"
    fold_file.write_text(FOLD)
    _git(repo, "add", "ledger.py")
    _git(repo, "commit", "-qm", "the ledger in production")
    fold_file.write_text(FEE)  # my change, not committed
    common = ["-b", kafka_bootstrap, "-t", topic, "--folds", str(fold_file), "--fold", "ledger"]
    code, lines, err = _run(capsys, *common, "--against-git", "HEAD", "--json")
    assert code == 1, err
    assert lines[-1] == {"aggregates": 24, "differ": len(_affected(events))}

    code, _, err = _run(capsys, *common, "--against-git", "no-such-branch")
    assert code == 2 and f"no git revision 'no-such-branch' in {repo.resolve()}" in err
    other = repo / "other.py"
    other.write_text(FOLD.replace('"ledger"', '"other"'))
    code, _, err = _run(capsys, "-b", kafka_bootstrap, "-t", topic, "--folds", str(other),
                        "--fold", "other", "--against-git", "HEAD")  # fmt: skip
    assert code == 2 and "other.py is not tracked by git" in err
    outside = tmp_path / "outside"
    outside.mkdir()
    loose = outside / "ledger.py"
    loose.write_text(FOLD)
    code, _, err = _run(capsys, "-b", kafka_bootstrap, "-t", topic, "--folds", str(loose),
                        "--fold", "ledger", "--against-git", "HEAD")  # fmt: skip
    assert code == 2 and "ledger.py is not in a git work tree" in err


def test_git_missing_is_one_clear_line(
    kafka_bootstrap: str, bank: tuple, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    topic, _ = bank
    folds = tmp_path / "ledger.py"
    folds.write_text(FOLD)
    empty = tmp_path / "no-tools"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, _, err = _run(capsys, "-b", kafka_bootstrap, "-t", topic, "--folds", str(folds),
                        "--fold", "ledger", "--against-git", "HEAD")  # fmt: skip
    assert code == 2
    assert err.strip() == "event-explorer compare: git is not installed: --against-git needs it"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "give --against FOLD, --against-folds PATH or --against-git REV"),
        (["--against", "nope"], "no fold named 'nope'"),
        (["--against-folds", "/no/such/folds"], "no such fold file or folder: /no/such/folds"),
        (["--against", "merge", "--processes", "0"], "--processes 0: give 1 or more"),
        (["--against-git", "HEAD", "--against-folds", "x.py"], "not both"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    kafka_bootstrap: str, bank: tuple, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], extra: list[str], message: str,
) -> None:  # fmt: skip
    topic, _ = bank
    folds = tmp_path / "ledger.py"
    folds.write_text(FOLD)
    code, _, err = _run(capsys, "-b", kafka_bootstrap, "-t", topic, "--folds", str(folds),
                        "--fold", "ledger", *extra)  # fmt: skip
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("as_json", [True, False])
def test_a_masked_field_never_appears_in_the_compare_output(
    kafka_bootstrap: str, bank: tuple, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], as_json: bool,
) -> None:  # fmt: skip
    topic, events = bank
    (tmp_path / "mine.py").write_text(FEE)
    (tmp_path / "prod.py").write_text(FOLD)
    argv = ["compare", "-b", kafka_bootstrap, "-t", topic, "--folds", str(tmp_path / "mine.py"),
            "--fold", "ledger", "--against-folds", str(tmp_path / "prod.py"),
            "--mask", "balance"]  # fmt: skip
    code = main(argv + (["--json"] if as_json else []))
    out = capsys.readouterr().out
    assert code == 1
    # The balances each account ends with, under either fold: none may be printed.
    balances: dict[str, list[int]] = {}
    for acc, kind, amount, _, _ in events:
        a, b = balances.setdefault(acc, [0, 0])
        fee = 2 if amount > 40 else 0
        sign = -1 if kind == "MoneyWithdrawn" else 1
        balances[acc] = [a + sign * (amount + (fee if sign < 0 else 0)), b + sign * amount]
    differing = {acc for acc, (a, b) in balances.items() if a != b}
    assert differing and all(acc in out for acc in differing)
    assert "balance" in out  # the path is shown, its values are not
    printed = out.replace(topic, "")
    for acc in differing:
        for value in balances[acc]:
            assert f" {value}" not in printed and f":{value}" not in printed, (acc, value)
