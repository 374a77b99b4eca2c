"""Which source changes start a build: no save is lost, no build starts itself in a loop.

The builds here are Python callables that the test holds at a gate, so that a
save can be made exactly while a build runs; the server is a real DevServer
with real watchers, run in this process.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

import pytest

from conftest import write_atomic, write_in_place
from hotreload import DevServer
from hotreload.terminal import Terminal
from inprocess import run_server, terminal  # noqa: F401 - fixtures used by name


class GatedBuild:
    """Copies src/page.txt to out/index.html; each build waits at a gate the test opens."""

    def __init__(self, src: Path, out: Path, *, stamp: bool = False, stamp_if_there: bool = False) -> None:
        self.src, self.out, self.stamp, self.stamp_if_there = src, out, stamp, stamp_if_there
        self.started: queue.Queue[list[Path]] = queue.Queue()
        self._gate: queue.Queue[None] = queue.Queue()
        self.count = 0

    def __call__(self, changed: list[Path]) -> None:
        self.count += 1
        text = (self.src / "page.txt").read_text()
        self.started.put([p.name for p in changed])
        self._gate.get(timeout=20)
        self.out.mkdir(exist_ok=True)
        (self.out / "index.html").write_text(text)
        stamp = self.src / "stamp.dat"
        if self.stamp or (self.stamp_if_there and stamp.exists()):
            stamp.write_text(str(time.time_ns()))

    def next_build(self, timeout: float = 15) -> list[str]:
        """Wait for the next build to start; the names of the files it is for."""
        return self.started.get(timeout=timeout)

    def finish(self) -> None:
        self._gate.put(None)

    def open(self) -> None:
        """Let every later build through at once."""
        for _ in range(100):
            self._gate.put(None)


def wait_until(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out")
        time.sleep(0.01)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "page.txt").write_text("v0")
    return src, out


def output(out: Path) -> str:
    page = out / "index.html"
    return page.read_text() if page.exists() else ""


def test_saves_made_during_each_of_two_builds_in_a_row_are_all_built(folders, run_server) -> None:
    src, out = folders
    build = GatedBuild(src, out)
    server = DevServer(out, port=0, verbosity=0)
    server.watch(src, build)
    run_server(server)
    assert build.next_build() == []  # the first build, at start
    write_atomic(src / "page.txt", "v1")
    build.finish()
    assert build.next_build() == ["page.txt"]
    write_atomic(src / "page.txt", "v2")
    build.finish()
    assert build.next_build() == ["page.txt"]
    build.finish()
    wait_until(lambda: output(out) == "v2")


def test_a_save_that_does_not_change_the_content_does_not_build(folders, run_server, terminal) -> None:
    src, out = folders
    build = GatedBuild(src, out)
    build.open()
    server = DevServer(out, port=0, terminal=Terminal(1, terminal))
    server.watch(src, build)
    server.watch(src)  # no action: it only reports (in the terminal) that the file was saved
    ended: list[object] = []
    server.on_build_end(lambda result, changed: ended.append(result))
    run_server(server)
    wait_until(lambda: len(ended) == 1)
    write_atomic(src / "page.txt", "v1")
    wait_until(lambda: output(out) == "v1" and len(ended) == 2)

    def saves_seen() -> int:
        return sum("page.txt" in line and "reload" in line for line in list(terminal.lines))

    seen = saves_seen()
    write_in_place(src / "page.txt", "v1")  # saved again, unchanged
    wait_until(lambda: saves_seen() > seen)
    write_atomic(src / "page.txt", "v2")
    wait_until(lambda: output(out) == "v2" and len(ended) == 3)
    assert build.count == 3


def test_a_file_the_build_stamps_every_time_stops_starting_builds_until_someone_edits_it(
    folders, run_server, terminal
) -> None:
    src, out = folders
    build = GatedBuild(src, out, stamp=True)
    build.open()
    server = DevServer(out, port=0, terminal=Terminal(1, terminal))
    server.watch(src, build)
    ended: list[object] = []
    server.on_build_end(lambda result, changed: ended.append(result))
    run_server(server)
    terminal.wait_for(r"the build writes .*stamp.dat")
    assert build.count == 3  # the first build and two more for the stamp
    write_atomic(src / "page.txt", "v1")
    wait_until(lambda: output(out) == "v1")
    write_atomic(src / "page.txt", "v2")
    wait_until(lambda: output(out) == "v2" and len(ended) == 5)
    assert build.count == 5
    # Edited by hand while no build runs: a source again, so it builds; the
    # build stamps it again and again, and it is soon the build's own again.
    write_atomic(src / "stamp.dat", "by hand")
    wait_until(lambda: len(ended) == 8)
    write_atomic(src / "page.txt", "v3")
    wait_until(lambda: output(out) == "v3" and len(ended) == 9)
    assert build.count == 9


def test_a_build_that_stamps_a_file_once_someone_created_it_stops_after_a_few_builds(
    folders, run_server, terminal
) -> None:
    src, out = folders
    build = GatedBuild(src, out, stamp_if_there=True)
    build.open()
    server = DevServer(out, port=0, terminal=Terminal(1, terminal))
    server.watch(src, build)
    ended: list[int] = []
    server.on_build_end(lambda result, changed: ended.append(time.time_ns()))
    run_server(server)
    wait_until(lambda: len(ended) == 1)
    # A change is told apart from a build's own by its modification time: make
    # this one plainly later than the build (the clock's tick is a few ms).
    wait_until(lambda: time.time_ns() > ended[0] + 50_000_000)
    write_atomic(src / "stamp.dat", "created by hand")
    # Each build is for the stamp alone, as a person saving it during every
    # build would be: it takes six builds in a row to call it the build's own.
    terminal.wait_for(r"the build writes .*stamp.dat")
    write_atomic(src / "page.txt", "v1")
    wait_until(lambda: output(out) == "v1" and len(ended) == 8)
    assert build.count == 8


def test_trigger_builds_without_a_change(folders, run_server) -> None:
    src, out = folders
    build = GatedBuild(src, out)
    server = DevServer(out, port=0, verbosity=0)
    source = server.watch(src, build, run_at_start=False)
    run_server(server)
    source.trigger()
    assert build.next_build() == []
    build.finish()
    wait_until(lambda: output(out) == "v0")


def test_builds_of_different_watches_never_run_at_the_same_time(tmp_path, run_server) -> None:
    out = tmp_path / "out"
    sources = [tmp_path / "a", tmp_path / "b"]
    for folder in sources:
        folder.mkdir()
        (folder / "page.txt").write_text(folder.name)
    builds = [GatedBuild(folder, out) for folder in sources]
    running = {"now": 0, "most": 0}
    lock = threading.Lock()

    def counted(build: GatedBuild):
        def run(changed: list[Path]) -> None:
            with lock:
                running["now"] += 1
                running["most"] = max(running["most"], running["now"])
            try:
                build(changed)
            finally:
                with lock:
                    running["now"] -= 1

        return run

    server = DevServer(out, port=0, verbosity=0)
    for folder, build in zip(sources, builds):
        server.watch(folder, counted(build))
    run_server(server)
    first = builds[0].next_build()
    assert first == []
    write_atomic(sources[1] / "page.txt", "b1")
    # b has a worker thread of its own, yet it waits while a builds.
    with pytest.raises(queue.Empty):
        builds[1].next_build(timeout=0.5)
    builds[0].finish()
    # b's first build and its change, waiting together, are one build.
    assert builds[1].next_build() == ["page.txt"]
    builds[1].finish()
    wait_until(lambda: output(out) == "b1")
    assert running["most"] == 1
