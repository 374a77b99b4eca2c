"""The watcher keeps watching whatever happens to the watched folders: it falls back
to polling at the system's watch limit or on a silent file system, and picks a
root folder up again after it was deleted, renamed away or replaced.

Real watchdog observers on real folders. The watch limit is imitated by making
the inotify call refuse new watches with ENOSPC inside this process, the way the
kernel does at the limit (the real limit is per user, shared by the machine).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from test_watch import ADDED, DELETED, MODIFIED, Recorder, scenario
from hotreload import observe
from hotreload.watch import Watcher
from hotreload.watchlimit import folder_id, limit_advice, watched_folders

pytestmark = pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning")


@contextlib.asynccontextmanager
async def watcher_of(site: Path, **options: object) -> AsyncIterator[tuple[Watcher, Recorder]]:
    recorder = Recorder()
    watcher = Watcher([site], recorder, **options)  # type: ignore[arg-type]
    await watcher.start()
    try:
        yield watcher, recorder
    finally:
        await watcher.stop()


def make_site(root: Path) -> Path:
    for folder in ("css", "img", "docs/guide"):
        (root / folder).mkdir(parents=True)
    (root / "index.html").write_text("<h1>home</h1>")
    (root / "css" / "site.css").write_text("body {}")
    (root / "docs" / "guide" / "index.html").write_text("<h1>guide</h1>")
    return root


@pytest.fixture
def watch_limit(monkeypatch: pytest.MonkeyPatch):
    """Let this process hold at most ``n`` inotify watches (set with the returned function)."""
    import watchdog.observers.inotify_c as inotify_c

    real = inotify_c.inotify_add_watch
    watched: set[bytes] = set()
    limit = {"n": 10**9}

    def limited(fd: int, path: bytes, mask: int) -> int:
        if path not in watched and len(watched) >= limit["n"]:
            ctypes.set_errno(errno.ENOSPC)
            return -1
        wd = real(fd, path, mask)
        if wd != -1:
            watched.add(path)
        return wd

    monkeypatch.setattr(inotify_c, "inotify_add_watch", limited)
    return lambda n: limit.__setitem__("n", n)


# ---- the watch limit -------------------------------------------------------------------


@scenario
async def test_sub_folders_left_unwatched_by_the_limit_make_the_root_polled(
    tmp_path: Path, watch_limit, caplog: pytest.LogCaptureFixture
) -> None:
    site = make_site(tmp_path / "site")
    watch_limit(2)
    async with watcher_of(site) as (watcher, recorder):
        assert watcher.watch_mode(site) == "polling"
        (site / "docs" / "guide" / "index.html").write_text("<h1>guide, edited</h1>")
        await recorder.wait_until(lambda changes: site / "docs" / "guide" / "index.html" in changes)
    assert recorder.merged() == {site / "docs" / "guide" / "index.html": MODIFIED}
    assert "fs.inotify.max_user_watches" in caplog.text and "sudo sysctl" in caplog.text


@scenario
async def test_a_refused_root_watch_makes_the_root_polled(tmp_path: Path, watch_limit) -> None:
    site = make_site(tmp_path / "site")
    watch_limit(0)
    async with watcher_of(site) as (watcher, recorder):
        assert watcher.watch_mode(site) == "polling"
        (site / "css" / "site.css").write_text("body { color: red }")
        await recorder.wait_for(1)
    assert recorder.merged() == {site / "css" / "site.css": MODIFIED}


@scenario
async def test_a_folder_created_past_the_limit_is_caught_up_on_and_polled(tmp_path: Path, watch_limit) -> None:
    site = make_site(tmp_path / "site")
    watch_limit(5)  # the root and its four folders
    async with watcher_of(site) as (watcher, recorder):
        assert watcher.watch_mode(site) == "native"
        (site / "new").mkdir()
        for i in range(20):
            (site / "new" / f"page{i}.html").write_text(str(i))
        expected = {site / "new" / f"page{i}.html" for i in range(20)}
        await recorder.wait_until(lambda changes: expected <= set(changes))
        assert watcher.watch_mode(site) == "polling"
        count = len(recorder.batches)
        (site / "new" / "page3.html").write_text("again")
        await recorder.wait_for(count + 1)
    assert recorder.changes()[-1] == {site / "new" / "page3.html": MODIFIED}


@scenario
async def test_without_a_limit_the_watch_stays_native(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    async with watcher_of(site) as (watcher, recorder):
        (site / "new" / "deeper").mkdir(parents=True)
        (site / "new" / "deeper" / "a.css").write_text("a {}")
        await recorder.wait_until(lambda changes: site / "new" / "deeper" / "a.css" in changes)
        await asyncio.sleep(observe.COVERAGE_CHECK_DELAY + observe.COVERAGE_RECHECK_DELAY + 0.1)
        assert watcher.watch_mode(site) == "native"


def test_the_kernel_reports_which_folders_this_process_watches(tmp_path: Path) -> None:
    from watchdog.observers.inotify import InotifyObserver
    from watchdog.events import FileSystemEventHandler

    watched_dir, other = tmp_path / "watched", tmp_path / "other"
    (watched_dir / "sub").mkdir(parents=True)
    other.mkdir()
    observer = InotifyObserver()
    observer.schedule(FileSystemEventHandler(), str(watched_dir), recursive=True)
    observer.start()
    try:
        found = watched_folders()
        assert found is not None
        assert folder_id(os.stat(watched_dir)) in found
        assert folder_id(os.stat(watched_dir / "sub")) in found
        assert folder_id(os.stat(other)) not in found
    finally:
        observer.stop()
        observer.join()


@pytest.mark.parametrize("error, setting", [(errno.ENOSPC, "max_user_watches"), (errno.EMFILE, "max_user_instances")])
def test_the_advice_names_the_setting_and_the_command_that_raises_it(error: int, setting: str) -> None:
    problem, remedy = limit_advice(error)
    assert "limit" in problem and setting in problem
    assert f"sudo sysctl fs.inotify.{setting}=" in remedy and "/etc/sysctl.conf" in remedy


# ---- a file system that delivers nothing -----------------------------------------------


@scenario
async def test_a_file_system_without_events_is_noticed_at_start_and_polled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from watchdog.observers import inotify

    def nothing_arrives(self: object, timeout: float, **kwargs: object) -> None:
        import time

        time.sleep(0.05)

    monkeypatch.setattr(inotify.InotifyEmitter, "queue_events", nothing_arrives)
    monkeypatch.setattr(observe, "PROBE_TIMEOUT", 0.5)
    site = make_site(tmp_path / "site")
    async with watcher_of(site) as (watcher, recorder):
        assert watcher.watch_mode(site) == "polling"
        (site / "index.html").write_text("<h1>edited</h1>")
        await recorder.wait_for(1)
    assert recorder.merged() == {site / "index.html": MODIFIED}
    assert "produced no event" in caplog.text


@scenario
async def test_the_probe_file_is_never_reported_nor_left_behind(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    async with watcher_of(site) as (watcher, recorder):
        assert watcher.watch_mode(site) == "native"
        (site / "index.html").write_text("<h1>edited</h1>")
        await recorder.wait_for(1)
        assert await recorder.settled() == [{site / "index.html": MODIFIED}]
    assert not [name for name in os.listdir(site) if name.startswith(observe.PROBE_PREFIX)]


# ---- the root folder itself ------------------------------------------------------------


@pytest.mark.parametrize("options", [{}, {"poll": True, "poll_interval": 0.05}], ids=["native", "polling"])
@scenario
async def test_a_root_deleted_and_created_again_is_watched_again(tmp_path: Path, options: dict[str, object]) -> None:
    site = make_site(tmp_path / "site")
    async with watcher_of(site, **options) as (watcher, recorder):
        shutil.rmtree(site)
        await recorder.wait_until(lambda changes: changes.get(site / "index.html") == DELETED)
        await asyncio.sleep(observe.ROOT_CHECK_INTERVAL * 2)
        assert watcher.watch_mode(site) == "gone"
        site.mkdir()
        (site / "index.html").write_text("<h1>back</h1>")
        await recorder.wait_until(lambda changes: changes.get(site / "index.html") == ADDED)
        assert watcher.watch_mode(site) == ("polling" if options else "native")
        (site / "later.css").write_text("a {}")
        await recorder.wait_until(lambda changes: site / "later.css" in changes)


@scenario
async def test_a_root_replaced_by_renames_reports_every_file_of_the_new_one(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    async with watcher_of(site) as (watcher, recorder):
        build = make_site(tmp_path / "build")
        (build / "css" / "site.css").unlink()
        (build / "fresh.js").write_text("export {}")
        os.rename(site, tmp_path / "old")
        os.rename(build, site)
        await recorder.wait_until(lambda changes: site / "fresh.js" in changes)
        merged = recorder.merged()
        assert merged[site / "fresh.js"] == ADDED
        assert merged[site / "css" / "site.css"] == DELETED
        assert merged[site / "index.html"] == MODIFIED
        (tmp_path / "old" / "index.html").write_text("not watched any more")
        (site / "index.html").write_text("<h1>watched</h1>")
        count = len(recorder.batches)
        await recorder.wait_for(count + 1)
        assert recorder.changes()[-1] == {site / "index.html": MODIFIED}


@scenario
async def test_a_permission_change_is_reported(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    async with watcher_of(site) as (watcher, recorder):
        (site / "css" / "site.css").chmod(0)
        await recorder.wait_for(1)
        (site / "css" / "site.css").chmod(0o644)
        await recorder.wait_for(2)
    assert recorder.changes() == [{site / "css" / "site.css": MODIFIED}] * 2
