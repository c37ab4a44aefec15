"""``trace`` and ``health`` with ``--profile`` on the real broker: the profile's cluster
and registry, only the topics its lock allows (a topic outside it is refused in one line
before anything connects), and its masking of the ids."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import saga_scenario as sc
from confluent_kafka.schema_registry import SchemaRegistryClient
from test_saga_kafka import UNKNOWN_SCHEMA_VALUE, make_topics, write_saga

from app.cli.main import main

pytestmark = [pytest.mark.kafka, pytest.mark.usefixtures("private_profiles")]


def profile(path: Path, bootstrap: str, registry: str, locked: list[str]) -> Path:
    path.write_text(
        f'format_version = 1\nname = "saga"\nlocked_topics = {json.dumps(locked)}\n'
        f'[kafka]\nbootstrap = "{bootstrap}"\n[registry]\nurl = "{registry}"\n'
        '[masking]\nfields = ["correlationId", "header:correlationId"]\n'
    )
    return path


def test_a_locked_profile_traces_only_its_topics_and_masks_its_fields(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    schema_registry_url: str,
    make_registry_client: Callable[..., SchemaRegistryClient],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    topics = make_topics(make_topic)
    client = make_registry_client(schema_registry_url)
    steps = sc.anomalies(UNKNOWN_SCHEMA_VALUE)
    write_saga(kafka_bootstrap, client, steps, topics)
    correlations = {s.correlation for s in steps if s.correlation}
    allowed = [topics["orders"], topics["payments"]]
    file = profile(tmp_path / "saga.evx-profile", kafka_bootstrap, schema_registry_url, allowed)
    assert main(["profile", "import", str(file)]) == 0
    capsys.readouterr()

    base = ["trace", "--profile", "saga", "--aggregate-rule", "field:aggregateId", "--no-cache"]
    assert main([*base, "--correlation", "c-3", "--json"]) == 1  # its shipments are not there
    doc = json.loads(capsys.readouterr().out)
    assert doc["correlation"] == "[masked]"
    seen: set[str] = set()
    stack = [*doc["roots"], *doc["orphans"]]
    while stack:
        node = stack.pop()
        seen.add(node["topic"])
        stack += node["children"]
    assert seen == set(allowed)

    outside = topics["shipments"]
    for command in (["trace", "-c", "c-3", "--topics", outside], ["health", "-t", outside]):
        assert main([command[0], "--profile", "saga", *command[1:]]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and f"{outside!r} is outside the topics" in err

    code = main(["health", "--profile", "saga", "-t", "saga-*", "--json", "--no-cache",
                 "--aggregate-rule", "field:aggregateId", "--saga-start",
                 "|".join(sc.SAGA_STARTS), "--saga-end", "|".join(sc.SAGA_ENDS)])  # fmt: skip
    out = capsys.readouterr().out
    *findings, summary = [json.loads(x) for x in out.splitlines()]
    assert summary["topics"] == sorted(allowed) and code == 1
    assert any(f["detail"].startswith("saga [masked] started") for f in findings)
    assert not set(re.findall(r"c-[a-z]*[0-9]*", out)) & correlations
