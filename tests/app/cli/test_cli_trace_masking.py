"""``trace`` and ``health`` with ``--mask``: the ids read from masked fields and headers
never appear in what they print (text, timeline, JSON), while the trace and the findings
are the same as without masking (they match on the real ids)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from app.cli.main import main
from resources.demo import checkout, generate

ID_FIELDS = ("eventId", "correlationId", "causationId")
MASKS = [a for f in ID_FIELDS for a in ("--mask", f, "--mask", f"header:{f}")]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str]]:
    """A small demo file, and every id its events carry (fields and headers)."""
    path = tmp_path_factory.mktemp("masked") / "small.avro"
    built = generate.build(scale=0.02)
    generate.write(built, path)
    ids: set[str] = set()
    for ev in built.events:
        for name in ID_FIELDS:
            if isinstance(ev.data, dict) and isinstance(ev.data.get(name), str):
                ids.add(ev.data[name])
            if ev.header(name):
                ids.add(str(ev.header(name)))
    return path, ids


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    got = capsys.readouterr()
    return code, got.out, got.err


def leaked(text: str, ids: set[str]) -> list[str]:
    # "PAY-0000278.1" is an event id; "PAY-0000278" alone is its aggregate (kept).
    found = set(re.findall(r"[A-Za-z]+-[0-9]+(?:\.[0-9]+)?", text))
    return sorted(found & ids)


def shape(nodes: list[dict[str, Any]]) -> list[Any]:
    return [(n["topic"], n["partition"], n["offset"], n["broken"], shape(n["children"]))
            for n in nodes]  # fmt: skip


def test_masked_ids_never_appear_in_a_trace(
    capsys: pytest.CaptureFixture[str], demo: tuple[Path, set[str]]
) -> None:
    path, ids = demo
    f = str(path)
    # The broken saga: a step's cause is lost, so ids appear in the "!!" lines too.
    code, out, _ = run(capsys, "health", "-f", f, "--json")
    broken = next(json.loads(x) for x in out.splitlines() if '"broken_causation"' in x)
    event = f"{broken['topic']}:{broken['partition']}:{broken['offset']}"
    code, plain, _ = run(capsys, "trace", "-f", f, "--event", event, "--json")
    real = json.loads(plain)
    assert leaked(plain, ids), "the unmasked trace shows the ids this test looks for"
    for mode in ((), ("--timeline",), ("--json",)):
        code, out, err = run(capsys, "trace", "-f", f, "--event", event, *mode, *MASKS)
        assert code == 1 and "[masked]" in out, (mode, err)
        assert leaked(out + err, ids) == [], mode
    masked = json.loads(out)
    assert masked["correlation"] == "[masked]" and masked["events"] == real["events"]
    for part in ("roots", "orphans"):
        assert shape(masked[part]) == shape(real[part])


def test_masked_ids_and_versions_never_appear_in_health(
    capsys: pytest.CaptureFixture[str], demo: tuple[Path, set[str]]
) -> None:
    path, ids = demo
    sagas = ["--saga-start", "|".join(checkout.SAGA_STARTS),
             "--saga-end", "|".join(checkout.SAGA_ENDS)]  # fmt: skip
    code, plain, _ = run(capsys, "health", "-f", str(path), "--json", *sagas)
    assert leaked(plain, ids), "the unmasked findings name ids"
    for mode in ((), ("--json",)):
        code, out, err = run(capsys, "health", "-f", str(path), *mode, *sagas, *MASKS,
                             "--mask", "aggregateVersion")  # fmt: skip
        assert code == 1 and leaked(out + err, ids) == [], mode

    def where(text: str) -> list[tuple[str, str, Any, Any]]:
        lines = [json.loads(x) for x in text.splitlines()[:-1]]
        return [(f["kind"], f["topic"], f["partition"], f["offset"]) for f in lines]

    assert where(out) == where(plain)  # the same findings, found on the real values
    gap = next(json.loads(x) for x in out.splitlines() if '"version_gap"' in x)
    assert gap["detail"].startswith("version [masked] follows version [masked]")
    unfinished = next(json.loads(x) for x in out.splitlines() if '"unfinished_saga"' in x)
    assert unfinished["detail"].startswith("saga [masked] started with OrderPlaced")
