"""The Python API (`from hotreload import DevServer`), seen from real tabs in headless Chromium.

Each server runs in this process, in its own thread and event loop, entered with
``async with`` as an asyncio program would; the tests call the API from their
own thread, as a build script's other threads would.
"""

from __future__ import annotations

import asyncio
import html
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web

from conftest import REPO, ServerProcess, run_async, wait_connected, write_atomic, write_in_place
from hotreload import BuildFailed, BuildResult, Config, DevServer
from hotreload.terminal import Terminal
from inprocess import run_server, terminal  # noqa: F401 - fixtures used by name
from pages import mark, still_marked, wait_no_overlay, wait_overlay, wait_reloaded, wait_text


def page_html(title: str, body: str = "") -> str:
    return (
        '<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="style.css">'
        f"<title>{html.escape(title)}</title></head>"
        f'<body><h1 id="title">{html.escape(title)}</h1><p id="body">{html.escape(body)}</p></body></html>\n'
    )


def make_builder(content: Path, site: Path, calls: list[list[Path]]) -> Callable[[list[Path]], None]:
    """A generator in Python: content/*.txt (title, then body) become site/*.html; every page rewritten."""

    def build(changed: list[Path]) -> None:
        calls.append(list(changed))
        site.mkdir(exist_ok=True)
        for source in sorted(content.glob("*.txt")):
            title, _, body = source.read_text().partition("\n")
            if "BROKEN" in body:
                raise BuildFailed(
                    f"cannot read {source.name}", output=f"\x1b[31m{source}:2: BROKEN is not allowed\x1b[0m\n",
                    file=source, line=2, column=1,
                )
            if "CRASH" in body:
                raise ValueError(f"crashed on {source.name}")
            (site / f"{source.stem}.html").write_text(page_html(title, body))

    return build


@pytest.fixture
def content(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "index.txt").write_text("Home\nwelcome")
    (folder / "about.txt").write_text("About\nwho we are")
    return folder


def test_a_python_build_runs_on_each_save_and_only_the_changed_page_reloads(
    tmp_path, content, run_server, new_page, terminal
) -> None:
    site = tmp_path / "site"
    calls: list[list[Path]] = []
    started: list[list[Path]] = []
    ended: list[tuple[bool, list[Path]]] = []
    server = DevServer(site, port=0, terminal=Terminal(1, terminal))
    server.watch(content, make_builder(content, site, calls))
    server.on_build_start(started.append)

    @server.on_build_end
    async def finished(result: BuildResult, changed: list[Path]) -> None:
        ended.append((result.ok, changed))

    run_server(server)
    home = new_page(server.url + "index.html")
    about = new_page(server.url + "about.html")
    mark(home)
    mark(about)
    write_atomic(content / "index.txt", "Home, rebuilt\nwelcome back")
    wait_text(home, "#title", "Home, rebuilt")
    wait_connected(home)
    assert still_marked(about)
    changed = [content.resolve() / "index.txt"]
    assert [[p.resolve() for p in c] for c in calls] == [[], changed]
    assert [[p.resolve() for p in c] for c in started] == [[], changed]
    assert [(ok, [p.resolve() for p in c]) for ok, c in ended] == [(True, []), (True, changed)]
    terminal.wait_for(r"build .*build\(\)\s+ok .*\(1 output changed\)")


def test_an_async_build_and_its_stylesheet_are_applied_hot(tmp_path, run_server, new_page) -> None:
    site, styles = tmp_path / "site", tmp_path / "styles"
    site.mkdir()
    styles.mkdir()
    (site / "index.html").write_text(page_html("Styled"))
    (styles / "style.txt").write_text("rgb(0, 0, 0)")

    async def build(changed: list[Path]) -> None:
        await asyncio.sleep(0)
        color = (styles / "style.txt").read_text()
        (site / "style.css").write_text(f"h1 {{ color: {color}; }}\n")

    server = DevServer(site, port=0, verbosity=0)
    server.watch(styles, build)
    run_server(server)
    page = new_page(server.url + "index.html")
    mark(page)
    write_in_place(styles / "style.txt", "rgb(10, 120, 30)")
    page.wait_for_function(
        "() => getComputedStyle(document.getElementById('title')).color === 'rgb(10, 120, 30)'", timeout=15_000
    )
    assert still_marked(page)


