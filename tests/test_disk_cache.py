"""The disk cache: a hit only for the same inputs and code, never a planted or damaged entry."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

import labcheck
from labcheck import disk_cache


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "cache"
    monkeypatch.setenv("LABCHECK_CACHE_DIR", str(where))
    monkeypatch.delenv("LABCHECK_NO_CACHE", raising=False)
    return where


def test_a_value_comes_back_under_its_key_only(folder: Path) -> None:
    key = disk_cache.cache_key("lab", b"bytes")
    assert disk_cache.load(key) is None
    disk_cache.store(key, {"a": (1, 2)})
    assert disk_cache.load(key) == {"a": (1, 2)}
    assert disk_cache.load(disk_cache.cache_key("lab", b"bytes!")) is None
    assert disk_cache.cache_key("ab", "c") != disk_cache.cache_key("a", "bc")  # parts cannot be re-split
    (entry,) = folder.iterdir()
    assert entry.stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700


def test_another_labcheck_misses(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = disk_cache.cache_key("x")
    monkeypatch.setattr(labcheck, "__version__", "9.9.9")
    disk_cache.code_fingerprint.cache_clear()
    try:
        assert disk_cache.cache_key("x") != key
    finally:
        disk_cache.code_fingerprint.cache_clear()


def test_an_edited_module_misses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkout edited since: the fingerprint covers each module's size and time."""
    before = disk_cache.code_fingerprint()
    module = Path(labcheck.__file__).parent / "text.py"
    info = module.stat()
    try:
        os.utime(module, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
        disk_cache.code_fingerprint.cache_clear()
        assert disk_cache.code_fingerprint() != before
    finally:
        os.utime(module, ns=(info.st_atime_ns, info.st_mtime_ns))
        disk_cache.code_fingerprint.cache_clear()
    assert disk_cache.code_fingerprint() == before


def test_a_damaged_entry_is_a_miss_and_removed(folder: Path) -> None:
    key = disk_cache.cache_key("y")
    disk_cache.store(key, [1, 2, 3])
    (entry,) = folder.iterdir()
    entry.write_bytes(entry.read_bytes()[:7])
    assert disk_cache.load(key) is None
    assert not entry.exists()


def test_an_entry_others_may_write_is_never_loaded(folder: Path) -> None:
    key = disk_cache.cache_key("z")
    disk_cache.store(key, "fine")
    (entry,) = folder.iterdir()
    entry.chmod(0o620)
    assert disk_cache.load(key) is None
    assert entry.exists()  # not labcheck's to remove


def test_a_folder_others_may_write_is_neither_read_nor_written(folder: Path) -> None:
    folder.mkdir(mode=0o700)
    key = disk_cache.cache_key("w")
    (folder / f"{key}.pickle").write_bytes(pickle.dumps("planted"))
    (folder / f"{key}.pickle").chmod(0o600)
    folder.chmod(0o777)
    try:
        assert disk_cache.load(key) is None
        disk_cache.store(disk_cache.cache_key("v"), "value")
        assert sorted(p.name for p in folder.iterdir()) == [f"{key}.pickle"]
    finally:
        folder.chmod(0o700)
    assert disk_cache.load(key) == "planted"  # the same entry, once the folder is the user's alone


def test_a_symlinked_entry_is_not_followed(folder: Path, tmp_path: Path) -> None:
    key = disk_cache.cache_key("s")
    elsewhere = tmp_path / "elsewhere.pickle"
    elsewhere.write_bytes(pickle.dumps("planted"))
    elsewhere.chmod(0o600)
    folder.mkdir(mode=0o700)
    (folder / f"{key}.pickle").symlink_to(elsewhere)
    assert disk_cache.load(key) is None


def test_turned_off_it_neither_reads_nor_writes(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = disk_cache.cache_key("off")
    disk_cache.store(key, 1)
    monkeypatch.setenv("LABCHECK_NO_CACHE", "1")
    assert disk_cache.load(key) is None
    disk_cache.store(disk_cache.cache_key("off2"), 2)
    assert len(list(folder.iterdir())) == 1


def test_it_keeps_the_newest_entries(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(disk_cache, "MAX_ENTRIES", 3)
    keys = [disk_cache.cache_key(str(i)) for i in range(5)]
    for i, key in enumerate(keys):
        disk_cache.store(key, i)
        os.utime(folder / f"{key}.pickle", ns=(i * 10**9, i * 10**9))
    assert [disk_cache.load(k) for k in keys] == [None, None, 2, 3, 4]


def test_a_folder_that_cannot_be_made_is_no_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("LABCHECK_CACHE_DIR", str(blocker / "cache"))
    disk_cache.store(disk_cache.cache_key("k"), 1)
    assert disk_cache.load(disk_cache.cache_key("k")) is None


def test_a_user_without_a_home_runs_uncached(monkeypatch: pytest.MonkeyPatch) -> None:
    """Path.home() raises for a user with no HOME and no passwd entry (a container's random uid)."""
    monkeypatch.delenv("LABCHECK_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    disk_cache.store(disk_cache.cache_key("h"), 1)
    assert disk_cache.load(disk_cache.cache_key("h")) is None


def test_many_processes_at_once_never_fail_and_never_read_half_an_entry(folder: Path) -> None:
    """A class's worth of `labcheck run`s on one machine (or pytest's workers) store, prune and
    load the same entries at once: each load is a whole value or a miss, never an error."""
    import concurrent.futures
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from labcheck import disk_cache\n"
        "disk_cache.MAX_ENTRIES = 3\n"
        "for i in range(40):\n"
        "    key = disk_cache.cache_key(str(i % 6))\n"
        "    disk_cache.store(key, ['value', i % 6] * 2000)\n"
        "    got = disk_cache.load(key)\n"
        "    assert got is None or got == ['value', i % 6] * 2000, got[:4]\n"
        "print('ok')\n"
    )
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        runs = list(
            pool.map(lambda _: subprocess.run([sys.executable, "-c", script], capture_output=True, text=True), range(6))
        )
    assert [r.stdout.strip() for r in runs] == ["ok"] * 6, [r.stderr[-500:] for r in runs]
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
