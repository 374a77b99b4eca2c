"""Reading a file as one version of it while it is being written."""

from __future__ import annotations

import doctest
import os
from pathlib import Path

import pytest

from hotreload import snapshot
from hotreload.snapshot import StillChanging, read_snapshot, read_snapshot_now


def test_a_quiet_file_is_read_whole_at_once(tmp_path: Path) -> None:
    path = tmp_path / "app.css"
    path.write_bytes(b"body { color: teal }" * 1000)
    assert read_snapshot(path)[0] == path.read_bytes()
    got = read_snapshot_now(path)
    assert got is not None and got[0] == path.read_bytes() and got[1].st_size == 20_000


def test_a_version_renamed_over_the_file_after_opening_does_not_mix_in(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "app.js"
    path.write_bytes(b"old" * 1000)
    opened = snapshot._open

    def open_then_save(target: Path) -> int:
        fd = opened(target)
        replacement = tmp_path / "app.js.tmp"
        replacement.write_bytes(b"new" * 10)
        os.replace(replacement, target)  # an atomic save, right after the open
        return fd

    monkeypatch.setattr(snapshot, "_open", open_then_save)
    assert read_snapshot(path)[0] == b"old" * 1000


@pytest.mark.parametrize("same_size", [True, False], ids=["same size", "new size"])
def test_a_file_rewritten_while_it_is_read_is_read_again(tmp_path: Path, monkeypatch, same_size: bool) -> None:
    path = tmp_path / "app.css"
    path.write_bytes(b"a" * 5000)
    reads = []
    read_all = snapshot._read_all

    def read_then_editor_saves(fd: int, size: int) -> bytes:
        data = read_all(fd, size)
        reads.append(data)
        if len(reads) == 1:  # an in-place save lands right after the first read
            with open(path, "r+b") as editor:
                editor.write(b"b" * (5000 if same_size else 4000))
                editor.truncate()
        return data

    monkeypatch.setattr(snapshot, "_read_all", read_then_editor_saves)
    data, st = read_snapshot(path)
    assert data == (b"b" * (5000 if same_size else 4000)) and st.st_size == len(data)
    assert read_snapshot_now(path) is not None


def test_a_file_that_never_holds_still_is_refused_rather_than_read_torn(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "busy.css"
    path.write_bytes(b"x" * 100)
    monkeypatch.setattr(snapshot, "_RETRY_DELAYS", (0.0, 0.001, 0.002))
    turns = iter(range(10**6))
    read_all = snapshot._read_all

    def rewritten_during_every_read(fd: int, size: int) -> bytes:
        data = read_all(fd, size)
        with open(path, "ab") as writer:
            writer.write(str(next(turns)).encode())
        return data

    monkeypatch.setattr(snapshot, "_read_all", rewritten_during_every_read)
    with pytest.raises(StillChanging):
        read_snapshot(path)
    assert read_snapshot_now(path) is None


def test_missing_files_raise_what_open_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_snapshot(tmp_path / "missing.css")
    with pytest.raises(IsADirectoryError):
        read_snapshot_now(tmp_path)


def test_the_documented_examples_hold() -> None:
    assert doctest.testmod(snapshot).failed == 0
