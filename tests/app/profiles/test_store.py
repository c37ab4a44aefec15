"""Where profiles are kept, and what is written there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.profiles import Profile, ProfileNotFound, ProfileStore
from app.profiles.store import CONFIG_ENV, default_root


def test_profiles_live_in_the_config_folder_one_file_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "cfg"))
    assert default_root() == tmp_path / "cfg" / "profiles"
    store = ProfileStore()
    assert store.names() == []
    store.save(Profile("prod", "b:9092", locked_topics=("orders.*",)))
    store.save(Profile("dev", "localhost:9092"))
    assert store.names() == ["dev", "prod"]
    assert sorted(p.name for p in store.root.iterdir()) == [
        "dev.evx-profile",
        "prod.evx-profile",
    ]
    assert store.load("prod").locked_topics == ("orders.*",)
    store.save(Profile("prod", "b2:9092"))  # replaced whole, no temp file left
    assert store.load("prod").bootstrap == "b2:9092"
    assert sorted(os.listdir(store.root)) == ["dev.evx-profile", "prod.evx-profile"]
    assert store.delete("dev") and not store.delete("dev")
    with pytest.raises(ProfileNotFound, match="no profile named 'dev'"):
        store.load("dev")


def test_a_renamed_file_is_the_profile_of_its_file_name(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    path = store.save(Profile("old", "b:9092"))
    path.rename(tmp_path / "new.evx-profile")
    assert store.load("new").name == "new"


@pytest.mark.parametrize("name", ["", "../etc", "a/b", ".hidden", "x" * 65, "sp ace"])
def test_names_that_are_not_safe_file_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="profile name"):
        ProfileStore(tmp_path).path(name)
