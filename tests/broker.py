"""A real single-node Apache Kafka 4.x (KRaft, combined broker+controller) for tests.

    python tests/broker.py start [--state FILE] [--secure]  # prints HOST:PORT, leaves it running
    python tests/broker.py stop [--state FILE]

``--secure`` (``start(secure=True)``) adds a SASL_SSL listener beside the plaintext one:
SCRAM-SHA-512 over TLS, with a CA and a broker certificate made by ``openssl`` in the
broker's temp dir and one user with a random password, so a wrong password is really
refused.  Its bootstrap, CA file, user and password are in the handle (and the state file).

The broker jars come from Maven Central through ``mvn dependency:copy-dependencies``
(``tests/kafka-pom.xml``) and are cached under ``~/.cache/event-explorer-tests`` so a
second run downloads nothing.  The pytest fixtures use the same functions.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import broker_tls

HERE = Path(__file__).resolve().parent
POM = HERE / "kafka-pom.xml"
CACHE = Path(
    os.environ.get("EVENT_EXPLORER_TEST_CACHE", Path.home() / ".cache/event-explorer-tests")
)
STATE_FILE = CACHE / "broker.json"

LOG4J2 = """\
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.file.ref = FILE
logger.server.name = kafka.server.KafkaServer
logger.server.level = info
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = info
"""


# Brokers started by this process: kept so their Popen objects are reaped on stop,
# not collected (with a ResourceWarning) while the broker still runs.
_RUNNING: dict[int, subprocess.Popen[bytes]] = {}


@dataclass
class BrokerHandle:
    bootstrap: str
    pid: int
    workdir: str
    secure: broker_tls.SecureListener | None = None

    @classmethod
    def from_json(cls, data: dict) -> BrokerHandle:
        secure = data.get("secure")
        return cls(
            data["bootstrap"],
            data["pid"],
            data["workdir"],
            broker_tls.SecureListener(**secure) if isinstance(secure, dict) else None,
        )


def _pom_version() -> str:
    text = POM.read_text()
    start = text.index("<kafka.version>") + len("<kafka.version>")
    return text[start : text.index("</kafka.version>")]


def ensure_jars() -> Path:
    """The broker's classpath folder, fetched through Maven the first time."""
    libs = CACHE / f"kafka-{_pom_version()}" / "libs"
    if (libs / ".complete").exists():
        return libs
    staging = libs.with_name("libs.partial")
    shutil.rmtree(staging, ignore_errors=True)
    cmd = [
        "mvn",
        "-q",
        "-B",
        "-f",
        str(POM),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
        "-DincludeScope=runtime",
    ]
    print("fetching Kafka jars from Maven Central ...", file=sys.stderr)
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    (libs / ".complete").write_text(_pom_version())
    return libs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _java(libs: Path, log4j: Path, *args: str) -> list[str]:
    return [
        os.environ.get("JAVA", "java"),
        "-Xms256m",
        "-Xmx1g",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={log4j}",
        "-cp",
        f"{libs}/*",
        *args,
    ]


def _wait_ready(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Ready when the broker answers a metadata request (not merely accepts TCP)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Kafka exited with {proc.returncode}; see {log}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                time.sleep(0.2)
                continue
        try:
            from confluent_kafka.admin import AdminClient

            admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{port}", "log_level": 0})
            md = admin.list_topics(timeout=2)
            if md.brokers:
                return
        except ImportError:  # run outside the venv: an open port is the best we can see
            time.sleep(2)
            return
        except Exception:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"Kafka did not become ready in {timeout:.0f}s; see {log}")


