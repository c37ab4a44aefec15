"""Every command's exit codes: 0 done, 1 nothing matched, 2 bad input or a failure, 130
Ctrl-C; one line on stderr, never a traceback; a closed pipe is not an error."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from kafka_helpers import Rec, produce

from app.cli.common import ExitCode
from app.cli.main import main
from kafka_io.event import Event, iso_utc
from kafka_io.eventfile import open_event_file, write_event_file

ROOT = Path(__file__).resolve().parents[3]
T0 = 1_700_000_000_000
TOPIC = "bank-accounts"
DAMAGED = 12_000

FRAGILE = """from app.replay.folds import fold


@fold("fragile", topics=["bank-*"])
def fragile(state, event):
    if event.offset == 2:
        raise ValueError("unlucky event")
    return (state or 0) + 1
"""


def _events(n: int, topic: str = TOPIC, pad: int = 0) -> list[Event]:
    return [
        Event(topic, 0, i, T0 + i * 1000, f"acc-{i % 3}", "", None, (), None, None, None,
              orjson.dumps({"eventType": "Deposited" if i % 2 else "Opened",
                            "payload": {"amount": i, "pad": "x" * pad}}))
        for i in range(n)
    ]  # fmt: skip


@pytest.fixture(autouse=True)
def _no_user_folds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def bank(tmp_path: Path) -> Path:
    path = tmp_path / "bank.avro"
    write_event_file(path, _events(12), formats={TOPIC: "json"})
    return path


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    """An export whose last quarter is garbage: a read of it ends early (after the
    batches before the damage)."""
    path = tmp_path / "damaged.avro"
    write_event_file(path, _events(DAMAGED, pad=50), formats={TOPIC: "json"})
    data = bytearray(path.read_bytes())
    at = len(data) * 3 // 4
    data[at : at + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def spawn(*argv: str, **kwargs: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(  # type: ignore[call-overload]
        [sys.executable, "-m", "app", *argv], cwd=ROOT, env=env, text=True, **kwargs
    )


def test_the_codes() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 2, 130]


# -- events -----------------------------------------------------------------------------


def test_events_codes(bank: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = ["events", "--file", str(bank)]
    assert run(capsys, *f, "--aggregate", "acc-1")[0] == 0
    code, out, err = run(capsys, *f, "--aggregate", "acc-99999")
    assert (code, out) == (1, "")
    assert err == f"event-explorer events: aggregate 'acc-99999' has no events in {TOPIC}\n"
    code, out, err = run(capsys, *f, "--type", "NoSuchType")
    assert (code, out) == (1, "") and err.count("\n") == 1
    for bad in (
        ["--from", iso_utc(T0 + 5000), "--to", iso_utc(T0)],  # an empty range
        ["--limit", "0"],
        ["--from", "1969-07-20T20:17:00Z"],
        ["--to", "soon"],
    ):
        code, out, err = run(capsys, *f, *bad)
        assert (code, out) == (2, ""), bad
        assert err.startswith("event-explorer events: ") and err.count("\n") == 1, err
    code, _, err = run(capsys, "events", "--file", str(bank.with_name("nope.avro")))
    assert code == 2 and "no such file" in err


def test_epoch_milliseconds_select_like_iso(bank: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = ["events", "--file", str(bank), "--json"]
    code, by_iso, _ = run(capsys, *f, "--from", iso_utc(T0 + 3000), "--to", iso_utc(T0 + 7000))
    assert code == 0
    code, by_ms, _ = run(capsys, *f, "--from", str(T0 + 3000), "--to", str(T0 + 7000))
    assert code == 0 and by_ms == by_iso
    assert [json.loads(line)["offset"] for line in by_ms.splitlines()] == [3, 4, 5, 6, 7]


def test_an_incomplete_read_prints_what_it_read_then_exits_2(
    damaged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert open_event_file(damaged).count == DAMAGED  # the header is intact
    code, out, err = run(capsys, "events", "--file", str(damaged))
    assert code == 2
    printed = len(out.splitlines())
    assert 0 < printed < DAMAGED
    assert err.startswith("event-explorer events: incomplete read: ")
    assert f"damaged after {printed:,} events" in err and err.count("\n") == 1


def test_ctrl_c_exits_130(tmp_path: Path) -> None:
    # A read that waits on a pipe: once the writer has opened it, the command is inside
    # its read, and SIGINT interrupts it there.
    fifo = tmp_path / "events.fifo"
    os.mkfifo(fifo)
    proc = spawn("events", "--file", str(fifo), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with fifo.open("wb"):
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err


def test_a_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "many.avro"
    write_event_file(path, _events(5000, pad=100), formats={TOPIC: "json"})
    proc = spawn(
        "events", "--file", str(path), "--json", stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()  # `| head -1`
    proc.stdout.close()
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 0
    assert json.loads(first)["offset"] == 0
    assert err == ""


# -- state ------------------------------------------------------------------------------


def test_state_codes(tmp_path: Path, bank: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fragile = tmp_path / "fragile.py"
    fragile.write_text(FRAGILE)
    s = ["state", "--file", str(bank), "--fold", "merge"]
    code, out, _ = run(capsys, *s, "-a", "acc-1", "--json")
    assert code == 0 and json.loads(out)["events_applied"] == 4
    # Before the aggregate's first event the state is None: an answer, not a miss.
    code, out, _ = run(capsys, *s, "-a", "acc-1", "--at", str(T0), "--json")
    assert code == 0 and json.loads(out)["state"] is None
    for extra in ([], ["--history"], ["--at", iso_utc(T0 + 10**6)], ["--offset", "5"]):
        code, out, err = run(capsys, *s, "-a", "acc-99999", *extra)
        assert (code, out) == (1, ""), extra
        assert err == f"event-explorer state: aggregate 'acc-99999' has no events in {TOPIC}\n"
    for bad in (["--offset", "-5"], ["--n", "-1"], ["--at", "1960-01-01"], ["--at", "noon"],
                ["--n", "99"], ["--fold", "no-such-fold"]):  # fmt: skip
        code, out, err = run(capsys, *s, "-a", "acc-1", *bad)
        assert (code, out) == (2, ""), bad
        assert err.startswith("event-explorer state: ") and err.count("\n") == 1, err
    # A fold that fails: the state before the event it failed on, the event, exit 2.
    f = ["state", "--file", str(bank), "-a", "acc-2", "--folds", str(fragile), "--json"]
    code, out, err = run(capsys, *f)
    assert code == 2 and json.loads(out)["state"] is None
    assert "unlucky event" in err and "offset 2" in err
    code, out, err = run(capsys, *f, "--history")
    assert code == 2 and out == "" and "unlucky event" in err


def test_state_of_an_incomplete_read_exits_2(
    damaged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "state", "--file", str(damaged), "-a", "acc-0", "--json")
    assert code == 2
    assert json.loads(out)["events_applied"] > 0  # what was read is shown
    assert err.startswith("event-explorer state: incomplete read: ")


# -- export -----------------------------------------------------------------------------


def test_export_codes(tmp_path: Path, bank: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.avro"
    e = ["export", "--file", str(bank), "--out", str(target)]
    code, _, err = run(capsys, *e, "--aggregate", "acc-1")
    assert code == 0 and err == f"exported 4 events of {TOPIC} to {target}\n"
    before = target.read_bytes()
    code, _, err = run(capsys, *e, "--aggregate", "acc-99999")
    assert code == 1
    assert err == (
        f"event-explorer export: aggregate 'acc-99999' has no events in {TOPIC}; "
        f"{target} not written\n"
    )
    assert target.read_bytes() == before  # left as it was
    for bad in (
        ["--from", str(T0 + 5000), "--to", str(T0)],
        ["--out", str(tmp_path / "no" / "such" / "folder.avro")],
        ["--out", str(bank)],
    ):
        code, _, err = run(capsys, *e, *bad)
        assert code == 2 and err.startswith("event-explorer export: "), bad
    assert target.read_bytes() == before


def test_export_of_an_incomplete_read_exits_2(
    tmp_path: Path, damaged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "partial.avro"
    code, _, err = run(capsys, "export", "--file", str(damaged), "--out", str(target))
    assert code == 2
    written = open_event_file(target).count
    assert written is not None and 0 < written < DAMAGED
    assert f"exported {written} events" in err
    assert err.splitlines()[-1].startswith("event-explorer export: incomplete read: ")


# -- against the broker -----------------------------------------------------------------


@pytest.mark.kafka
def test_cluster_lookups_that_match_nothing_exit_1(
    kafka_bootstrap: str, make_topic: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    topic = make_topic(3, prefix="bank-accounts")
    produce(kafka_bootstrap, topic, [Rec(e.value, e.key_bytes, timestamp_ms=e.timestamp_ms)
                                     for e in _events(30)])  # fmt: skip
    c = ["-b", kafka_bootstrap, "-t", topic]
    assert run(capsys, "events", *c, "-a", "acc-2")[0] == 0
    code, out, err = run(capsys, "events", *c, "-a", "acc-99999")
    assert (code, out) == (1, "")
    assert err.splitlines()[-1] == (
        f"event-explorer events: aggregate 'acc-99999' has no events in {topic}"
    )
    code, out, err = run(capsys, "state", *c, "-a", "acc-99999", "--fold", "merge")
    assert (code, out) == (1, "")
    *notes, last = err.splitlines()
    assert last == f"event-explorer state: aggregate 'acc-99999' has no events in {topic}"
    # Three keys cannot prove a partitioner: the one note says why every partition is read.
    assert [n for n in notes if "reading every partition" not in n] == []
    code, _, err = run(capsys, "events", *c, "--text", "no such text anywhere")
    assert code == 1 and err.count("\n") == 1
    empty = make_topic(1)
    code, _, err = run(capsys, "events", "-b", kafka_bootstrap, "-t", empty)
    assert code == 1 and err == f"event-explorer events: {empty} has no events\n"
    code, _, _ = run(capsys, "topics", "-b", kafka_bootstrap)
    assert code == 0


@pytest.mark.kafka
def test_lag_for_a_group_that_does_not_exist_exits_1(
    kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "lag", "-b", kafka_bootstrap, "-g", "no-such-group-here", "--json")
    assert code == 1
    assert err == "event-explorer lag: no such consumer group\n"


def test_an_unreachable_cluster_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = str(tmp_path / "x.avro")
    for command in (["topics"], ["events", "-t", "x"], ["export", "-t", "x", "-o", target],
                    ["state", "-t", "x", "-a", "y", "--fold", "merge"], ["lag"]):  # fmt: skip
        code, out, err = run(capsys, *command, "-b", "127.0.0.1:9", "--timeout", "1")
        assert (code, out) == (2, ""), command
        assert "127.0.0.1:9" in err and err.count("\n") == 1, (command, err)