def test_a_build_that_raises_shows_the_error_until_the_next_good_build(
    tmp_path, content, run_server, new_page, terminal
) -> None:
    site = tmp_path / "site"
    server = DevServer(site, port=0, terminal=Terminal(1, terminal))
    server.watch(content, make_builder(content, site, []))
    run_server(server)
    home = new_page(server.url + "index.html")

    write_atomic(content / "about.txt", "About\nBROKEN")
    text = wait_overlay(home, "cannot read about.txt")
    assert f"{content / 'about.txt'}:2:1" in text
    assert "BROKEN is not allowed" in text
    assert "Traceback" not in text and "\x1b" not in text
    terminal.wait_for(r"build .* failed .*cannot read about.txt.*error shown in 1 tab\)")

    write_atomic(content / "about.txt", "About\nCRASH")
    text = wait_overlay(home, "ValueError: crashed on about.txt")
    assert "Traceback (most recent call last)" in text

    write_atomic(content / "about.txt", "About again\nfine")
    wait_no_overlay(home)
    about = new_page(server.url + "about.html")
    assert about.locator("#title").text_content() == "About again"


def test_show_error_reaches_every_tab_and_later_ones_until_clear_error(tmp_path, run_server, new_page) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(page_html("Home"))
    server = DevServer(site, port=0, verbosity=0)
    run_server(server)
    first = new_page(server.url + "index.html")
    # From this thread, not the server's: the API hands the call over.
    server.show_error(
        "Lint failed", "2 problems", output="\x1b[33mjs/app.js:3:5\x1b[0m  'x' is not defined\n",
        file="js/app.js", line=3, column=5,
    )
    text = wait_overlay(first, "Lint failed")
    assert "2 problems" in text and "js/app.js:3:5" in text and "'x' is not defined" in text
    assert "\x1b" not in text
    later = new_page(server.url + "index.html")
    wait_overlay(later, "Lint failed")
    server.clear_error()
    wait_no_overlay(first)
    wait_no_overlay(later)


def test_reload_reloads_one_page_or_every_tab(tmp_path, run_server, new_page) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(page_html("Home"))
    (site / "about.html").write_text(page_html("About"))
    server = DevServer(site, port=0, verbosity=0)
    run_server(server)
    home = new_page(server.url)
    about = new_page(server.url + "about.html")
    mark(home)
    mark(about)
    server.reload("/about.html", reason="data refreshed")
    wait_reloaded(about)
    assert still_marked(home)
    mark(about)
    server.reload()
    wait_reloaded(home)
    wait_reloaded(about)


def test_notify_announces_files_the_watcher_was_told_to_ignore(tmp_path, run_server, new_page) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(page_html("Home"))
    (site / "about.html").write_text(page_html("About"))
    (site / "style.css").write_text("h1 { color: rgb(0, 0, 0); }\n")
    server = DevServer(config=Config(root=site, port=0, verbosity=0, ignore=["*.css", "*.html"]))
    run_server(server)
    home = new_page(server.url)
    about = new_page(server.url + "about.html")
    mark(home)
    mark(about)
    (site / "style.css").write_text("h1 { color: rgb(5, 6, 7); }\n")
    server.notify([site / "style.css"])
    home.wait_for_function(
        "() => getComputedStyle(document.getElementById('title')).color === 'rgb(5, 6, 7)'", timeout=15_000
    )
    (site / "about.html").write_text(page_html("About, notified"))
    server.notify(site / "about.html")
    wait_text(about, "#title", "About, notified")
    assert still_marked(home)


def test_a_watch_without_an_action_reloads_every_tab(tmp_path, run_server, new_page) -> None:
    site, templates = tmp_path / "site", tmp_path / "templates"
    site.mkdir()
    templates.mkdir()
    (site / "index.html").write_text(page_html("Home"))
    (site / "about.html").write_text(page_html("About"))
    (templates / "base.html").write_text("{{ body }}")
    server = DevServer(site, port=0, verbosity=0)
    server.watch(templates)
    run_server(server)
    home = new_page(server.url)
    about = new_page(server.url + "about.html")
    mark(home)
    mark(about)
    write_atomic(templates / "base.html", "<main>{{ body }}</main>")
    wait_reloaded(home)
    wait_reloaded(about)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_attach_serves_the_site_beside_the_applications_own_routes(tmp_path, new_page) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(page_html("Home"))
    (site / "style.css").write_text("h1 { color: rgb(0, 0, 0); }\n")

    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"hello": "world"})

    app = web.Application()
    app.router.add_get("/api/hello", hello)
    server = DevServer(site, verbosity=0)
    server.attach(app)
    port = free_port()
    ready, stop = threading.Event(), threading.Event()

    async def main() -> None:
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        await runner.cleanup()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    try:
        assert ready.wait(30)
        url = f"http://127.0.0.1:{port}/"
        page = new_page(url)
        assert page.evaluate("fetch('/api/hello').then(r => r.json())") == {"hello": "world"}
        mark(page)
        write_in_place(site / "style.css", "h1 { color: rgb(70, 80, 90); }\n")
        page.wait_for_function(
            "() => getComputedStyle(document.getElementById('title')).color === 'rgb(70, 80, 90)'", timeout=15_000
        )
        assert still_marked(page)
        # The site's routes keep their Host check; the application's own are its business.
        status = page.evaluate("fetch('/__hotreload/ping').then(r => r.status)")
        assert status == 200
    finally:
        stop.set()
        thread.join(30)


