"""The file watcher, specified against a real watchdog observer on real folders.

Every editor save style is replayed with the same system calls the editor makes,
from a thread of its own (as a separate editor process would), while the
watcher runs in the event loop. "Exactly one batch" is proven by waiting a
bounded settle period after the first batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
import statistics
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from conftest import run_async

from hotreload.watch import DEFAULT_IGNORES, ChangeBatch, ChangeKind, Watcher, make_ignore

# watchdog warns when a folder created with sub-folders gets one of them
# registered twice (by its own event and by the scan of its parent); harmless.
pytestmark = pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning")

ADDED, MODIFIED, DELETED = ChangeKind.ADDED, ChangeKind.MODIFIED, ChangeKind.DELETED
SETTLE = 0.3     # after the first batch, long enough for any straggler to show
TIMEOUT = 5.0    # for a batch that must come
POLL = {"poll": True, "poll_interval": 0.05}
# Creating 1,000 files takes this disk 0.1 to 0.5 s, longer than the default
# cap on a batch's age: burst tests give the cap room to show the batching.
ROOMY = {"max_wait": 5.0}

OLD = b"body { color: red }\n"
NEW = b"body { color: rebeccapurple; margin: 0 auto; padding: 1rem }\n" * 20


def scenario(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async test body in a fresh event loop, bounded in time."""

    @functools.wraps(test)
    def run(*args: object, **kwargs: object) -> None:
        run_async(asyncio.wait_for(test(*args, **kwargs), 30))

    return run


