"""A real Confluent-compatible schema registry for tests: Apicurio Registry 3 (in memory).

    python tests/registry.py fetch                  # download once (cached)
    python tests/registry.py start [--state FILE]   # prints the Confluent-API URL
    python tests/registry.py stop [--state FILE]

The registry comes from Maven Central as one bundle (``tests/registry-pom.xml``, unpacked
by ``mvn dependency:unpack``) and is cached under ``~/.cache/event-explorer-tests`` beside
the Kafka jars.  It serves the Confluent API under ``/apis/ccompat/v7``; each start sets
the global compatibility to BACKWARD, Confluent's default (Apicurio's is NONE).
The pytest fixtures (tests/registry_fixtures.py) use the same functions.

Only the standard library here: ``tests/run`` calls this before any test tool runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from broker import CACHE, _free_port, _kill

HERE = Path(__file__).resolve().parent
POM = HERE / "registry-pom.xml"
STATE_FILE = CACHE / "registry.json"
CCOMPAT = "/apis/ccompat/v7"
URL_VARIABLE = "EVENT_EXPLORER_REGISTRY_URL"

# Registries started by this process: kept so their Popen objects are reaped on stop.
_RUNNING: dict[int, subprocess.Popen[bytes]] = {}


@dataclass
class RegistryHandle:
    url: str  # the Confluent-compatible API, what clients are given
    pid: int
    workdir: str
    port: int


def _pom_version() -> str:
    text = POM.read_text()
    start = text.index("<apicurio.version>") + len("<apicurio.version>")
    return text[start : text.index("</apicurio.version>")]


def ensure_app() -> Path:
    """The unpacked registry's folder, fetched through Maven the first time."""
    home = CACHE / f"apicurio-registry-{_pom_version()}"
    if (home / ".complete").exists():
        return home
    staging = home.with_name(home.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(Path(f"{staging}.markers"), ignore_errors=True)
    cmd = ["mvn", "-q", "-B", "-f", str(POM), "dependency:unpack", f"-Dregistry.dir={staging}"]
    print("fetching Apicurio Registry from Maven Central ...", file=sys.stderr)
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    if not _runner_jar(staging).exists():
        raise RuntimeError(f"the registry bundle unpacked without {_runner_jar(staging).name}")
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(Path(f"{staging}.markers"), ignore_errors=True)
    staging.rename(home)
    # Written last: a fetch cut short leaves no .complete and is redone next time.
    (home / ".complete").write_text(_pom_version())
    return home


def _runner_jar(home: Path) -> Path:
    return home / f"apicurio-registry-app-{_pom_version()}-runner.jar"


def _java(home: Path, port: int, management_port: int) -> list[str]:
    return [
        os.environ.get("JAVA", "java"),
        # A test registry holds a few hundred small schemas and answers a few requests a
        # second: the C1 compiler alone, the serial collector and a small heap start it
        # several times faster on a busy 2-core machine, in about 160 MB instead of 260.
        "-XX:TieredStopAtLevel=1",
        "-XX:+UseSerialGC",
        "-Xms32m",
        "-Xmx384m",
        "-Djava.awt.headless=true",
        "-Dquarkus.http.host=127.0.0.1",
        f"-Dquarkus.http.port={port}",
        "-Dquarkus.management.host=127.0.0.1",
        f"-Dquarkus.management.port={management_port}",
        "-jar",
        str(_runner_jar(home)),
    ]


def _http(method: str, url: str, body: object = None, timeout: float = 5) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/vnd.schemaregistry.v1+json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _wait_ready(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Ready when /health/ready says UP (storage initialised), not merely when TCP opens."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the registry exited with {proc.returncode}; see {log}")
        with contextlib.suppress(OSError):
            status, body = _http("GET", f"http://127.0.0.1:{port}/health/ready", timeout=2)
            if status == 200 and json.loads(body).get("status") == "UP":
                return
        time.sleep(0.2)
    raise TimeoutError(f"the registry did not become ready in {timeout:.0f}s; see {log}")


def set_compatibility(url: str, level: str = "BACKWARD") -> None:
    """Set the registry-wide compatibility through the Confluent API, and check it took."""
    status, body = _http("PUT", f"{url}/config", {"compatibility": level})
    if status != 200:
        raise RuntimeError(f"setting compatibility {level} failed: HTTP {status} {body[:200]!r}")
    status, body = _http("GET", f"{url}/config")
    got = json.loads(body).get("compatibilityLevel") if status == 200 else None
    if got != level:
        raise RuntimeError(f"the registry's compatibility is {got!r}, not {level}")


def start(timeout: float = 120) -> RegistryHandle:
    """Start a fresh in-memory registry on free loopback ports; return its handle."""
    home = ensure_app()
    workdir = Path(tempfile.mkdtemp(prefix="ee-registry-"))
    port, management_port = _free_port(), _free_port()
    log = workdir / "registry.log"
    with open(log, "wb") as out:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            _java(home, port, management_port),
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _RUNNING[proc.pid] = proc
    url = f"http://127.0.0.1:{port}{CCOMPAT}"
    try:
        _wait_ready(port, proc, log, timeout)
        set_compatibility(url)
    except BaseException:
        _stop_pid(proc.pid)
        raise
    return RegistryHandle(url=url, pid=proc.pid, workdir=str(workdir), port=port)


def _stop_pid(pid: int, grace: float = 15) -> None:
    proc = _RUNNING.pop(pid, None)
    if proc is None:  # started by another process (`registry.py start`): poll for it
        _kill(pid, grace)
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        proc.wait(timeout=grace)


def stop(handle: RegistryHandle) -> None:
    _stop_pid(handle.pid)
    shutil.rmtree(handle.workdir, ignore_errors=True)


@contextlib.contextmanager
def running() -> Iterator[str]:
    """The registry named by EVENT_EXPLORER_REGISTRY_URL, or a fresh one for the duration."""
    given = os.environ.get(URL_VARIABLE)
    if given:
        yield given.rstrip("/")
        return
    handle = start()
    try:
        yield handle.url
    finally:
        stop(handle)


def main(argv: list[str]) -> int:
    # --state FILE: where start records the registry for stop (several runs side by side).
    state = STATE_FILE
    if "--state" in argv:
        at = argv.index("--state")
        state = Path(argv[at + 1])
        argv = argv[:at] + argv[at + 2 :]
    if argv[:1] == ["start"]:
        CACHE.mkdir(parents=True, exist_ok=True)
        handle = start()
        state.write_text(json.dumps(asdict(handle)))
        print(handle.url)
        return 0
    if argv[:1] == ["stop"]:
        if not state.exists():
            print("no registry started by this script is running", file=sys.stderr)
            return 0
        stop(RegistryHandle(**json.loads(state.read_text())))
        state.unlink()
        return 0
    if argv[:1] == ["fetch"]:
        print(ensure_app())
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