def start(timeout: float = 90, secure: bool = False) -> BrokerHandle:
    """Start a fresh broker on free loopback ports in a temp dir; return its handle.

    ``secure``: also a SASL_SSL listener (SCRAM-SHA-512 over TLS) with one user."""
    libs = ensure_jars()
    workdir = Path(tempfile.mkdtemp(prefix="ee-kafka-"))
    port, cport = _free_port(), _free_port()
    log = workdir / "server.log"
    log4j = workdir / "log4j2.properties"
    log4j.write_text(LOG4J2.format(log=log))
    listeners = [f"PLAINTEXT://127.0.0.1:{port}"]
    protocols = ["CONTROLLER:PLAINTEXT", "PLAINTEXT:PLAINTEXT"]
    extra: list[str] = []
    listener: broker_tls.SecureListener | None = None
    if secure:
        listener, extra = broker_tls.secure_listener(workdir, _free_port())
        listeners.append(f"SASL_SSL://{listener.bootstrap}")
        protocols.append("SASL_SSL:SASL_SSL")
    props = workdir / "server.properties"
    props.write_text(
        "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{cport}",
                f"listeners={','.join(listeners)},CONTROLLER://127.0.0.1:{cport}",
                f"advertised.listeners={','.join(listeners)}",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                f"listener.security.protocol.map={','.join(protocols)}",
                *extra,
                f"log.dirs={workdir / 'data'}",
                "num.partitions=1",
                "auto.create.topics.enable=false",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=4",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "message.max.bytes=16777216",
                "replica.fetch.max.bytes=16777216",
                # Tests write records with timestamps years old: never expire them.
                "log.retention.ms=-1",
                "log.retention.check.interval.ms=3600000",
                # The log cleaner looks for work every half second (Kafka's default is
                # 15 s), so a test of a compacted topic sees compaction within seconds.
                "log.cleaner.backoff.ms=500",
                "",
            ]
        )
    )
    cluster_id = _cluster_id()
    format_args = ["format", "-t", cluster_id, "-c", str(props)]
    if listener is not None:
        # The user exists in the metadata log from the start: nothing to wait for.
        scram = f"{listener.mechanism}=[name={listener.user},password={listener.password}]"
        format_args += ["--add-scram", scram]
    subprocess.run(
        _java(libs, log4j, "kafka.tools.StorageTool", *format_args),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return _launch(libs, workdir, port, timeout, listener)


def _launch(
    libs: Path,
    workdir: Path,
    port: int,
    timeout: float,
    listener: broker_tls.SecureListener | None = None,
) -> BrokerHandle:
    """Run the broker of ``workdir`` (already formatted) and wait until it answers."""
    log, log4j, props = (
        workdir / "server.log",
        workdir / "log4j2.properties",
        workdir / "server.properties",
    )
    with open(workdir / "stdout.log", "ab") as out:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            _java(libs, log4j, "kafka.Kafka", str(props)),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _RUNNING[proc.pid] = proc
    try:
        _wait_ready(port, proc, log, timeout)
    except BaseException:
        _stop_pid(proc.pid)
        raise
    return BrokerHandle(
        bootstrap=f"127.0.0.1:{port}", pid=proc.pid, workdir=str(workdir), secure=listener
    )


def restart(handle: BrokerHandle, down_s: float = 0.0, timeout: float = 90) -> BrokerHandle:
    """Stop the broker (SIGTERM, its data kept), wait ``down_s``, start it again on the
    same ports: what clients see as a broker that went away and came back."""
    _stop_pid(handle.pid)
    time.sleep(down_s)
    port = int(handle.bootstrap.rsplit(":", 1)[1])
    return _launch(ensure_jars(), Path(handle.workdir), port, timeout, handle.secure)


def _cluster_id() -> str:
    """A KRaft cluster id: a random UUID in Kafka's url-safe base64 form."""
    import base64

    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if text[0].isalnum():  # "-C_ul..." would be read by the storage tool as an option
            return text


def _kill(pid: int, grace: float = 15) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not our child: poll for existence instead
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            done = 0
        if done:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _stop_pid(pid: int, grace: float = 15) -> None:
    proc = _RUNNING.pop(pid, None)
    if proc is None:  # started by another process (`broker.py start`): poll for it
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


def stop(handle: BrokerHandle) -> None:
    _stop_pid(handle.pid)
    shutil.rmtree(handle.workdir, ignore_errors=True)


@contextlib.contextmanager
def running() -> Iterator[str]:
    """The broker named by EVENT_EXPLORER_BOOTSTRAP, or a fresh one for the duration."""
    given = os.environ.get("EVENT_EXPLORER_BOOTSTRAP")
    if given:
        yield given
        return
    handle = start()
    try:
        yield handle.bootstrap
    finally:
        stop(handle)


def main(argv: list[str]) -> int:
    # --state FILE: where start records the broker for stop (several runs side by side).
    state = STATE_FILE
    if "--state" in argv:
        at = argv.index("--state")
        state = Path(argv[at + 1])
        argv = argv[:at] + argv[at + 2 :]
    secure = "--secure" in argv
    argv = [a for a in argv if a != "--secure"]
    if argv[:1] == ["start"]:
        CACHE.mkdir(parents=True, exist_ok=True)
        handle = start(secure=secure)
        # The state file holds the test user's password: readable by this user only.
        state.touch(mode=0o600)
        state.chmod(0o600)
        state.write_text(json.dumps(asdict(handle)))
        print(handle.bootstrap)
        return 0
    if argv[:1] == ["stop"]:
        if not state.exists():
            print("no broker started by this script is running", file=sys.stderr)
            return 0
        stop(BrokerHandle.from_json(json.loads(state.read_text())))
        state.unlink()
        return 0
    if argv[:1] == ["fetch"]:
        print(ensure_jars())
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