class Recorder:
    """An ``on_batch`` consumer that keeps each batch and what its files held on arrival."""

    def __init__(self) -> None:
        self.batches: list[ChangeBatch] = []
        self.contents: list[dict[Path, bytes | None]] = []
        self.arrivals: list[float] = []
        self._arrived = asyncio.Event()

    def __call__(self, batch: ChangeBatch) -> None:
        self.arrivals.append(time.monotonic())
        self.contents.append({path: path.read_bytes() if path.is_file() else None for path in batch.changes})
        self.batches.append(batch)
        self._arrived.set()

    async def wait_for(self, count: int = 1, timeout: float = TIMEOUT) -> None:
        """Wait until ``count`` batches have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.batches) < count:
            self._arrived.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"expected {count} batches, got {self.changes()}")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    async def wait_until(self, done: Callable[[dict[Path, ChangeKind]], bool], timeout: float = TIMEOUT) -> None:
        """Wait until the changes seen so far, merged, satisfy ``done``."""
        count = 1
        while not done(self.merged()):
            await self.wait_for(count, timeout)
            count = len(self.batches) + 1

    async def settled(self) -> list[dict[Path, ChangeKind]]:
        """All batches, once a settle period has passed without new ones expected."""
        await asyncio.sleep(SETTLE)
        return self.changes()

    def changes(self) -> list[dict[Path, ChangeKind]]:
        return [dict(batch.changes) for batch in self.batches]

    def merged(self) -> dict[Path, ChangeKind]:
        """The net change over all batches, as a consumer that applies them in turn sees it
        (a file added in one batch and touched again in the next is still new)."""
        merged: dict[Path, ChangeKind] = {}
        for batch in self.batches:
            for path, kind in batch.changes.items():
                if merged.get(path) is ChangeKind.ADDED and kind is ChangeKind.MODIFIED:
                    continue
                merged[path] = kind
        return merged


@contextlib.asynccontextmanager
async def watching(*paths: Path, **options: object) -> AsyncIterator[Recorder]:
    recorder = Recorder()
    watcher = Watcher(list(paths), recorder, **options)  # type: ignore[arg-type]
    await watcher.start()
    try:
        yield recorder
    finally:
        await watcher.stop()


async def editor(save: Callable[..., None], *args: object) -> None:
    """Perform a save from another thread, as an editor process would."""
    await asyncio.to_thread(save, *args)


# ---------------------------------------------------------------- save styles, as system calls

def create(path: Path, data: bytes, mode: int = 0o644) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def write_in_place(path: Path, data: bytes) -> None:
    """Overwrite the bytes, then cut the file to length (vim's backupcopy=yes, nano)."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, data)
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


def truncate_then_write(path: Path, data: bytes, gap: float = 0.05) -> None:
    """open(path, "w"), then the content in two chunks with a pause between them."""
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, data[: len(data) // 2])
        time.sleep(gap)  # the writer is busy; the file is empty, then half written
        os.write(fd, data[len(data) // 2 :])
    finally:
        os.close(fd)


def vim_write(path: Path, data: bytes) -> None:
    """vim's default write: probe file 4913, swap file, rename to a backup, write anew."""
    probe = path.parent / "4913"
    os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    os.unlink(probe)
    create(path.parent / f".{path.name}.swp", b"b0VIM 9.0\0")
    backup = path.with_name(path.name + "~")
    os.rename(path, backup)
    create(path, data)
    os.unlink(backup)


def vscode_atomic_write(path: Path, data: bytes) -> None:
    """VS Code's atomic save: write NAME.vsctmp next to the file, rename it over."""
    temporary = path.with_name(path.name + ".vsctmp")
    create(temporary, data)
    os.replace(temporary, path)


def jetbrains_safe_write(path: Path, data: bytes) -> None:
    """JetBrains safe write: NAME___jb_tmp___, old file aside as NAME___jb_old___, swap, clean up."""
    temporary = path.with_name(path.name + "___jb_tmp___")
    old = path.with_name(path.name + "___jb_old___")
    create(temporary, data)
    os.rename(path, old)
    os.replace(temporary, path)
    os.unlink(old)


def sed_in_place(path: Path, data: bytes) -> None:
    """sed -i: a sedXXXXXX file in the same folder, renamed over the original."""
    temporary = path.parent / "sedQ7xkTb"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fchmod(fd, 0o644)
    finally:
        os.close(fd)
    os.replace(temporary, path)


def emacs_write(path: Path, data: bytes) -> None:
    """emacs: a .#NAME lock symlink, the original renamed to NAME~, the file written anew."""
    lock = path.parent / f".#{path.name}"
    os.symlink("dev@host.4242:1700000000", lock)
    os.rename(path, path.with_name(path.name + "~"))
    create(path, data)
    os.unlink(lock)


def delete_then_create(path: Path, data: bytes) -> None:
    os.unlink(path)
    create(path, data)


SAVE_STYLES = [
    write_in_place, truncate_then_write, vim_write, vscode_atomic_write,
    jetbrains_safe_write, sed_in_place, emacs_write, delete_then_create,
]


def make_site(root: Path) -> Path:
    """A small site: a page, a stylesheet, a script in a folder."""
    (root / "js").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><link rel=stylesheet href=style.css>")
    (root / "style.css").write_bytes(OLD)
    (root / "js" / "app.js").write_text("export const answer = 42;\n")
    return root


# ---------------------------------------------------------------- editor saves

@pytest.mark.parametrize("save", SAVE_STYLES, ids=lambda save: save.__name__)
@scenario
async def test_each_editor_save_style_is_one_change_of_the_real_file_with_its_final_content(
    tmp_path: Path, save: Callable[[Path, bytes], None]
) -> None:
    site = make_site(tmp_path / "site")
    style = site / "style.css"
    async with watching(site) as recorder:
        await editor(save, style, NEW)
        await recorder.wait_for(1)
        assert await recorder.settled() == [{style: MODIFIED}]
    assert recorder.contents[0][style] == NEW


@pytest.mark.parametrize(
    "save", [write_in_place, truncate_then_write, vscode_atomic_write, delete_then_create],
    ids=lambda save: save.__name__,
)
@scenario
async def test_polling_mode_also_reports_each_save_once_with_its_final_content(
    tmp_path: Path, save: Callable[[Path, bytes], None]
) -> None:
    site = make_site(tmp_path / "site")
    style = site / "style.css"
    async with watching(site, **POLL) as recorder:
        await editor(save, style, NEW)
        await recorder.wait_for(1)
        assert await recorder.settled() == [{style: MODIFIED}]
    assert recorder.contents[0][style] == NEW


@scenario
async def test_a_file_held_open_by_a_slow_writer_waits_for_its_close_even_past_max_wait(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    style = site / "style.css"
    async with watching(site, max_wait=0.1) as recorder:
        await editor(truncate_then_write, style, NEW, 0.4)
        await recorder.wait_for(1)
        assert await recorder.settled() == [{style: MODIFIED}]
    assert recorder.contents[0][style] == NEW


@scenario
async def test_a_new_file_is_added_once_its_content_is_written(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    page = site / "about.html"

    def create_slowly(path: Path) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        time.sleep(0.05)  # created, still empty
        os.write(fd, b"<h1>About</h1>")
        os.close(fd)

    async with watching(site) as recorder:
        await editor(create_slowly, page)
        await recorder.wait_for(1)
        assert await recorder.settled() == [{page: ADDED}]
    assert recorder.contents[0][page] == b"<h1>About</h1>"


@scenario
async def test_a_single_save_arrives_within_milliseconds(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    style = site / "style.css"
    latencies: list[float] = []
    async with watching(site) as recorder:
        for round_ in range(25):
            written = time.monotonic()
            write_in_place(style, NEW + str(round_).encode())
            await recorder.wait_for(round_ + 1)
            latencies.append(recorder.arrivals[-1] - written)
        changes = recorder.changes()
    assert changes == [{style: MODIFIED}] * 25
    latencies.sort()
    print(
        f"\nsingle-save latency over {len(latencies)} saves: median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p90 {latencies[int(len(latencies) * 0.9)] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
    )


@scenario
async def test_new_files_a_few_milliseconds_apart_are_one_batch(tmp_path: Path) -> None:
    # Longer apart than a save's quiet window: a burst of new files (a build, a
    # checkout) whose writer or watcher stalls for a moment is still one batch.
    site = make_site(tmp_path / "site")
    first, second = site / "first.html", site / "second.html"
    async with watching(site, **ROOMY) as recorder:
        first.write_text("<p>1</p>")
        await asyncio.sleep(0.006)
        second.write_text("<p>2</p>")
        await recorder.wait_for(1)
        batches = await recorder.settled()
    assert batches == [{first: ADDED, second: ADDED}]


# ---------------------------------------------------------------- merge rules within a batch

@scenario
async def test_created_then_written_again_is_one_addition(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    page = site / "new.html"

    def create_then_append(path: Path) -> None:
        create(path, b"<p>one</p>")
        with open(path, "ab") as file:
            file.write(b"<p>two</p>")

    async with watching(site) as recorder:
        await editor(create_then_append, page)
        await recorder.wait_for(1)
        assert await recorder.settled() == [{page: ADDED}]
    assert recorder.contents[0][page] == b"<p>one</p><p>two</p>"


@scenario
async def test_a_file_created_and_deleted_together_is_not_reported(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    style = site / "style.css"

    def scratch_then_save(path: Path) -> None:
        scratch = path.parent / "scratch-1234"
        create(scratch, b"draft")
        os.unlink(scratch)
        write_in_place(path, NEW)

    async with watching(site) as recorder:
        await editor(scratch_then_save, style)
        await recorder.wait_for(1)
        assert await recorder.settled() == [{style: MODIFIED}]


@scenario
async def test_a_deleted_file_is_reported_deleted(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    script = site / "js" / "app.js"
    async with watching(site) as recorder:
        script.unlink()
        await recorder.wait_for(1)
        assert await recorder.settled() == [{script: DELETED}]


# ---------------------------------------------------------------- bursts

BURST_SCRIPT = textwrap.dedent(
    """
    import os, sys
    folder = sys.argv[1]
    for number in range(1000):
        with open(os.path.join(folder, f"page{number:04}.html"), "w") as file:
            file.write(f"<h1>Page {number}</h1>")
    """
)

CHECKOUT_SCRIPT = textwrap.dedent(
    """
    import os, sys
    folder = sys.argv[1]
    # like git switching branches: unlink and re-create changed files,
    # remove files that are gone, create the new ones
    for number in range(0, 300):
        path = os.path.join(folder, f"page{number:04}.html")
        os.unlink(path)
        with open(path, "w") as file:
            file.write("<h1>Other branch</h1>")
    for number in range(300, 600):
        os.unlink(os.path.join(folder, f"page{number:04}.html"))
    for number in range(1000, 1300):
        with open(os.path.join(folder, f"page{number:04}.html"), "w") as file:
            file.write("<h1>New</h1>")
    """
)


async def run_script(script: str, *args: str) -> None:
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", script, *args)
    assert await asyncio.wait_for(process.wait(), 20) == 0


@scenario
async def test_a_thousand_files_written_by_a_script_arrive_as_one_batch(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    pages = site / "pages"
    pages.mkdir()
    async with watching(site, **ROOMY) as recorder:
        await run_script(BURST_SCRIPT, str(pages))
        await recorder.wait_for(1)
        batches = await recorder.settled()
    assert len(batches) == 1
    assert batches[0] == {pages / f"page{number:04}.html": ADDED for number in range(1000)}


@scenario
async def test_a_checkout_touching_many_files_arrives_as_one_batch_with_net_changes(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    pages = site / "pages"
    pages.mkdir()
    for number in range(1000):
        (pages / f"page{number:04}.html").write_text(f"<h1>Page {number}</h1>")
    expected = {pages / f"page{number:04}.html": MODIFIED for number in range(300)}
    expected |= {pages / f"page{number:04}.html": DELETED for number in range(300, 600)}
    expected |= {pages / f"page{number:04}.html": ADDED for number in range(1000, 1300)}
    async with watching(site, **ROOMY) as recorder:
        await run_script(CHECKOUT_SCRIPT, str(pages))
        await recorder.wait_for(1)
        batches = await recorder.settled()
    assert len(batches) == 1
    assert batches[0] == expected


@scenario
async def test_polling_mode_reports_a_burst_in_one_batch(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    pages = site / "pages"
    pages.mkdir()
    async with watching(site, **POLL, **ROOMY) as recorder:
        await run_script(BURST_SCRIPT, str(pages))
        await recorder.wait_for(1)
        batches = await recorder.settled()
    assert batches == [{pages / f"page{number:04}.html": ADDED for number in range(1000)}]


@scenario
async def test_a_never_ending_stream_of_changes_is_cut_into_batches_by_max_wait(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    files = [site / f"log{number:03}.txt" for number in range(120)]
    stream_ended = 0.0

    def steady_stream() -> None:
        nonlocal stream_ended
        for path in files:
            create(path, b"tick")
            time.sleep(0.005)  # a new file every 5 ms, well inside the quiet window
        stream_ended = time.monotonic()

    async with watching(site, quiet=0.05, max_wait=0.15) as recorder:
        await editor(steady_stream)
        await recorder.wait_until(lambda merged: set(merged) >= set(files))
        await recorder.settled()
    assert recorder.arrivals[0] < stream_ended
    assert len(recorder.batches) >= 2
    assert recorder.merged() == {path: ADDED for path in files}


# ---------------------------------------------------------------- ignores

IGNORED_NAMES = [
    ".git/index", ".hg/dirstate", ".svn/entries", "node_modules/lib/index.js", "js/__pycache__/x.pyc",
    ".DS_Store", "js/.DS_Store", ".style.css.swp", ".style.css.swx", ".style.css.swo", "style.css~",
    "4913", ".#style.css", "#style.css#", "style.css___jb_tmp___", "style.css___jb_old___",
    "upload.tmp", "style.css.vsctmp",
]


@pytest.mark.parametrize("relative", IGNORED_NAMES)
def test_the_default_ignores_cover_version_control_dependencies_and_editor_scratch_files(relative: str) -> None:
    assert make_ignore()(Path(relative))


@pytest.mark.parametrize("relative", ["style.css", "js/app.js", "git/notes.md", "modules/node.js", "tmp/a.css"])
def test_the_default_ignores_leave_site_files_alone(relative: str) -> None:
    assert not make_ignore()(Path(relative))


@pytest.mark.parametrize(
    ("glob", "relative", "ignored"),
    [
        ("*.map", "app.js.map", True),            # no slash: the file's name, at any depth
        ("*.map", "js/vendor/app.js.map", True),
        ("drafts", "drafts/post.md", True),       # no slash: a folder's name, at any depth
        ("drafts", "blog/drafts/post.md", True),
        ("drafts", "blog/drafts.html", False),
        ("docs/_build", "docs/_build/index.html", True),  # slash: the path from the watched root
        ("docs/_build", "api/docs/_build/index.html", False),
        ("/dist", "dist/app.js", True),
        ("/dist", "src/dist/app.js", False),
        ("drafts/*", "drafts/2024/post.md", True),
        ("./drafts/*", "drafts/post.md", True),
        ("*.MAP", "app.js.map", False),           # case-sensitive
    ],
)
def test_user_globs_match_names_without_a_slash_and_relative_paths_with_one(
    glob: str, relative: str, ignored: bool
) -> None:
    assert make_ignore([glob])(Path(relative)) is ignored


def test_user_globs_keep_the_default_ignores() -> None:
    ignore = make_ignore(["*.map"])
    assert ignore(Path(".git/HEAD")) and ignore(Path("style.css~"))
    assert set(DEFAULT_IGNORES) >= {".git", "node_modules", "*.swp", "4913", "*___jb_tmp___", "*.tmp"}


@scenario
async def test_changes_to_ignored_files_are_never_reported(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    sentinel = site / "style.css"

    def touch_ignored_then_save(root: Path) -> None:
        for relative in IGNORED_NAMES:
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            create(path, b"scratch")
        for relative in IGNORED_NAMES:
            (root / relative).unlink()
        write_in_place(sentinel, NEW)

    async with watching(site) as recorder:
        await editor(touch_ignored_then_save, site)
        await recorder.wait_for(1)
        assert await recorder.settled() == [{sentinel: MODIFIED}]


@scenario
async def test_user_ignore_globs_apply_to_the_watched_folder(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    (site / "drafts").mkdir()
    style = site / "style.css"

    def write_all() -> None:
        create(site / "drafts" / "post.md", b"# draft")
        create(site / "js" / "app.js.map", b"{}")
        write_in_place(style, NEW)

    async with watching(site, ignore=make_ignore(["drafts", "*.map"])) as recorder:
        await editor(write_all)
        await recorder.wait_for(1)
        assert await recorder.settled() == [{style: MODIFIED}]


@scenario
async def test_a_custom_ignore_rule_is_asked_about_paths_relative_to_the_watched_folder(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    asked: list[Path] = []

    def private_folder(relative: Path) -> bool:
        asked.append(relative)
        return relative.parts[0] == "private"

    (site / "private").mkdir()
    async with watching(site, ignore=private_folder) as recorder:
        await editor(create, site / "private" / "notes.txt", b"secret")
        await editor(write_in_place, site / "style.css", NEW)
        await recorder.wait_until(lambda merged: site / "style.css" in merged)
        assert await recorder.settled() == [{site / "style.css": MODIFIED}]
    assert Path("private/notes.txt") in asked
    assert all(not path.is_absolute() for path in asked)


# ---------------------------------------------------------------- folders

@scenario
async def test_a_folder_created_with_files_reports_each_file_added(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    blog = site / "blog"
    files = [blog / "index.html", blog / "2024" / "hello.html", blog / "2024" / "img" / "cat.svg"]

    def make_blog() -> None:
        for path in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            create(path, b"<svg/>" if path.suffix == ".svg" else b"<h1>Blog</h1>")

    async with watching(site) as recorder:
        await editor(make_blog)
        await recorder.wait_until(lambda merged: set(merged) >= set(files))
        await recorder.settled()
    assert recorder.merged() == {path: ADDED for path in files}


@scenario
async def test_a_folder_copied_in_reports_each_file_added(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    source = make_site(tmp_path / "elsewhere")
    copy = site / "copy"
    expected = {copy / "index.html", copy / "style.css", copy / "js" / "app.js"}
    async with watching(site) as recorder:
        await editor(shutil.copytree, source, copy)
        await recorder.wait_until(lambda merged: set(merged) >= expected)
        await recorder.settled()
    assert recorder.merged() == {path: ADDED for path in expected}
    assert all(contents[path] is not None for contents in recorder.contents for path in contents)


@scenario
async def test_a_folder_moved_in_reports_its_files_added_in_one_batch(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    outside = make_site(tmp_path / "outside")
    moved = site / "section"
    async with watching(site) as recorder:
        os.rename(outside, moved)
        await recorder.wait_for(1)
        assert await recorder.settled() == [
            {moved / "index.html": ADDED, moved / "style.css": ADDED, moved / "js" / "app.js": ADDED}
        ]


@scenario
async def test_a_folder_moved_out_reports_its_files_deleted(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    (tmp_path / "archive").mkdir()
    async with watching(site) as recorder:
        os.rename(site / "js", tmp_path / "archive" / "js")
        await recorder.wait_for(1)
        assert await recorder.settled() == [{site / "js" / "app.js": DELETED}]


@scenario
async def test_a_renamed_folder_reports_old_paths_deleted_and_new_paths_added_together(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    (site / "js" / "lib").mkdir()
    (site / "js" / "lib" / "util.js").write_text("export {};\n")
    async with watching(site) as recorder:
        os.rename(site / "js", site / "scripts")
        await recorder.wait_for(1)
        assert await recorder.settled() == [{
            site / "js" / "app.js": DELETED, site / "js" / "lib" / "util.js": DELETED,
            site / "scripts" / "app.js": ADDED, site / "scripts" / "lib" / "util.js": ADDED,
        }]


@scenario
async def test_a_deleted_folder_reports_each_file_deleted_in_one_batch(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    (site / "js" / "lib").mkdir()
    (site / "js" / "lib" / "util.js").write_text("export {};\n")
    async with watching(site) as recorder:
        shutil.rmtree(site / "js")
        await recorder.wait_for(1)
        assert await recorder.settled() == [{site / "js" / "app.js": DELETED, site / "js" / "lib" / "util.js": DELETED}]


@scenario
async def test_files_moved_in_and_out_are_added_and_deleted(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    (tmp_path / "download.css").write_bytes(NEW)
    async with watching(site) as recorder:
        os.rename(tmp_path / "download.css", site / "theme.css")
        os.rename(site / "index.html", tmp_path / "index.html")
        await recorder.wait_until(lambda merged: len(merged) == 2)
        await recorder.settled()
    assert recorder.merged() == {site / "theme.css": ADDED, site / "index.html": DELETED}


@scenario
async def test_polling_mode_reports_folder_changes(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    outside = make_site(tmp_path / "outside")
    async with watching(site, **POLL) as recorder:
        os.rename(site / "js", site / "scripts")
        os.rename(outside, site / "section")
        await recorder.wait_for(1)
        await recorder.settled()
    assert recorder.merged() == {
        site / "js" / "app.js": DELETED, site / "scripts" / "app.js": ADDED,
        site / "section" / "index.html": ADDED, site / "section" / "style.css": ADDED,
        site / "section" / "js" / "app.js": ADDED,
    }


# ---------------------------------------------------------------- what is watched

@scenario
async def test_a_symlinked_folder_is_watched_and_reported_under_the_path_given(tmp_path: Path) -> None:
    real = make_site(tmp_path / "real-site")
    link = tmp_path / "site"
    link.symlink_to(real, target_is_directory=True)
    async with watching(link) as recorder:
        await editor(vim_write, real / "style.css", NEW)
        await recorder.wait_for(1)
        assert await recorder.settled() == [{link / "style.css": MODIFIED}]


@scenario
async def test_a_single_watched_file_reports_its_saves_and_nothing_else_in_its_folder(tmp_path: Path) -> None:
    project = make_site(tmp_path / "project")
    config = project / "config.toml"
    config.write_text("title = 'Old'\n")
    async with watching(config) as recorder:
        await editor(write_in_place, project / "style.css", NEW)
        await editor(vscode_atomic_write, config, b"title = 'New'\n")
        await recorder.wait_for(1)
        assert await recorder.settled() == [{config: MODIFIED}]
    assert recorder.contents[0][config] == b"title = 'New'\n"


@scenario
async def test_changes_under_several_watched_paths_share_a_batch(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "base.html").write_text("<main></main>")

    def save_both() -> None:
        write_in_place(site / "style.css", NEW)
        write_in_place(templates / "base.html", b"<main>new</main>")

    # a path inside another watched folder is watched once
    async with watching(site, templates, site / "js") as recorder:
        await editor(save_both)
        await recorder.wait_until(lambda merged: len(merged) == 2)
        await recorder.settled()
    assert recorder.merged() == {site / "style.css": MODIFIED, templates / "base.html": MODIFIED}
    assert len(recorder.batches) <= 2


@scenario
async def test_file_count_counts_the_files_that_are_not_ignored(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    (site / "node_modules" / "lib").mkdir(parents=True)
    (site / "node_modules" / "lib" / "index.js").write_text("")
    (site / ".style.css.swp").write_text("")
    watcher = Watcher([site], lambda batch: None)
    assert watcher.file_count == 0
    await watcher.start()
    try:
        assert watcher.file_count == 3
    finally:
        await watcher.stop()


@scenario
async def test_watching_a_missing_path_fails_clearly(tmp_path: Path) -> None:
    watcher = Watcher([tmp_path / "missing"], lambda batch: None)
    with pytest.raises(FileNotFoundError):
        await watcher.start()
    await watcher.stop()


# ---------------------------------------------------------------- consumers

@scenario
async def test_a_slow_consumer_gets_changes_made_meanwhile_merged_into_its_next_call(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    style, script, page = site / "style.css", site / "js" / "app.js", site / "index.html"
    calls: list[dict[Path, ChangeKind]] = []
    running = 0
    most_at_once = 0
    release = asyncio.Event()
    called = asyncio.Event()

    async def slow_consumer(batch: ChangeBatch) -> None:
        nonlocal running, most_at_once
        calls.append(dict(batch.changes))
        called.set()
        running += 1
        most_at_once = max(most_at_once, running)
        if len(calls) == 1:
            await release.wait()
        running -= 1

    watcher = Watcher([site], slow_consumer)
    await watcher.start()
    try:
        write_in_place(style, NEW)
        await asyncio.wait_for(called.wait(), TIMEOUT)
        called.clear()
        await editor(write_in_place, script, b"export const answer = 43;\n")
        await asyncio.sleep(0.1)  # a separate save, a batch of its own
        await editor(delete_then_create, page, b"<h1>Home</h1>")
        await editor(os.unlink, style)
        await asyncio.sleep(0.1)
        assert len(calls) == 1
        release.set()
        await asyncio.wait_for(called.wait(), TIMEOUT)
        await asyncio.sleep(SETTLE)
    finally:
        await watcher.stop()
    assert calls == [{style: MODIFIED}, {script: MODIFIED, page: MODIFIED, style: DELETED}]
    assert most_at_once == 1


@scenario
async def test_a_failing_consumer_does_not_stop_the_watcher(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    site = make_site(tmp_path / "site")
    seen: list[dict[Path, ChangeKind]] = []
    arrived = asyncio.Event()

    def failing_consumer(batch: ChangeBatch) -> None:
        seen.append(dict(batch.changes))
        arrived.set()
        raise RuntimeError("consumer bug")

    watcher = Watcher([site], failing_consumer)
    await watcher.start()
    try:
        for number, path in enumerate([site / "style.css", site / "index.html"]):
            arrived.clear()
            write_in_place(path, NEW)
            await asyncio.wait_for(arrived.wait(), TIMEOUT)
    finally:
        await watcher.stop()
    assert seen == [{site / "style.css": MODIFIED}, {site / "index.html": MODIFIED}]
    assert "consumer bug" in caplog.text


# ---------------------------------------------------------------- stopping

@pytest.mark.parametrize("options", [{}, POLL], ids=["native", "polling"])
@scenario
async def test_stop_leaves_no_thread_behind_reports_nothing_more_and_can_be_repeated(
    tmp_path: Path, options: dict[str, object]
) -> None:
    site = make_site(tmp_path / "site")
    before = set(threading.enumerate())
    recorder = Recorder()
    watcher = Watcher([site], recorder, **options)  # type: ignore[arg-type]
    await watcher.start()
    assert set(threading.enumerate()) > before
    write_in_place(site / "style.css", NEW)
    await recorder.wait_for(1)
    await watcher.stop()
    assert set(threading.enumerate()) == before
    write_in_place(site / "index.html", NEW)
    assert await recorder.settled() == [{site / "style.css": MODIFIED}]
    await watcher.stop()


def test_a_batch_whose_handler_was_stopped_before_it_began_leaves_no_warning(tmp_path: Path) -> None:
    # Stopping while a batch is handed over but its handler has not run yet
    # (a server shutting down just then) drops it without a RuntimeWarning.
    import gc
    import warnings

    handled: list[object] = []

    async def on_batch(batch: object) -> None:
        handled.append(batch)

    async def main() -> None:
        watcher = Watcher([tmp_path], on_batch)
        watcher._hand_over(ChangeBatch({tmp_path / "a.txt": ChangeKind.MODIFIED}, 0.0))
        await watcher.stop()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_async(main())
        gc.collect()
    assert handled == []
    assert not [w for w in caught if "never awaited" in str(w.message)], [str(w.message) for w in caught]
