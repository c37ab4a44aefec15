"""The Linux package: built by resources/packaging/build-deb, installed with apt as a user
would, used (GUI offscreen, CLI on the real broker, the bundled demo and folds, worker
processes), then removed.

Installing needs root (CI runs as root); a developer skips all of this with
``-m "not packaging"``, or reuses a package with ``EVENT_EXPLORER_DEB=path``.  The tests
run in file order: the last one removes the package (the fixture removes it too if that
test did not run).
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import deb_package as deb_pkg
import pytest
from deb_package import APP_DIR, COMMAND, INTERNAL, PackagingError
from kafka_helpers import Rec, produce

ROOT = Path(__file__).resolve().parents[2]
SIZE_GOAL_MB = 120
DEMO = INTERNAL / "resources" / "demo.avro"
# The system libraries the frozen Qt loads for its offscreen and X11 platforms: named
# here by hand, so a Depends computed wrongly cannot pass.
QT_RUNTIME_PACKAGES = {
    "libegl1", "libgl1", "libxkbcommon0", "libxkbcommon-x11-0", "libfontconfig1",
    "libfreetype6", "libdbus-1-3", "libglib2.0-0", "libxcb1", "libxcb-cursor0",
    "libxcb-icccm4", "libxcb-keysyms1", "libx11-6",
}  # fmt: skip
# Libraries a desktop system provides: the bundle must not carry its own copies.
SYSTEM_LIBRARY_NAMES = re.compile(
    r"^(libstdc\+\+|libgcc_s|libglib-2|libX11|libxcb|libfontconfig|libfreetype|libEGL|libGL"
    r"|libdbus|libssl|libcrypto|libz\.)"
)

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(deb_pkg.BUILD_TIMEOUT_S + 600)]


@dataclass(frozen=True)
class Installed:
    seconds: float
    files: list[Path]


def _cannot_run(reason: str) -> None:
    """Skip, on a developer's machine; in CI, which must run these tests, fail."""
    if os.environ.get("CI"):
        pytest.fail(f"CI runs the packaging tests, but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    missing = deb_pkg.missing_tools()
    if missing:
        _cannot_run(f"the packaging tests need Debian's {', '.join(missing)}")
    try:
        built = deb_pkg.build(tmp_path_factory.mktemp("deb") / "build-deb.log")
    except PackagingError as exc:
        pytest.fail(str(exc))
    size = built.path.stat().st_size / 1e6
    print(f"\n{built.path.name}: {size:.1f} MB, built in {built.seconds:.0f} s")
    return built.path


@pytest.fixture(scope="module")
def unpacked(deb: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The package's files, unpacked without installing (200 MB: deleted after)."""
    root = tmp_path_factory.mktemp("unpacked")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True, timeout=300)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def installed(deb: Path) -> Iterator[Installed]:
    if os.geteuid() != 0:
        _cannot_run(
            "installing the .deb needs root (CI runs as root): run the tests as root, "
            "or skip them with -m 'not packaging'"
        )
    if deb_pkg.is_installed():
        _cannot_run(
            "event-explorer is already installed on this machine and these tests would "
            "remove it: remove it first (dpkg -r event-explorer)"
        )
    try:
        seconds = deb_pkg.install(deb)
    except PackagingError as exc:
        pytest.fail(str(exc))
    print(f"\napt-get install took {seconds:.1f} s")
    yield Installed(seconds, deb_pkg.installed_files())
    if deb_pkg.is_installed():
        done = deb_pkg.remove()
        assert done.returncode == 0, f"could not remove event-explorer: {done.stderr}"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The home folder of the user who runs the installed app."""
    return tmp_path_factory.mktemp("home")


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-3000:]}"
    return done.stdout


def _installed_json(args: list[str], home: Path) -> list[dict[str, object]]:
    """What the installed CLI prints for ``args``, one JSON object per line."""
    return _json_lines(_ok(deb_pkg.run_installed(args, home)))


# --- the package, unpacked --------------------------------------------------------------


def test_package_is_within_the_size_goal(deb: Path) -> None:
    assert deb.stat().st_size <= SIZE_GOAL_MB * 1_000_000


def test_depends_names_the_qt_runtime_libraries(deb: Path) -> None:
    field = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Depends"], capture_output=True, text=True, check=True
    ).stdout
    depends = {name.strip().split(" ")[0] for name in field.split(",")}
    assert depends >= QT_RUNTIME_PACKAGES, QT_RUNTIME_PACKAGES - depends


def test_every_library_resolves_and_system_ones_are_declared(deb: Path, unpacked: Path) -> None:
    """Resolved as the dynamic loader does at run time (the bundle's folders first, as
    the frozen app sets them): nothing is missing, and each system library a bundled
    file links to directly belongs to a package the .deb depends on."""
    field = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Depends"], capture_output=True, text=True, check=True
    ).stdout
    depends = {name.strip().split(" ")[0] for name in field.split(",")}
    app = unpacked / APP_DIR.relative_to("/")
    elves = [p for p in app.rglob("*") if p.is_file() and p.read_bytes()[:4] == b"\x7fELF"]
    assert len(elves) > 100
    lib_dirs = sorted({str(p.parent) for p in app.rglob("*.so*")})
    env = {"PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": ":".join(lib_dirs)}
    system_paths: set[str] = set()
    for elf in elves:
        needed = re.findall(
            r"\(NEEDED\).*\[(.+)\]",
            subprocess.run(["readelf", "-d", str(elf)], capture_output=True, text=True).stdout,
        )
        resolved = subprocess.run(["ldd", str(elf)], capture_output=True, text=True, env=env)
        assert "not found" not in resolved.stdout, f"{elf}:\n{resolved.stdout}"
        for soname, path in re.findall(r"^\s*(\S+) => (/\S+)", resolved.stdout, re.M):
            if soname in needed and not path.startswith(str(unpacked)):
                system_paths.add(path)
    assert system_paths
    owners = subprocess.run(
        ["dpkg", "-S", *sorted(system_paths)], capture_output=True, text=True
    ).stdout
    packages = {line.split(":")[0] for line in owners.splitlines()}
    assert packages <= depends, packages - depends


def test_bundle_has_its_own_python_and_not_the_systems_libraries(unpacked: Path) -> None:
    internal = unpacked / INTERNAL.relative_to("/")
    assert list(internal.glob("libpython3.*.so*")), "no libpython in the bundle"
    carried = [p.name for p in internal.rglob("*.so*") if SYSTEM_LIBRARY_NAMES.match(p.name)]
    assert carried == []


def test_bundle_ships_the_demo_and_the_example_folds_as_source(unpacked: Path) -> None:
    internal = unpacked / INTERNAL.relative_to("/")
    shipped_demo = internal / "resources" / "demo.avro"
    assert shipped_demo.read_bytes() == (ROOT / "resources" / "demo.avro").read_bytes()
    examples = [p for p in (ROOT / "resources" / "folds").glob("*.py") if p.name[0] != "_"]
    assert len(examples) >= 3
    for example in examples:
        shipped = internal / "resources" / "folds" / example.name
        assert shipped.read_text() == example.read_text(), example.name


def test_desktop_entry_icons_and_file_types(unpacked: Path) -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(unpacked / "usr/share/applications/event-explorer.desktop")
    desktop = entry["Desktop Entry"]
    program = Path(desktop["Exec"].split()[0])
    assert os.access(unpacked / program.relative_to("/"), os.X_OK), program
    assert (unpacked / "usr/share/icons/hicolor/scalable/apps" / f"{desktop['Icon']}.svg").is_file()
    assert (unpacked / "usr/share/icons/hicolor/256x256/apps" / f"{desktop['Icon']}.png").is_file()
    assert (unpacked / "usr/bin/event-explorer").readlink() == APP_DIR / "event-explorer"
    mime = ET.parse(unpacked / "usr/share/mime/packages/event-explorer.xml").getroot()
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    globs = {
        t.get("type"): {g.get("pattern") for g in t.findall("m:glob", ns)}
        for t in mime.findall("m:mime-type", ns)
    }
    assert globs["application/x-event-explorer-profile"] == {"*.evx-profile"}
    assert "*.avro" in globs["application/vnd.apache.avro"]
    assert set(filter(None, desktop["MimeType"].split(";"))) == set(globs)


# --- installed ----------------------------------------------------------------------------


def test_dpkg_without_the_qt_libraries_refuses_and_names_them(
    deb: Path, installed: Installed, tmp_path: Path
) -> None:
    """On a machine without the libraries (an empty system, here a private root), plain
    dpkg -i leaves the app unconfigured and says which packages are missing."""
    admin = tmp_path / "var/lib/dpkg"
    for sub in ("updates", "info", "triggers"):
        (admin / sub).mkdir(parents=True)
    for name in ("status", "available"):
        (admin / name).touch()
    done = subprocess.run(
        ["dpkg", f"--root={tmp_path}", "--force-script-chrootless", "-i", str(deb)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode != 0
    assert "dependency problems" in done.stderr
    for package in ("libegl1", "libxcb-cursor0", "libfontconfig1"):
        assert f"event-explorer depends on {package}" in done.stderr
    status = (admin / "status").read_text()
    shutil.rmtree(tmp_path / "opt", ignore_errors=True)  # 200 MB
    assert "Status: install ok unpacked" in status


def test_self_test_shows_the_demo_offscreen(installed: Installed, home: Path) -> None:
    out = _ok(deb_pkg.run_installed(["--self-test"], home))
    match = re.search(r"self-test ok: (\d+) events in (\S+)", out)
    assert match, out
    assert int(match.group(1)) > 0


def test_runs_with_no_python_on_the_target(installed: Installed, home: Path) -> None:
    """No PYTHONHOME/PYTHONPATH or virtualenv; every library loaded that belongs to a
    Python comes from the bundle; a stray Python environment cannot reach it."""
    traced = deb_pkg.run_installed(["folds", "--json"], home, LD_DEBUG="libs")
    listed = _ok(traced)
    loaded = re.findall(r"calling init: (\S+)", traced.stderr)
    assert any("libpython3" in path for path in loaded)
    pythonish = [p for p in loaded if "python" in p.lower() and not p.startswith(str(APP_DIR))]
    assert pythonish == []
    stray = deb_pkg.run_installed(
        ["folds", "--json"], home, PYTHONHOME="/nonexistent", PYTHONPATH="/nonexistent"
    )
    assert _ok(stray) == listed


def test_cli_lists_topics_and_prints_events_from_the_broker(
    installed: Installed, home: Path, kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(2)
    sent = [(f"acc-{i % 3}", "MoneyDeposited" if i % 2 else "AccountOpened") for i in range(6)]
    produce(
        kafka_bootstrap,
        topic,
        [Rec(json.dumps({"eventType": t, "aggregateId": a, "i": i}).encode(), key=a.encode())
         for i, (a, t) in enumerate(sent)],
    )  # fmt: skip
    topics = _installed_json(["topics", "-b", kafka_bootstrap, "--json"], home)
    mine = [t for t in topics if t["topic"] == topic]
    assert mine and mine[0]["partitions"] == 2 and mine[0]["count"] == 6
    events = _installed_json(["events", "-b", kafka_bootstrap, "-t", topic, "--json"], home)
    assert sorted((e["aggregate"], e["type"]) for e in events) == sorted(sent)


def test_reads_the_bundled_demo_as_the_source_tree_does(
    installed: Installed, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["events", "--file", str(DEMO), "-t", "bank-accounts", "--limit", "5", "--json"]
    frozen = _installed_json(args, home)
    assert len(frozen) == 5 and {e["topic"] for e in frozen} == {"bank-accounts"}
    from app.cli.main import main

    capsys.readouterr()
    assert main([*args[:2], str(ROOT / "resources" / "demo.avro"), *args[3:]]) == 0
    assert frozen == _json_lines(capsys.readouterr().out)


def test_state_of_a_demo_account_matches_the_source_tree(
    installed: Installed, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first_event = ["events", "--file", str(DEMO), "-t", "bank-accounts", "--limit", "1", "--json"]
    first = _installed_json(first_event, home)[0]
    account = str(first["aggregate"])
    tail = ["-t", "bank-accounts", "-a", account, "--fold", "bank-account", "--json"]
    frozen = _ok(deb_pkg.run_installed(["state", "--file", str(DEMO), *tail], home))
    from app.cli.main import main

    capsys.readouterr()
    assert main(["state", "--file", str(ROOT / "resources" / "demo.avro"), *tail]) == 0
    assert json.loads(frozen) == json.loads(capsys.readouterr().out)


def test_folds_lists_the_shipped_examples(installed: Installed, home: Path) -> None:
    names = {
        m.group(1)
        for p in (ROOT / "resources" / "folds").glob("*.py")
        for m in re.finditer(r'@fold\(\s*"([^"]+)"', p.read_text())
    }
    assert len(names) >= 3
    listed = {f["name"]: f for f in _installed_json(["folds", "--json"], home)}
    assert names <= set(listed)
    for name in names:
        assert str(listed[name]["source"]).startswith(str(INTERNAL)), listed[name]


def test_reading_leaves_committed_offsets_untouched(
    installed: Installed, home: Path, kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    from group_offsets import commit_some, committed_by_group

    topic = make_topic(3)
    produce(kafka_bootstrap, topic,
            [Rec(f'{{"eventType":"E","i":{i}}}'.encode(), key=f"k{i % 7}".encode())
             for i in range(90)])  # fmt: skip
    group = commit_some(kafka_bootstrap, topic, at_least=40)
    before = committed_by_group(kafka_bootstrap, topic)
    assert set(before) == {group}
    b = ["-b", kafka_bootstrap]
    _ok(deb_pkg.run_installed(["topics", *b, "--json"], home))
    _ok(deb_pkg.run_installed(["events", *b, "-t", topic, "--json"], home))
    _ok(deb_pkg.run_installed(["events", *b, "-t", topic, "--aggregate", "k3"], home))
    _ok(deb_pkg.run_installed(["state", *b, "-t", topic, "-a", "k3", "--fold", "merge"], home))
    assert committed_by_group(kafka_bootstrap, topic) == before


def test_the_installed_executable_works_as_a_worker_process(installed: Installed) -> None:
    from kafka_io.murmur2 import partition_for_key

    probe = Path(__file__).with_name("worker_probe.py")
    done = subprocess.run(
        [sys.executable, str(probe), str(COMMAND), "acc-17", "12"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    answer = json.loads(_ok(done).splitlines()[-1])
    assert answer["frozen"] is True and answer["bundle"] == str(INTERNAL)
    assert str(answer["module"]).startswith(str(INTERNAL))
    assert answer["partition"] == partition_for_key(b"acc-17", 12)
    assert answer["exitcode"] == 0


def test_desktop_launcher_opens_a_double_clicked_event_file(
    installed: Installed, home: Path
) -> None:
    export = home / "Downloads" / "export.avro"
    export.parent.mkdir(exist_ok=True)
    shutil.copyfile(DEMO, export)
    launcher = APP_DIR / "event-explorer-desktop"
    done = subprocess.run(
        [str(launcher), str(export), "--self-test"], env=deb_pkg.clean_env(home),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "self-test ok" in _ok(done)
    # The MIME database learned the package's types (its trigger ran on install).
    assert Path("/usr/share/mime/application/x-event-explorer-profile.xml").is_file()


def test_removal_leaves_only_the_users_own_files(installed: Installed, home: Path) -> None:
    user_files = sorted(p for p in home.rglob("*") if p.is_file())
    done = deb_pkg.remove()
    assert done.returncode == 0, done.stderr
    assert not deb_pkg.is_installed()
    assert not APP_DIR.exists() and not COMMAND.is_symlink() and not COMMAND.exists()
    left = [p for p in installed.files if (p.exists() or p.is_symlink()) and not p.is_dir()]
    assert left == []
    assert not Path("/usr/share/mime/application/x-event-explorer-profile.xml").exists()
    assert sorted(p for p in home.rglob("*") if p.is_file()) == user_files
