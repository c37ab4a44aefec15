"""Finding folds: entry points, the user's folder, --folds paths, examples; reloading."""

from __future__ import annotations

import importlib
import os
import sys
import textwrap
from pathlib import Path

import pytest
from evfactory import BASE_MS, envelope

from app.replay.discovery import (
    FoldLibrary,
    FoldWatcher,
    discover_folds,
    examples_dir,
    load_fold_file,
)
from app.replay.folds import Origin
from app.replay.replayer import Replayer


def write(path: Path, body: str, *, bump: int = 0) -> Path:
    path.write_text(textwrap.dedent(body))
    if bump:  # make the change visible even on coarse-mtime filesystems
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump * 1_000_000_000))
    return path


FOLD = """
from app.folds import fold

@fold("{name}", topics=["{topic}"])
def f(state, event):
    return {value}
"""


def fold_file(path: Path, name: str, value: str = "'v1'", topic: str = "*", bump: int = 0) -> Path:
    return write(path, FOLD.format(name=name, value=value, topic=topic), bump=bump)


def library(tmp_path: Path, *paths: Path, entry_points: bool = False) -> FoldLibrary:
    return discover_folds(
        paths, user_dir=tmp_path / "user", use_examples=False, use_entry_points=entry_points
    )


def apply(lib: FoldLibrary, name: str) -> object:
    ev = envelope("t", 0, 0, BASE_MS, "a", "T", {})
    return Replayer.from_events([ev], lib.registry.get(name)).state()


def test_a_file_given_as_a_path(tmp_path: Path) -> None:
    f = fold_file(tmp_path / "mine.py", "mine")
    lib = library(tmp_path, f)
    spec = lib.registry.get("mine")
    assert spec.source == str(f.resolve()) and spec.origin is Origin.PATH
    assert apply(lib, "mine") == "v1"
    assert not lib.errors


def test_a_folder_given_as_a_path_and_the_user_folder(tmp_path: Path) -> None:
    given = tmp_path / "given"
    given.mkdir()
    fold_file(given / "a.py", "a")
    fold_file(given / "_private.py", "private")  # skipped
    (tmp_path / "user").mkdir()
    fold_file(tmp_path / "user" / "b.py", "b")
    lib = library(tmp_path, given)
    assert {"a", "b"} <= set(lib.registry.names())
    assert "private" not in lib.registry
    assert lib.registry.get("b").origin is Origin.USER_FOLDER


def test_missing_paths_and_broken_files_are_errors_not_crashes(tmp_path: Path) -> None:
    broken = write(tmp_path / "broken.py", "def oops(:\n")
    raises = write(tmp_path / "raises.py", "raise RuntimeError('at import')\n")
    lib = library(tmp_path, broken, raises, tmp_path / "nope.py")
    assert set(lib.errors) == {
        str(broken.resolve()),
        str(raises.resolve()),
        str(tmp_path / "nope.py"),
    }
    assert "SyntaxError" in lib.errors[str(broken.resolve())].message
    assert "at import" in lib.errors[str(raises.resolve())].traceback
    assert "merge" in lib.registry  # the rest still works


def test_the_examples_are_found() -> None:
    lib = discover_folds(use_user_dir=False, use_entry_points=False)
    assert {"bank-account", "order", "property-listing"} <= set(lib.registry.names())
    assert lib.registry.for_topic("bank-accounts").name == "bank-account"
    assert lib.registry.for_topic("orders").name == "order"
    assert lib.registry.for_topic("property-listings").name == "property-listing"
    assert all(Path(s.source).parent == examples_dir().resolve()
               for s in lib.registry.specs() if s.origin is Origin.EXAMPLE)  # fmt: skip


def test_user_folds_override_examples(tmp_path: Path) -> None:
    (tmp_path / "user").mkdir()
    fold_file(tmp_path / "user" / "bank.py", "bank-account", "'mine'", topic="bank-*")
    lib = discover_folds(user_dir=tmp_path / "user", use_entry_points=False)
    assert lib.registry.get("bank-account").origin is Origin.USER_FOLDER
    assert lib.registry.shadowed and lib.registry.shadowed[0][0].origin is Origin.EXAMPLE


def make_distribution(root: Path, module: str, entry_points: str) -> None:
    """A tiny installed distribution: a module plus its .dist-info with entry points."""
    dist = root / f"fold_plugin_{module}-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: fold-plugin-{module}\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text("[event_explorer.folds]\n" + entry_points)


def test_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    write(
        site / "plugmod.py",
        """
        from app.folds import fold

        @fold("plug-module", topics=["orders"])
        def one(state, event):
            return "module"

        @fold("plug-class")
        class Two:
            def on_T(self, state, event):
                return "class"

        def plain(state, event):
            return "plain"
    """,
    )
    make_distribution(
        site, "plugmod",
        "mod = plugmod\nplain-callable = plugmod:plain\nbroken = plugmod:missing\n",
    )  # fmt: skip
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    try:
        lib = library(tmp_path, entry_points=True)
        names = set(lib.registry.names())
        assert {"plug-module", "plug-class", "plain-callable"} <= names
        spec = lib.registry.get("plug-module")
        assert spec.origin is Origin.ENTRY_POINT and "fold-plugin-plugmod" in spec.source
        assert apply(lib, "plain-callable") == "plain"
        assert apply(lib, "plug-class") == "class"
        assert any("broken" in source for source in lib.errors)
        # a second discovery, with the module already imported, finds the same folds
        again = library(tmp_path, entry_points=True)
        assert {"plug-module", "plug-class"} <= set(again.registry.names())
    finally:
        sys.modules.pop("plugmod", None)