# --- the examples in docs/api.md ---------------------------------------------------


def doc_programs() -> list[str]:
    """The complete programs in docs/api.md (the blocks that run a server)."""
    text = (REPO / "docs" / "api.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    return [b for b in blocks if "serve_forever()" in b or "asyncio.run(main())" in b or "web.run_app(" in b]


class ExampleProcess(ServerProcess):
    """A program from the docs, run as ``python example.py`` in its own folder."""

    def __init__(self, folder: Path, port: int) -> None:
        self.lines = []
        self._new = queue.Queue()
        self.url = f"http://127.0.0.1:{port}/"
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "example.py"], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        threading.Thread(target=self._read, daemon=True).start()


def run_program(source: str, folder: Path, port: int) -> ExampleProcess:
    folder.mkdir(parents=True, exist_ok=True)
    assert "port=8000" in source
    (folder / "example.py").write_text(source.replace("port=8000", f"port={port}"))
    return ExampleProcess(folder, port)


def test_docs_has_three_complete_programs() -> None:
    assert len(doc_programs()) == 3


def test_the_generator_example_builds_shows_errors_and_stops_cleanly(tmp_path, new_page) -> None:
    program = doc_programs()[0]
    folder = tmp_path / "example"
    process = run_program(program, folder, free_port())
    try:
        process.wait_for_line(r"build .* ok ", timeout=20)
        page = new_page(process.url + "index.html")
        index = folder / "content" / "index.md"
        write_atomic(index, "# Edited\nnew text")
        wait_text(page, "h1", "Edited")
        wait_connected(page)
        write_atomic(index, "Edited\nno title line")
        text = wait_overlay(page, "a page must start with a '# Title' line")
        assert "content/index.md:1" in text
        write_atomic(index, "# Fixed\nall good")
        wait_text(page, "h1", "Fixed")
    finally:
        code = process.stop()
    assert code == 0
    assert not any("Traceback" in line for line in process.lines)


def test_the_asyncio_example_serves_and_builds(tmp_path) -> None:
    process = run_program(doc_programs()[1], tmp_path / "example", free_port())
    try:
        process.wait_for_line(r"serving http://127\.0\.0\.1:\d+/", timeout=20)
        process.wait_for_line(r"│ building")
    finally:
        process.stop()


def test_the_attach_example_serves_the_api_and_the_site(tmp_path, new_page) -> None:
    folder = tmp_path / "example"
    (folder / "_site").mkdir(parents=True)
    (folder / "_site" / "index.html").write_text(page_html("Attached"))
    process = run_program(doc_programs()[2], folder, free_port())
    try:
        process.wait_for_line("Running on", timeout=20)
        page = new_page(process.url)
        assert page.evaluate("fetch('/api/hello').then(r => r.json())") == {"hello": "world"}
        mark(page)
        write_atomic(folder / "_site" / "index.html", page_html("Attached, edited"))
        wait_text(page, "#title", "Attached, edited")
    finally:
        process.stop()


def test_the_served_folder_is_made_for_a_build_and_a_missing_source_is_a_clear_error(tmp_path) -> None:
    server = DevServer(tmp_path / "out", port=0)
    server.watch(tmp_path / "missing", "true")

    async def start() -> str:
        try:
            await server.start()
        except Exception as exc:  # noqa: BLE001 - the message is the point
            await server.stop()
            return str(exc)
        await server.stop()
        return "started"

    assert run_async(start()) == f"watched path not found: {tmp_path / 'missing'}"
    assert (tmp_path / "out").is_dir()
    shutil.rmtree(tmp_path / "out")
