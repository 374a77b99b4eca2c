"""The page tracker: which pages use a file, learnt from what the server serves and
what changes on disk (a real StaticFiles handler on a loopback aiohttp server)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from conftest import run_async
from hotreload.pagetracker import PageTracker
from hotreload.static import StaticFiles

NAVIGATE = {"Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate", "Accept": "text/html"}


class Browsing:
    """A served folder and a way to request from it as a browser tab would."""

    def __init__(self, root: Path, server: TestServer, session: aiohttp.ClientSession, tracker: PageTracker) -> None:
        self.root = root
        self.server = server
        self.session = session
        self.tracker = tracker

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def open_page(self, path: str) -> None:
        """Navigate to a page, as a tab does."""
        async with self.session.get(self.url(path), headers=NAVIGATE) as response:
            assert response.status == 200
            await response.read()

    async def load(self, path: str, referer: str | None = None, **extra: str) -> None:
        """Request a file on behalf of ``referer`` (a path on this site, or a full URL)."""
        headers = dict(extra)
        if referer is not None:
            headers["Referer"] = referer if "://" in referer else self.url(referer)
        async with self.session.get(self.url(path), headers=headers) as response:
            assert response.status == 200, path
            await response.read()


def browse(root: Path, steps: Callable[[Browsing], Awaitable[None]]) -> None:
    async def run() -> None:
        tracker = PageTracker()
        static = StaticFiles(
            root, client_tag=lambda: "<script></script>", on_page=tracker.page_served, on_file=tracker.file_served
        )
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", static.handle)
        server = TestServer(app, host="127.0.0.1", port=0)
        await server.start_server()
        try:
            async with aiohttp.ClientSession() as session:
                await steps(Browsing(root, server, session, tracker))
        finally:
            await tracker.close()
            await server.close()

    run_async(asyncio.wait_for(run(), 30))


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_stylesheet_its_imports_and_their_fonts_belong_to_the_pages_that_link_it(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "index.html": '<link rel="stylesheet" href="css/site.css"><h1>Home</h1>',
        "about.html": "<h1>About</h1>",
        "css/site.css": '@import "theme.css"; body { color: red }',
        "css/theme.css": '@font-face { font-family: x; src: url("../fonts/x.woff2") }',
        "fonts/x.woff2": "font",
    })

    async def steps(tab: Browsing) -> None:
        await tab.open_page("/")
        await tab.open_page("/about.html")
        await tab.load("/css/site.css", referer="/")
        await tab.load("/css/theme.css", referer="/css/site.css")
        await tab.tracker.settled()
        assert tab.tracker.pages_using("/css/site.css") == {"/"}
        assert tab.tracker.pages_using("/css/theme.css") == {"/"}
        assert tab.tracker.pages_using("/fonts/x.woff2") == {"/"}
        assert tab.tracker.pages_using("/about.html") == {"/about.html"}

    browse(root, steps)


def test_a_folder_and_its_index_are_one_page(tmp_path: Path) -> None:
    root = write(tmp_path, {"docs/index.html": '<img src="logo.png">', "docs/logo.png": "png"})

    async def steps(tab: Browsing) -> None:
        await tab.open_page("/docs/")
        await tab.tracker.settled()
        assert tab.tracker.pages_using("/docs/logo.png") == {"/docs/"}
        assert tab.tracker.pages_using("/docs/index.html") == {"/docs/"}

    browse(root, steps)


def test_what_a_page_fetches_at_run_time_belongs_to_it(tmp_path: Path) -> None:
    root = write(tmp_path, {"app.html": "<h1>App</h1>", "data/items.json": "[]", "data/other.json": "[]"})

    async def steps(tab: Browsing) -> None:
        await tab.open_page("/app.html")
        await tab.load("/data/items.json", referer="/app.html?tab=2#top")
        await tab.tracker.settled()
        assert tab.tracker.pages_using("/data/items.json") == {"/app.html"}

    browse(root, steps)


def test_a_file_no_browser_has_requested_is_used_by_no_page(tmp_path: Path) -> None:
    root = write(tmp_path, {"index.html": "<h1>Home</h1>", "notes.md": "# notes", "unused.css": "p {}"})

    async def steps(tab: Browsing) -> None:
        await tab.open_page("/")
        await tab.tracker.settled()
        assert tab.tracker.pages_using("/notes.md") == frozenset()
        assert tab.tracker.pages_using("/unused.css") == frozenset()

    browse(root, steps)


def test_a_file_requested_without_a_referer_naming_a_page_cannot_be_placed(tmp_path: Path) -> None:
    root = write(tmp_path, {"index.html": "<h1>Home</h1>", "feed.bin": "data", "other.bin": "data"})

    async def steps(tab: Browsing) -> None:
        await tab.open_page("/")
        await tab.load("/feed.bin")  # say fetch(url, {referrerPolicy: "no-referrer"})
        await tab.load("/other.bin", referer="http://elsewhere.test/page.html")
        await tab.tracker.settled()
        assert tab.tracker.pages_using("/feed.bin") is None
        assert tab.tracker.pages_using("/other.bin") is None
        assert ".bin" in tab.tracker.why_unplaced("/feed.bin")

    browse(root, steps)


def test_an_edited_page_is_read_again_when_its_tab_fetches_the_new_version(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "index.html": '<link rel="stylesheet" href="old.css">',
        "old.css": "p {}",
        "new.css": "p {}",
    })

    async def steps(tab: Browsing) -> None:
        await tab.open_page("/")
        await tab.tracker.settled()
        assert tab.tracker.pages_using("/new.css") == frozenset()
        (root / "index.html").write_text('<link rel="stylesheet" href="new.css">')
        tab.tracker.files_changed({"/index.html": "modified"})
        await tab.load("/", referer="/")  # the tab fetches the page to morph it
        await tab.tracker.settled()
        assert tab.tracker.pages_using("/new.css") == {"/"}
        assert tab.tracker.pages_using("/old.css") == frozenset()

    browse(root, steps)


def test_an_edited_stylesheet_is_read_again_when_it_is_served_again(tmp_path: Path) -> None:
    root = write(tmp_path, {"index.html": '<link rel="stylesheet" href="a.css">', "a.css": "p {}", "b.css": "p {}"})

    async def steps(tab: Browsing) -> None:
        await tab.open_page("/")
        await tab.load("/a.css", referer="/")
        await tab.tracker.settled()
        (root / "a.css").write_text('@import "b.css";')
        tab.tracker.files_changed({"/a.css": "modified"})
        await tab.load("/a.css?hr=2", referer="/")  # the tab swaps in the new version
        await tab.tracker.settled()
        assert tab.tracker.pages_using("/b.css") == {"/"}

    browse(root, steps)


def test_a_deleted_page_no_longer_uses_anything(tmp_path: Path) -> None:
    root = write(tmp_path, {"gone.html": '<img src="pic.png">', "pic.png": "png"})

    async def steps(tab: Browsing) -> None:
        await tab.open_page("/gone.html")
        await tab.tracker.settled()
        assert tab.tracker.pages_using("/pic.png") == {"/gone.html"}
        (root / "gone.html").unlink()
        tab.tracker.files_changed({"/gone.html": "deleted"})
        await tab.tracker.settled()
        assert tab.tracker.pages_using("/pic.png") == frozenset()

    browse(root, steps)


def test_page_names_with_spaces_and_escapes_match_the_files_that_change(tmp_path: Path) -> None:
    root = write(tmp_path, {"my page.html": '<img src="a%20b.png">', "a b.png": "png", "100%.html": "<p>x</p>"})

    async def steps(tab: Browsing) -> None:
        await tab.open_page("/my%20page.html")
        await tab.open_page("/100%25.html")
        await tab.tracker.settled()
        assert tab.tracker.pages_using("/a b.png") == {"/my page.html"}
        assert tab.tracker.pages_using("/100%.html") == {"/100%.html"}

    browse(root, steps)


def test_a_fetch_of_html_that_is_no_known_page_is_not_read_as_a_page(tmp_path: Path) -> None:
    root = write(tmp_path, {"index.html": "<h1>Home</h1>", "partial.html": "<li>item</li>"})

    async def steps(tab: Browsing) -> None:
        await tab.open_page("/")
        await tab.load("/partial.html", referer="/")  # say an htmx partial
        await tab.tracker.settled()
        assert tab.tracker.pages_using("/partial.html") == {"/"}

    browse(root, steps)


def test_planning_can_wait_for_a_big_page_still_being_read(tmp_path: Path) -> None:
    paragraphs = "".join(f'<p>{n} <img src="img/{n % 7}.png"></p>\n' for n in range(5000))
    root = write(tmp_path, {"long.html": paragraphs + '<img src="img/last.png">', "img/last.png": "png"})

    async def steps(tab: Browsing) -> None:
        await tab.open_page("/long.html")
        await tab.tracker.settled(timeout=30)
        assert not tab.tracker.busy
        assert tab.tracker.pages_using("/img/last.png") == {"/long.html"}

    browse(root, steps)