def test_reload_changed_new_and_deleted_files(tmp_path: Path) -> None:
    folder = tmp_path / "folds"
    folder.mkdir()
    f = fold_file(folder / "f.py", "f", "'v1'")
    lib = library(tmp_path, folder)
    watcher = FoldWatcher(lib)
    assert watcher.poll() == []
    assert apply(lib, "f") == "v1"

    fold_file(folder / "f.py", "f", "'v2'", bump=1)
    assert watcher.poll() == [f.resolve()]
    assert apply(lib, "f") == "v2"

    g = fold_file(folder / "g.py", "g")
    assert watcher.poll() == [g.resolve()]
    assert "g" in lib.registry

    # a rename inside the file drops the old name
    fold_file(folder / "g.py", "g2", bump=2)
    watcher.poll()
    assert "g2" in lib.registry and "g" not in lib.registry

    g.unlink()
    assert watcher.poll() == [g.resolve()]
    assert "g2" not in lib.registry


def test_a_broken_edit_keeps_the_last_good_fold(tmp_path: Path) -> None:
    f = fold_file(tmp_path / "f.py", "f", "'good'")
    lib = library(tmp_path, f)
    watcher = FoldWatcher(lib)
    write(f, "this is not python\n", bump=1)
    watcher.poll()
    assert str(f.resolve()) in lib.errors
    assert apply(lib, "f") == "good"
    fold_file(f, "f", "'fixed'", bump=2)
    watcher.poll()
    assert str(f.resolve()) not in lib.errors
    assert apply(lib, "f") == "fixed"


def test_no_bytecode_is_written_next_to_fold_files(tmp_path: Path) -> None:
    f = fold_file(tmp_path / "f.py", "f")
    specs = load_fold_file(f)
    assert [s.name for s in specs] == ["f"]
    assert not (tmp_path / "__pycache__").exists()


def test_describe_lists_every_fold_with_its_origin(tmp_path: Path) -> None:
    f = fold_file(tmp_path / "f.py", "f")
    rows = library(tmp_path, f).describe()
    assert {"name": "f", "topics": ["*"], "source": str(f.resolve()), "origin": "path",
            "description": ""} in rows  # fmt: skip
    assert rows[0]["origin"] == "built in"


def test_a_load_error_is_one_readable_line_naming_the_file_and_line(tmp_path: Path) -> None:
    body = "from app.replay.folds import fold\n\n\n\n\n\ndef f(state, event)\n    return state\n"
    broken = write(tmp_path / "my_fold.py", body)  # the ':' is missing on line 7
    lib = library(tmp_path, broken)
    err = lib.errors[str(broken.resolve())]
    assert err.message == "my_fold.py, line 7: SyntaxError: expected ':'"
    assert err.line == 7
    assert "SyntaxError" in err.traceback and "my_fold.py" in err.traceback


def test_an_error_raised_at_import_names_the_line_in_the_fold_file(tmp_path: Path) -> None:
    # The failure happens inside a helper called from line 5: the fold file's line is
    # what the user can act on; a multi-line message is folded into the one line.
    body = "import json\n\n\ndef helper():\n    return json.loads('{')\n\nvalue = helper()\n"
    raises = write(tmp_path / "raises.py", body)
    multiline = write(tmp_path / "multi.py", "raise ValueError('first\\nsecond')\n")
    lib = library(tmp_path, raises, multiline)
    err = lib.errors[str(raises.resolve())]
    assert err.message.startswith("raises.py, line 5: JSONDecodeError: ")
    assert err.line == 5
    multi = lib.errors[str(multiline.resolve())]
    assert multi.message == "multi.py, line 1: ValueError: first second"
    assert "\n" not in multi.message and "\\n" not in multi.message


def test_errors_of_given_paths_and_their_folds_are_told_apart(tmp_path: Path) -> None:
    (tmp_path / "user").mkdir()
    write(tmp_path / "user" / "broken_user.py", "def oops(:\n")
    given = fold_file(tmp_path / "given.py", "given")
    broken = write(tmp_path / "broken_given.py", "def oops(:\n")
    lib = library(tmp_path, given, broken, tmp_path / "missing.py")
    assert len(lib.errors) == 3
    assert sorted(e.source for e in lib.given_errors()) == sorted(
        [str(broken.resolve()), str(tmp_path / "missing.py")]
    )
    assert [s.name for s in lib.given_specs()] == ["given"]
    missing = next(e for e in lib.given_errors() if e.source.endswith("missing.py"))
    assert missing.message == f"{tmp_path / 'missing.py'}: no such file or folder"
