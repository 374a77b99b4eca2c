"""`hotreload serve OUTDIR --watch SRC --build CMD`: what a user sees while a generator rebuilds their site.

The generator is tests/mini_ssg.py, a small script run as a real command. Tabs
are real headless Chromium pages.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, wait_connected, write_atomic, write_in_place
from pages import mark, still_marked, wait_no_overlay, wait_overlay, wait_text

MINI_SSG = Path(__file__).with_name("mini_ssg.py")


class Project:
    """A generator project: sources in src/, the built site in out/, a build log."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.src = root / "src"
        self.out = root / "out"
        self.log = root / "builds.log"
        self.src.mkdir(parents=True)
        (self.src / "index.txt").write_text("Home\nwelcome")
        (self.src / "about.txt").write_text("About\nwho we are")
        (self.src / "style.css").write_text("h1 { color: rgb(0, 0, 0); }\n")

    def command(self, *extra: str) -> str:
        return " ".join([sys.executable, str(MINI_SSG), str(self.src), str(self.out), "--log", str(self.log), *extra])

    def builds(self) -> int:
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path / "project")


def serve_build(serve, project: Project, *extra: str, command: str | None = None):
    server = serve(str(project.out), "--watch", str(project.src), "--build", command or project.command(), *extra)
    server.wait_for_line(r"build .* ok ", timeout=20)
    return server


def test_a_source_edit_rebuilds_and_reloads_only_the_page_whose_output_changed(serve, project, new_page) -> None:
    server = serve_build(serve, project)
    home = new_page(server.url + "index.html")
    about = new_page(server.url + "about.html")
    mark(home)
    mark(about)
    write_atomic(project.src / "index.txt", "Home, rebuilt\nwelcome back")
    wait_text(home, '#title', "Home, rebuilt")
    assert home.locator("#body").text_content() == "welcome back"
    # The build rewrote about.html with the same bytes: that tab is left alone.
    server.wait_for_line(r"build .* ok .*\(1 output changed\)")
    wait_connected(home)
    assert still_marked(about)
    assert not any("/about.html" in line and "reload" in line for line in server.lines[-4:])
    # The build's output was streamed to the terminal under its status line.
    running = next(i for i, line in enumerate(server.lines) if "running (index.txt changed)" in line)
    assert any("│ built 2 pages" in line for line in server.lines[running:])


def test_a_stylesheet_the_build_changes_is_swapped_in_place(serve, project, new_page) -> None:
    server = serve_build(serve, project)
    home = new_page(server.url + "index.html")
    mark(home)
    write_in_place(project.src / "style.css", "h1 { color: rgb(200, 30, 40); }\n")
    home.wait_for_function(
        "() => getComputedStyle(document.getElementById('title')).color === 'rgb(200, 30, 40)'", timeout=15_000
    )
    assert still_marked(home)
    server.wait_for_line(r"css\s+/style.css\s+hot")


def test_saves_during_a_build_are_merged_into_exactly_one_follow_up_build(serve, project, new_page) -> None:
    server = serve_build(serve, project)
    about = new_page(server.url + "about.html")
    assert project.builds() == 1
    write_atomic(project.src / "index.txt", "Home\nSLOW build")
    server.wait_for_line(r"running \(index.txt changed\)")
    write_atomic(project.src / "about.txt", "About 1\nfirst save")
    write_atomic(project.src / "about.txt", "About 2\nsecond save")
    write_in_place(project.src / "style.css", "h1 { color: rgb(1, 2, 3); }\n")
    write_atomic(project.src / "index.txt", "Home\nquick build")
    wait_text(about, '#title', "About 2")
    server.wait_for_line(r"running \(3 files changed\)")
    server.wait_for_line(r"build .* ok .*\(3 outputs changed\)")
    # The slow build, then one follow-up for everything saved during it.
    assert project.builds() == 3


def wait_until(condition, timeout: float = 15.0, what: str = "condition") -> None:
    """Poll ``condition`` (bounded in time) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_a_page_requested_during_a_build_waits_for_the_complete_page(serve, project, new_page) -> None:
    server = serve_build(serve, project)
    write_atomic(project.src / "index.txt", "Home after the slow build\nSLOW")
    index = project.out / "index.html"
    wait_until(lambda: "<!--HALF-->" in index.read_text(), what="the build to write half of index.html")
    page = new_page()
    page.goto(server.url + "index.html")
    assert page.locator("#title").text_content() == "Home after the slow build"
    assert page.locator("#end").text_content() == "end of page"


def test_a_failing_build_shows_its_error_in_every_tab_until_a_good_build(serve, project, new_page) -> None:
    server = serve_build(serve, project)
    home = new_page(server.url + "index.html")
    about = new_page(server.url + "about.html")
    mark(home)
    write_in_place(project.src / "about.txt", "About\nBROKEN")
    for tab in (home, about):
        text = wait_overlay(tab)
        assert "Build failed" in text
        assert "exited with status 1" in text
        assert "mini_ssg.py" in text  # the command
        assert f"{project.src / 'about.txt'}:2" in text  # the place, readable
        assert "error: " in text and "unknown directive 'BROKEN'" in text
        assert "\x1b" not in text and "]8;;" not in text
    server.wait_for_line(r"build .* failed .*exit status 1.*error shown in 2 tabs")
    # The overlay lives in a shadow root: the page's own styles are untouched.
    assert home.evaluate("getComputedStyle(document.body).backgroundColor") == "rgba(0, 0, 0, 0)"

    write_in_place(project.src / "about.txt", "About, fixed\nall good")
    wait_text(about, '#title', "About, fixed")
    wait_no_overlay(about)
    wait_no_overlay(home)
    assert still_marked(home)


def test_a_tab_opened_while_the_build_is_broken_shows_the_error(serve, project, new_page) -> None:
    server = serve_build(serve, project)
    write_atomic(project.src / "index.txt", "Home\nBROKEN")
    server.wait_for_line(r"build .* failed")
    late = new_page(server.url + "about.html")
    assert "exited with status 1" in wait_overlay(late)
    write_atomic(project.src / "index.txt", "Home again\nfine")
    wait_no_overlay(late)


def test_a_build_writing_into_its_own_sources_does_not_start_itself(serve, project, new_page) -> None:
    server = serve_build(serve, project, command=project.command("--write-into-sources"))
    # The first build creates _toc.dat and _stamp.dat in src/. The next shows
    # that _toc.dat is rewritten as it is; _stamp.dat changes during every
    # build, each started only by its previous change: after two extra builds
    # it counts as the build's own file.
    server.wait_for_line(r"the build writes .*_stamp.dat", timeout=20)
    assert not any("_toc.dat" in line and "warning" in line for line in server.lines)
    settled = project.builds()
    assert settled == 3
    home = new_page(server.url + "index.html")
    for n in (1, 2):
        write_atomic(project.src / "index.txt", f"Edit {n}\ntext")
        wait_text(home, '#title', f"Edit {n}")
        wait_connected(home)
    assert project.builds() == settled + 2


def test_the_output_folder_inside_a_watched_folder_is_never_a_source(serve, tmp_path, new_page) -> None:
    project = Project(tmp_path / "project")
    project.out = project.src / "_site"
    server = serve(str(project.out), "--watch", str(project.src), "--build", project.command())
    server.wait_for_line(r"build .* ok ", timeout=20)
    home = new_page(server.url + "index.html")
    for n in (1, 2):
        write_atomic(project.src / "index.txt", f"Edit {n}\ntext")
        wait_text(home, '#title', f"Edit {n}")
        wait_connected(home)
    assert project.builds() == 3


def test_a_build_past_its_timeout_is_stopped_with_everything_it_started(serve, project, new_page) -> None:
    server = serve_build(serve, project, "--build-timeout", "1")
    home = new_page(server.url + "index.html")
    write_atomic(project.src / "about.txt", "About\nHANG")
    text = wait_overlay(home)
    assert "timed out after 1 s" in text
    pid = int((project.root / "hang.pid").read_text())
    server.wait_for_line(r"build .* failed .*timed out")
    # The build's child was in its process group: it is gone too (or a zombie
    # about to be reaped by init).
    status = Path(f"/proc/{pid}/stat")
    assert not status.exists() or status.read_text().split(") ")[1].startswith("Z")


def test_build_shell_runs_the_command_through_the_shell(serve, project, new_page) -> None:
    command = project.command() + " && echo shell-was-here"
    server = serve_build(serve, project, "--build-shell", command=command)
    server.wait_for_line(r"│ shell-was-here")
    assert (project.out / "index.html").exists()


def test_build_without_a_source_to_watch_is_a_one_line_error(project) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "hotreload", "serve", str(project.out), "--build", "true", "--port", "0"],
        cwd=REPO, capture_output=True, text=True, timeout=20, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert out.returncode == 2
    assert re.fullmatch(r"hotreload: error: --build needs a source to watch: add --watch SRC\n", out.stderr)
