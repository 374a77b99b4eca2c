"""In-place refresh of stylesheets and images (`client_js/swap.js`) in a real Chromium.

Each test writes a small site into its own folder, opens it over HTTP, changes a
file on disk, calls the client function and checks what a user would see:
colours, image sizes and pixels, and that nothing went blank in between.
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from playwright.sync_api import BrowserContext, Page

CLIENT_JS = Path(__file__).resolve().parent.parent / "client_js"

RED = (220, 30, 30)
GREEN = (30, 180, 60)
BLUE = (40, 60, 210)

CONTENT_TYPES = {
    ".html": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}

# Loaded into every test page: the module under test, and a sampler that records
# a value on every animation frame while an update runs.
PAGE_TEMPLATE = """<!doctype html>
<html><head><meta charset="utf-8">
<script type="module">
import * as swap from '/__hotreload/swap.js';
window.swap = swap;
window.duringEveryFrame = async (sample, action) => {{
  const seen = [];
  let running = true;
  const record = () => {{
    const value = sample();
    if (seen.length === 0 || seen[seen.length - 1] !== value) seen.push(value);
    if (running) requestAnimationFrame(record);
  }};
  record();
  const result = await action();
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  running = false;
  record();
  return {{ result, seen }};
}};
</script>
{head}
</head><body>
{body}
</body></html>
"""


# ---------------------------------------------------------------------------
# A static file server like the dev server: no-cache, ETag and 304
# ---------------------------------------------------------------------------


@dataclass
class SiteServer:
    """Serves `root` and the client modules on a loopback port, from a thread."""

    root: Path
    base_url: str = ""
    requests: list[str] = field(default_factory=list)
    # Path -> seconds to hold back responses for versioned (`?hr=`) requests of it.
    slow_versions: dict[str, float] = field(default_factory=dict)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request.path_qs)
        if request.path.startswith("/__hotreload/"):
            file = CLIENT_JS / request.path.removeprefix("/__hotreload/")
        else:
            file = self.root / request.path.lstrip("/")
        if not file.is_file():
            raise web.HTTPNotFound()
        body = file.read_bytes()
        if "hr" in request.query and request.path in self.slow_versions:
            # Read first, answer later: the response carries the bytes of its request's moment.
            await asyncio.sleep(self.slow_versions[request.path])
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {"Cache-Control": "no-cache", "ETag": etag}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        content_type = CONTENT_TYPES.get(file.suffix, "application/octet-stream")
        return web.Response(body=body, content_type=content_type, headers=headers)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SiteServer]:
    site_server = SiteServer(root=tmp_path_factory.mktemp("sites"))
    # The server gets a thread and loop of its own: Playwright's sync API owns the main thread's loop.
    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_get("/{tail:.*}", site_server.handle)
    runner = web.AppRunner(app)

    async def start() -> None:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
    site_server.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield site_server
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


@pytest.fixture
def page(browser_context: BrowserContext) -> Iterator[Page]:
    tab = browser_context.new_page()
    yield tab
    tab.close()


@dataclass
class Site:
    """One test's folder on the server."""

    server: SiteServer
    folder: Path
    prefix: str

    def write(self, path: str, content: str | bytes) -> None:
        file = self.folder / path
        file.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            file.write_text(content, encoding="utf-8")
        else:
            file.write_bytes(content)

    def url(self, path: str) -> str:
        return f"{self.server.base_url}{self.prefix}{quote(path)}"

    def slow_down_new_versions(self, path: str, seconds: float) -> None:
        self.server.slow_versions[self.prefix + path] = seconds

    def open(self, page: Page, *, head: str = "", body: str = "") -> None:
        self.write("index.html", PAGE_TEMPLATE.format(head=head, body=body))
        page.goto(self.url("index.html"))
        page.wait_for_function("window.swap !== undefined")

    def saw_request(self, path_and_query: str) -> bool:
        return self.prefix + path_and_query in self.server.requests


@pytest.fixture
def site(server: SiteServer, request: pytest.FixtureRequest) -> Site:
    name = request.node.name.replace("[", "-").replace("]", "")
    folder = server.root / name
    folder.mkdir()
    return Site(server=server, folder=folder, prefix=f"/{name}/")


# ---------------------------------------------------------------------------
# Pictures and pixels
# ---------------------------------------------------------------------------


def solid_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A PNG of one colour."""
    row = b"\x00" + bytes(rgb) * width
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


def png_centre_pixel(data: bytes) -> tuple[int, int, int]:
    """The middle pixel of an 8-bit RGB or RGBA, non-interlaced PNG (as Chromium screenshots are)."""
    position, idat = 8, b""
    width = height = channels = 0
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        payload = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type = struct.unpack(">IIBB", payload[:10])
            assert depth == 8 and colour_type in (2, 6), "unexpected screenshot format"
            channels = 3 if colour_type == 2 else 4
        elif kind == b"IDAT":
            idat += payload
        position += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    rows = []
    for y in range(height):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        kind, current = line[0], bytearray(line[1:])
        for x in range(stride):
            left = current[x - channels] if x >= channels else 0
            up = previous[x]
            up_left = previous[x - channels] if x >= channels else 0
            if kind == 1:
                current[x] = (current[x] + left) & 0xFF
            elif kind == 2:
                current[x] = (current[x] + up) & 0xFF
            elif kind == 3:
                current[x] = (current[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - up_left
                nearest = min((abs(estimate - left), 0, left), (abs(estimate - up), 1, up),
                              (abs(estimate - up_left), 2, up_left))[2]
                current[x] = (current[x] + nearest) & 0xFF
        rows.append(current)
        previous = current
    middle = rows[height // 2][(width // 2) * channels:(width // 2) * channels + 3]
    return middle[0], middle[1], middle[2]


def close_to(actual: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - e) <= 8 for a, e in zip(actual, expected))


def screen_colour(page: Page, selector: str) -> tuple[int, int, int]:
    """The colour a user sees in the middle of the element."""
    return png_centre_pixel(page.locator(selector).screenshot(animations="disabled"))


def eventually(page: Page, condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    """Check `condition` once per animation frame until it holds or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        page.evaluate("new Promise((done) => requestAnimationFrame(done))")
    return condition()


def image_state(page: Page, selector: str) -> dict[str, Any]:
    """Natural size of an <img> and the colour of its middle pixel, read through a canvas."""
    return page.evaluate(
        """(selector) => {
            const image = document.querySelector(selector);
            const canvas = document.createElement('canvas');
            canvas.width = image.naturalWidth;
            canvas.height = image.naturalHeight;
            const context = canvas.getContext('2d');
            context.drawImage(image, 0, 0);
            const [r, g, b] = context.getImageData(image.naturalWidth >> 1, image.naturalHeight >> 1, 1, 1).data;
            return { width: image.naturalWidth, colour: [r, g, b] };
        }""",
        selector,
    )


def rgb(colour: tuple[int, int, int]) -> str:
    return "rgb({}, {}, {})".format(*colour)


def update_stylesheet(page: Page, url: str, version: str) -> int:
    return page.evaluate("([url, version]) => swap.updateStylesheet(url, version)", [url, version])


def update_image(page: Page, url: str, version: str) -> int:
    return page.evaluate("([url, version]) => swap.updateImage(url, version)", [url, version])


def remember_nodes(page: Page, selector: str) -> None:
    page.evaluate("(selector) => { window.remembered = [...document.querySelectorAll(selector)]; }", selector)


def remembered_nodes_unchanged(page: Page, selector: str) -> bool:
    return page.evaluate(
        """(selector) => {
            const now = [...document.querySelectorAll(selector)];
            return now.length === window.remembered.length && now.every((node, i) => node === window.remembered[i]);
        }""",
        selector,
    )


def stylesheet_links(page: Page) -> list[dict[str, Any]]:
    return page.evaluate(
        """() => [...document.querySelectorAll('link')].map((link) => ({
            id: link.id, href: link.getAttribute('href'),
            attributes: Object.fromEntries([...link.attributes].map((a) => [a.name, a.value])),
        }))"""
    )


# ---------------------------------------------------------------------------
# Stylesheets linked from the page
# ---------------------------------------------------------------------------


def test_linked_stylesheet_swaps_without_an_unstyled_frame_and_keeps_its_place(page: Page, site: Site) -> None:
    site.write("base.css", "h1 { color: black; text-decoration-line: underline }")
    site.write("theme.css", f"h1 {{ color: {rgb(RED)}; letter-spacing: 1px }}")
    site.write("late.css", "h1 { letter-spacing: 5px }")
    site.open(page, head="""
        <link id="base" rel="stylesheet" href="base.css">
        <link id="theme" rel="stylesheet" href="theme.css" media="screen" title="main" data-role="theme">
        <link id="late" rel="stylesheet" href="late.css">""", body="<h1>Title</h1>")
    remember_nodes(page, "#base, #late")
    site.write("theme.css", f"h1 {{ color: {rgb(GREEN)}; letter-spacing: 3px }}")
    site.slow_down_new_versions("theme.css", 0.3)

    outcome = page.evaluate(
        """(url) => duringEveryFrame(
            () => getComputedStyle(document.querySelector('h1')).color,
            () => swap.updateStylesheet(url, '2'))""",
        site.url("theme.css"),
    )

    assert outcome["result"] == 1
    assert outcome["seen"] == [rgb(RED), rgb(GREEN)]
    # Cascade order kept: theme still beats base.css and still loses to late.css.
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).letterSpacing") == "5px"
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).textDecorationLine") == "underline"
    links = stylesheet_links(page)
    assert [link["id"] for link in links] == ["base", "theme", "late"]
    assert links[1]["attributes"] == {
        "id": "theme", "rel": "stylesheet", "href": site.url("theme.css") + "?hr=2",
        "media": "screen", "title": "main", "data-role": "theme",
    }
    assert remembered_nodes_unchanged(page, "#base, #late")


def test_print_disabled_and_script_disabled_stylesheets_stay_as_they_were(page: Page, site: Site) -> None:
    site.write("print.css", "h1 { color: black }")
    site.write("off.css", "h1 { color: black }")
    site.write("toggled.css", "h1 { color: black }")
    site.open(page, head="""
        <link id="print" rel="stylesheet" href="print.css" media="print">
        <link id="off" rel="stylesheet" href="off.css" disabled>
        <link id="toggled" rel="stylesheet" href="toggled.css">""", body="<h1>Title</h1>")
    page.evaluate("document.querySelector('#toggled').sheet.disabled = true")
    for name in ("print.css", "off.css", "toggled.css"):
        site.write(name, f"h1 {{ color: {rgb(GREEN)} }}")

    refreshed = [update_stylesheet(page, site.url(name), "7") for name in ("print.css", "off.css", "toggled.css")]

    assert refreshed == [1, 1, 1]
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).color") == "rgb(0, 0, 0)"
    links = {link["id"]: link["attributes"] for link in stylesheet_links(page)}
    assert links["print"]["media"] == "print"
    assert "disabled" in links["off"]
    assert links["off"]["href"] == site.url("off.css") + "?hr=7"
    assert page.evaluate("document.querySelector('#toggled').sheet.disabled") is True
    assert links["toggled"]["href"] == site.url("toggled.css") + "?hr=7"
    # The print sheet really holds the new rules, ready for printing.
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).color") == rgb(GREEN)


def test_stylesheets_that_fail_to_load_leave_the_old_ones_in_place(page: Page, site: Site) -> None:
    site.write("theme.css", f"h1 {{ color: {rgb(RED)} }}")
    site.write("main.css", '@import "parts.css";')
    site.write("parts.css", f"h2 {{ color: {rgb(RED)} }}")
    site.open(page, head="""
        <link id="theme" rel="stylesheet" href="theme.css">
        <link id="main" rel="stylesheet" href="main.css">
        <style>@import "parts.css"; h3 { color: rgb(0, 0, 3) }</style>""",
        body="<h1>Title</h1><h2>Subtitle</h2><h3>Section</h3>")
    remember_nodes(page, "link, style")
    (site.folder / "theme.css").unlink()
    (site.folder / "parts.css").unlink()

    assert update_stylesheet(page, site.url("theme.css"), "2") == 0
    assert update_stylesheet(page, site.url("parts.css"), "2") == 0

    assert page.evaluate("getComputedStyle(document.querySelector('h1')).color") == rgb(RED)
    assert page.evaluate("getComputedStyle(document.querySelector('h2')).color") == rgb(RED)
    assert remembered_nodes_unchanged(page, "link, style")


def test_two_quick_saves_end_on_the_newest_version_without_leftovers(page: Page, site: Site) -> None:
    site.write("theme.css", f"h1 {{ color: {rgb(RED)} }}")
    site.open(page, head='<link id="theme" rel="stylesheet" href="theme.css">', body="<h1>Title</h1>")
    site.write("theme.css", f"h1 {{ color: {rgb(GREEN)} }}")
    site.slow_down_new_versions("theme.css", 0.4)
    page.evaluate("(url) => { window.firstSave = swap.updateStylesheet(url, '1'); }", site.url("theme.css"))
    assert eventually(page, lambda: site.saw_request("theme.css?hr=1"))
    site.write("theme.css", f"h1 {{ color: {rgb(BLUE)} }}")
    site.slow_down_new_versions("theme.css", 0.0)

    results = page.evaluate(
        "(url) => Promise.all([window.firstSave, swap.updateStylesheet(url, '2')])", site.url("theme.css")
    )

    assert results == [1, 1]
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).color") == rgb(BLUE)
    assert [link["href"] for link in stylesheet_links(page)] == [site.url("theme.css") + "?hr=2"]


def test_a_file_the_page_does_not_use_refreshes_nothing(page: Page, site: Site) -> None:
    site.write("theme.css", f"h1 {{ color: {rgb(RED)} }}")
    site.write("elsewhere.css", "h1 { color: black }")
    site.open(page, head='<link rel="stylesheet" href="theme.css"><style>h2 { color: red }</style>')
    remember_nodes(page, "link, style")

    assert update_stylesheet(page, site.url("elsewhere.css"), "2") == 0
    assert remembered_nodes_unchanged(page, "link, style")


# ---------------------------------------------------------------------------
# Stylesheets reached through @import
# ---------------------------------------------------------------------------


def test_imported_stylesheet_refreshes_without_an_unstyled_frame(page: Page, site: Site) -> None:
    site.write("main.css", '@import "parts/colours.css";\nh1 { font-style: italic }\n.note { color: rgb(0, 0, 9) }')
    site.write("parts/colours.css", f"h1 {{ color: {rgb(RED)} }}\n.note {{ color: {rgb(RED)} }}")
    site.write("other.css", "h2 { color: rgb(0, 0, 7) }")
    site.open(page, head="""
        <link id="main" rel="stylesheet" href="main.css">
        <link id="other" rel="stylesheet" href="other.css">""",
        body='<h1>Title</h1><p class="note">Note</p>')
    remember_nodes(page, "#other")
    site.write("parts/colours.css", f"h1 {{ color: {rgb(GREEN)} }}\n.note {{ color: {rgb(GREEN)} }}")
    site.slow_down_new_versions("parts/colours.css", 0.3)

    outcome = page.evaluate(
        """(url) => duringEveryFrame(
            () => { const h1 = getComputedStyle(document.querySelector('h1')); return h1.color + ' ' + h1.fontStyle; },
            () => swap.updateStylesheet(url, '2'))""",
        site.url("parts/colours.css"),
    )

    assert outcome["result"] == 1
    assert outcome["seen"] == [rgb(RED) + " italic", rgb(GREEN) + " italic"]
    # The importing sheet's own rules still come after the imported ones.
    assert page.evaluate("getComputedStyle(document.querySelector('.note')).color") == "rgb(0, 0, 9)"
    assert [link["id"] for link in stylesheet_links(page)] == ["main", "other"]
    assert remembered_nodes_unchanged(page, "#other")


def test_import_three_levels_deep_from_style_block_and_link_refreshes_both(page: Page, site: Site) -> None:
    site.write("a.css", '@import "b.css";')
    site.write("b.css", '@import "deep/c.css";')
    site.write("deep/c.css", f"h1 {{ color: {rgb(RED)} }}\nh2 {{ color: {rgb(RED)} }}")
    site.write("shell.css", '@import "deep/c.css";\nh2 { font-weight: 300 }')
    site.write("unrelated.css", "p { color: rgb(0, 0, 5) }")
    site.open(page, head="""
        <style id="with-import">@import "a.css"; h1 { font-style: italic }</style>
        <style id="plain">p { margin: 0 }</style>
        <link id="unrelated" rel="stylesheet" href="unrelated.css">
        <link id="shell" rel="stylesheet" href="shell.css">""",
        body="<h1>Title</h1><h2>Subtitle</h2><p>Text</p>")
    remember_nodes(page, "#plain, #unrelated")
    site.write("deep/c.css", f"h1 {{ color: {rgb(GREEN)} }}\nh2 {{ color: {rgb(GREEN)} }}")
    site.slow_down_new_versions("deep/c.css", 0.3)

    outcome = page.evaluate(
        """(url) => duringEveryFrame(
            () => ['h1', 'h2'].map((tag) => getComputedStyle(document.querySelector(tag)).color).join(' '),
            () => swap.updateStylesheet(url, '2'))""",
        site.url("deep/c.css"),
    )

    assert outcome["result"] == 2
    assert outcome["seen"] == [f"{rgb(RED)} {rgb(RED)}", f"{rgb(GREEN)} {rgb(GREEN)}"]
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).fontStyle") == "italic"
    assert page.evaluate("getComputedStyle(document.querySelector('h2')).fontWeight") == "300"
    assert page.evaluate("[...document.querySelectorAll('style, link')].map((e) => e.id)") == [
        "with-import", "plain", "unrelated", "shell"]
    assert remembered_nodes_unchanged(page, "#plain, #unrelated")


def test_editing_the_importing_sheet_keeps_the_earlier_imported_change(page: Page, site: Site) -> None:
    site.write("main.css", '@import "colours.css";\nh1 { letter-spacing: 1px }')
    site.write("colours.css", f"h1 {{ color: {rgb(RED)} }}")
    site.open(page, head='<link rel="stylesheet" href="main.css">', body="<h1>Title</h1>")
    h1_style = "(() => { const h1 = getComputedStyle(document.querySelector('h1')); return h1.color + ' ' + h1.letterSpacing; })()"

    site.write("colours.css", f"h1 {{ color: {rgb(GREEN)} }}")
    assert update_stylesheet(page, site.url("colours.css"), "1") == 1
    assert page.evaluate(h1_style) == rgb(GREEN) + " 1px"

    site.write("main.css", '@import "colours.css";\nh1 { letter-spacing: 4px }')
    assert update_stylesheet(page, site.url("main.css"), "2") == 1
    assert page.evaluate(h1_style) == rgb(GREEN) + " 4px"

    site.write("colours.css", f"h1 {{ color: {rgb(BLUE)} }}")
    assert update_stylesheet(page, site.url("colours.css"), "3") == 1
    assert page.evaluate(h1_style) == rgb(BLUE) + " 4px"
    assert len(stylesheet_links(page)) == 1


# ---------------------------------------------------------------------------
# Images referenced by elements
# ---------------------------------------------------------------------------


def test_img_src_swaps_without_a_blank_frame_keeping_other_parameters(page: Page, site: Site) -> None:
    site.write("photo.png", solid_png(4, 4, RED))
    site.open(page, body='<img id="photo" src="photo.png?size=small#main">')
    remember_nodes(page, "img")
    site.write("photo.png", solid_png(6, 6, GREEN))
    site.slow_down_new_versions("photo.png", 0.3)

    outcome = page.evaluate(
        """(url) => duringEveryFrame(
            () => { const image = document.querySelector('#photo'); return image.complete + ' ' + image.naturalWidth; },
            () => swap.updateImage(url, '2'))""",
        site.url("photo.png"),
    )

    assert outcome["result"] == 1
    assert outcome["seen"] == ["true 4", "true 6"]
    assert image_state(page, "#photo") == {"width": 6, "colour": list(GREEN)}
    assert page.evaluate("document.querySelector('#photo').getAttribute('src')") == (
        site.url("photo.png") + "?size=small&hr=2#main")
    assert remembered_nodes_unchanged(page, "img")


def test_srcset_candidates_and_picture_sources_swap(page: Page, site: Site) -> None:
    site.write("photo.png", solid_png(4, 4, RED))
    site.write("large.png", solid_png(8, 8, BLUE))
    site.write("fallback.png", solid_png(2, 2, BLUE))
    site.open(page, body="""
        <img id="listed" srcset="large.png 2x, photo.png 1x">
        <picture><source srcset="photo.png" type="image/png"><img id="pictured" src="fallback.png"></picture>""")
    site.write("photo.png", solid_png(6, 6, GREEN))

    assert update_image(page, site.url("photo.png"), "3") == 2

    assert image_state(page, "#listed") == {"width": 6, "colour": list(GREEN)}
    assert eventually(page, lambda: image_state(page, "#pictured") == {"width": 6, "colour": list(GREEN)})
    assert page.evaluate("document.querySelector('#listed').getAttribute('srcset')") == (
        f"large.png 2x, {site.url('photo.png')}?hr=3 1x")


def test_svg_images_and_sprite_use_swap_keeping_the_fragment(page: Page, site: Site) -> None:
    sprite = ('<svg xmlns="http://www.w3.org/2000/svg"><symbol id="dot" viewBox="0 0 20 20">'
              '<rect width="{width}" height="20" fill="{fill}"/></symbol></svg>')
    site.write("tile.png", solid_png(4, 4, RED))
    site.write("sprite.svg", sprite.format(width=20, fill=rgb(RED)))
    site.open(page, body="""
        <svg id="plain" width="20" height="20"><image href="tile.png" width="20" height="20"/></svg>
        <svg id="xlinked" width="20" height="20"><image xlink:href="tile.png" width="20" height="20"/></svg>
        <svg id="sprite" width="20" height="20"><use href="sprite.svg#dot" width="20" height="20"/></svg>""")
    assert eventually(page, lambda: close_to(screen_colour(page, "#sprite"), RED))
    site.write("tile.png", solid_png(4, 4, GREEN))
    site.write("sprite.svg", sprite.format(width=10, fill=rgb(GREEN)))
    site.slow_down_new_versions("sprite.svg", 0.3)

    assert update_image(page, site.url("tile.png"), "4") == 2
    outcome = page.evaluate(
        """(url) => duringEveryFrame(
            () => document.querySelector('use').getBBox().width,
            () => swap.updateImage(url, '5'))""",
        site.url("sprite.svg"),
    )

    assert eventually(page, lambda: close_to(screen_colour(page, "#plain"), GREEN))
    assert eventually(page, lambda: close_to(screen_colour(page, "#xlinked"), GREEN))
    assert outcome["result"] == 1
    assert outcome["seen"] == [20, 10]
    assert page.evaluate("document.querySelector('use').getAttribute('href')") == site.url("sprite.svg") + "?hr=5#dot"
    assert page.evaluate("document.querySelectorAll('svg').length") == 3


def test_video_poster_image_input_and_favicon_swap(page: Page, site: Site) -> None:
    site.write("tile.png", solid_png(4, 4, RED))
    site.open(page, head='<link id="icon" rel="icon" href="tile.png">', body="""
        <video id="video" poster="tile.png" width="20" height="20"></video>
        <input id="button" type="image" src="tile.png" width="20" height="20" alt="Go">""")
    assert eventually(page, lambda: close_to(screen_colour(page, "#video"), RED))
    site.write("tile.png", solid_png(4, 4, GREEN))

    assert update_image(page, site.url("tile.png"), "6") == 3

    assert eventually(page, lambda: close_to(screen_colour(page, "#video"), GREEN))
    assert eventually(page, lambda: close_to(screen_colour(page, "#button"), GREEN))
    assert page.evaluate("document.querySelector('#icon').getAttribute('href')") == site.url("tile.png") + "?hr=6"


def test_image_that_fails_to_load_keeps_the_old_picture(page: Page, site: Site) -> None:
    site.write("photo.png", solid_png(4, 4, RED))
    site.open(page, body='<img id="photo" src="photo.png">')
    site.write("photo.png", b"\x89PNG half written")

    assert update_image(page, site.url("photo.png"), "2") == 0

    assert image_state(page, "#photo") == {"width": 4, "colour": list(RED)}
    assert page.evaluate("document.querySelector('#photo').getAttribute('src')") == "photo.png"


# ---------------------------------------------------------------------------
# Images referenced from CSS
# ---------------------------------------------------------------------------


def test_css_url_in_every_kind_of_rule_and_inline_style_swaps(page: Page, site: Site) -> None:
    site.write("tile.png", solid_png(4, 4, RED))
    site.write("linked.css", ".linked { background-image: url(tile.png) }")
    site.write("imported.css", '.imported { background: url("tile.png") repeat }')
    site.write("sub/relative.css", ".relative { background-image: url(../tile.png) }")
    site.open(page, head="""
        <link rel="stylesheet" href="linked.css">
        <link rel="stylesheet" href="sub/relative.css">
        <style>
          @import "imported.css";
          .block { background-image: url('tile.png') !important }
          @media all { .media { background-image: url(tile.png) } }
          @supports (display: grid) { .supports { background-image: url(tile.png) } }
          @layer tiles { .layered { background-image: url(tile.png) } }
          .parent { & .nested { background-image: url(tile.png) } }
          .labelled::after { content: "url(tile.png)"; }
        </style>""", body="""
        <div class="linked"></div><div class="imported"></div><div class="relative"></div>
        <div class="block"></div><div class="media"></div><div class="supports"></div>
        <div class="layered"></div><div class="parent"><div class="nested"></div></div>
        <div class="inline" style="background-image: url(tile.png)"></div>
        <div class="labelled"></div>
        <style>div:not(.parent) { width: 20px; height: 20px }</style>""")
    tiles = [".linked", ".imported", ".relative", ".block", ".media", ".supports", ".layered", ".nested", ".inline"]
    assert eventually(page, lambda: all(close_to(screen_colour(page, tile), RED) for tile in tiles))
    site.write("tile.png", solid_png(4, 4, GREEN))

    assert update_image(page, site.url("tile.png"), "8") == len(tiles)

    for tile in tiles:
        assert eventually(page, lambda: close_to(screen_colour(page, tile), GREEN)), tile
    # A string that merely reads like a URL is text, not a reference.
    assert page.evaluate("getComputedStyle(document.querySelector('.labelled'), '::after').content") == (
        '"url(tile.png)"')
    assert page.evaluate(
        """() => [...document.styleSheets].flatMap((sheet) => [...sheet.cssRules])
            .find((rule) => rule.selectorText === '.block').style.getPropertyPriority('background-image')"""
    ) == "important"


def test_quotes_escapes_and_custom_properties_in_css_urls(page: Page, site: Site) -> None:
    odd_name = "odd name (1) 'q'.png"
    site.write(odd_name, solid_png(4, 4, RED))
    site.open(page, head=r"""
        <style>
          .quoted { background-image: url("odd name (1) 'q'.png") }
          .custom { --tile: url(odd\ name\ \(1\)\ \'q\'.png); background-image: var(--tile) }
        </style>""", body="""
        <div class="quoted"></div><div class="custom"></div>
        <div class="inline" style='background-image: url("odd name (1) \\27q\\27.png")'></div>
        <style>div { width: 20px; height: 20px }</style>""")
    tiles = [".quoted", ".custom", ".inline"]
    assert eventually(page, lambda: all(close_to(screen_colour(page, tile), RED) for tile in tiles))
    site.write(odd_name, solid_png(4, 4, GREEN))

    # The file's URL as a server would spell it, with every reserved character escaped.
    refreshed = update_image(page, site.url(odd_name).replace("'", "%27"), "9")

    assert refreshed == 3
    for tile in tiles:
        assert eventually(page, lambda: close_to(screen_colour(page, tile), GREEN)), tile


# ---------------------------------------------------------------------------
# Shadow DOM and pageUses
# ---------------------------------------------------------------------------


def test_stylesheets_and_images_inside_open_shadow_roots_refresh(page: Page, site: Site) -> None:
    site.write("card.css", f"p {{ color: {rgb(RED)} }}")
    site.write("photo.png", solid_png(4, 4, RED))
    site.open(page, body="""
        <div id="host"></div>
        <script>
          document.querySelector('#host').attachShadow({ mode: 'open' }).innerHTML =
            '<link rel="stylesheet" href="card.css"><p>Card</p><img src="photo.png">';
        </script>""")
    shadow_colour = "getComputedStyle(document.querySelector('#host').shadowRoot.querySelector('p')).color"
    shadow_width = "document.querySelector('#host').shadowRoot.querySelector('img').naturalWidth"
    page.wait_for_function(f"{shadow_colour} === '{rgb(RED)}' && {shadow_width} === 4")
    site.write("card.css", f"p {{ color: {rgb(GREEN)} }}")
    site.write("photo.png", solid_png(6, 6, GREEN))

    assert update_stylesheet(page, site.url("card.css"), "2") == 1
    assert update_image(page, site.url("photo.png"), "2") == 1

    assert page.evaluate(shadow_colour) == rgb(GREEN)
    assert page.evaluate(shadow_width) == 6


def test_page_uses_every_kind_of_reference_and_nothing_else(page: Page, site: Site) -> None:
    site.write("script.js", "")
    site.write("data.json", "{}")
    site.write("main.css", '@import "nested/deep.css";')
    site.write("nested/deep.css", ".x { background: url(../from-css.png) }")
    site.write("lazy.js", "export const loaded = true;")
    site.open(page, head='<link rel="stylesheet" href="main.css"><script src="script.js"></script>', body="""
        <img src="plain.png"><img srcset="small.png 1x, big.png 2x">
        <div style="background-image: url(inline.png)"></div>
        <svg><use href="sprite.svg#icon"/></svg>
        <script type="module">await fetch('data.json'); await import('./lazy.js'); window.fetched = true;</script>""")
    page.wait_for_function("window.fetched === true")
    # fetch() resolves with the headers; the resource timing entry comes once the body is in.
    page.wait_for_function("(url) => performance.getEntriesByName(url).length > 0", arg=site.url("data.json"))

    used = ["main.css", "nested/deep.css", "from-css.png", "script.js", "plain.png", "big.png", "inline.png",
            "sprite.svg", "data.json", "lazy.js", "index.html"]
    for name in used:
        assert page.evaluate("(url) => swap.pageUses(url)", site.url(name)), name
    assert page.evaluate("(url) => swap.pageUses(url)", site.url("plain.png") + "?v=3#frag")
    for url in (site.url("unused.png"), site.url("nested/main.css"),
                site.url("plain.png").replace("127.0.0.1", "localhost")):
        assert not page.evaluate("(url) => swap.pageUses(url)", url), url


@pytest.mark.parametrize("from_text", [False, True], ids=["fetched", "from-text"])
def test_editing_a_stylesheet_keeps_the_earlier_image_change(page: Page, site: Site, from_text: bool) -> None:
    site.write("tile.png", solid_png(4, 4, RED))
    site.write("main.css", ".tile { background-image: url(tile.png); width: 20px; height: 20px }")
    site.open(page, head='<link rel="stylesheet" href="main.css">', body='<div class="tile"></div>')
    assert eventually(page, lambda: close_to(screen_colour(page, ".tile"), RED))
    site.write("tile.png", solid_png(4, 4, GREEN))
    assert update_image(page, site.url("tile.png"), "1") == 1
    assert eventually(page, lambda: close_to(screen_colour(page, ".tile"), GREEN))

    text = ".tile { background-image: url(tile.png); width: 30px; height: 20px }"
    site.write("main.css", text)
    if from_text:
        assert update_stylesheet_from_text(page, site.url("main.css"), "2", text) == 1
    else:
        assert update_stylesheet(page, site.url("main.css"), "2") == 1

    assert page.evaluate("document.querySelector('.tile').getBoundingClientRect().width") == 30
    assert "tile.png?hr=1" in page.evaluate("getComputedStyle(document.querySelector('.tile')).backgroundImage")
    assert close_to(screen_colour(page, ".tile"), GREEN)


# ---------------------------------------------------------------------------
# Stylesheets rewritten from the text the server sends
# ---------------------------------------------------------------------------


def update_stylesheet_from_text(page: Page, url: str, version: str, text: str) -> int:
    return page.evaluate(
        "([url, version, text]) => swap.updateStylesheet(url, version, text)", [url, version, text]
    )


def requests_for(site: Site, path: str) -> list[str]:
    return [request for request in site.server.requests if request.split("?")[0] == site.prefix + path]


def test_linked_sheet_is_rewritten_from_text_without_a_fetch_or_a_new_element(page: Page, site: Site) -> None:
    site.write("css/dot.png", solid_png(4, 4, GREEN))
    site.write("css/theme.css", f"h1 {{ color: {rgb(RED)} }}\n.box {{ width: 10px; height: 10px }}\nh2 {{ color: black }}")
    site.open(page, head='<link id="theme" rel="stylesheet" href="css/theme.css">',
              body='<h1>Title</h1><h2>Sub</h2><div class="box"></div>')
    remember_nodes(page, "link")
    page.evaluate("window.kept = [...document.querySelector('#theme').sheet.cssRules]")
    fetched_before = len(requests_for(site, "css/theme.css"))
    text = (f"h1 {{ color: {rgb(GREEN)} }}\n.box {{ width: 10px; height: 10px; background-image: url(dot.png) }}\n"
            "h2 { color: black }")
    site.write("css/theme.css", text)

    outcome = page.evaluate(
        """([url, text]) => duringEveryFrame(
            () => getComputedStyle(document.querySelector('h1')).color,
            () => swap.updateStylesheet(url, '2', text))""",
        [site.url("css/theme.css"), text],
    )

    assert outcome["result"] == 1
    assert outcome["seen"] == [rgb(RED), rgb(GREEN)]
    assert len(requests_for(site, "css/theme.css")) == fetched_before
    assert remembered_nodes_unchanged(page, "link")
    assert stylesheet_links(page)[0]["href"] == "css/theme.css"
    # Relative URLs resolve against the sheet, as when it loaded: css/dot.png.
    assert eventually(page, lambda: close_to(screen_colour(page, ".box"), GREEN))
    # Only the rules that changed were replaced.
    assert page.evaluate("""() => {
        const rules = [...document.querySelector('#theme').sheet.cssRules];
        return [rules[0] === window.kept[0], rules[1] === window.kept[1], rules[2] === window.kept[2]];
    }""") == [False, False, True]


def test_imported_sheets_at_any_depth_are_rewritten_from_text(page: Page, site: Site) -> None:
    site.write("a.css", '@import "b.css";')
    site.write("b.css", '@import "deep/c.css";')
    site.write("deep/c.css", f"h1 {{ color: {rgb(RED)} }}\nh2 {{ color: {rgb(RED)} }}")
    site.write("shell.css", '@import "deep/c.css";\nh2 { font-weight: 300 }')
    site.open(page, head="""
        <style id="with-import">@import "a.css"; h1 { font-style: italic }</style>
        <link id="shell" rel="stylesheet" href="shell.css">""",
        body="<h1>Title</h1><h2>Subtitle</h2>")
    remember_nodes(page, "style, link")
    fetched_before = len(requests_for(site, "deep/c.css"))
    text = f"h1 {{ color: {rgb(GREEN)} }}\nh2 {{ color: {rgb(BLUE)} }}"
    site.write("deep/c.css", text)

    assert update_stylesheet_from_text(page, site.url("deep/c.css"), "2", text) == 2

    assert page.evaluate("['h1', 'h2'].map((t) => getComputedStyle(document.querySelector(t)).color)") == [
        rgb(GREEN), rgb(BLUE)]
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).fontStyle") == "italic"
    assert page.evaluate("getComputedStyle(document.querySelector('h2')).fontWeight") == "300"
    assert len(requests_for(site, "deep/c.css")) == fetched_before
    assert remembered_nodes_unchanged(page, "style, link")


def test_text_that_cannot_be_applied_exactly_is_fetched_instead(page: Page, site: Site) -> None:
    # A disabled link has no sheet to rewrite; @namespace rules cannot come or go
    # in a sheet with other rules. Both are fetched, and end up right.
    site.write("off.css", "h1 { color: black }")
    site.write("ns.css", f"h1 {{ color: {rgb(RED)} }}")
    site.open(page, head="""
        <link id="off" rel="stylesheet" href="off.css" disabled>
        <link id="ns" rel="stylesheet" href="ns.css">""", body="<h1>Title</h1>")
    off_text = f"h1 {{ color: {rgb(BLUE)} }}"
    ns_text = f'@namespace svg url(http://www.w3.org/2000/svg);\nh1 {{ color: {rgb(GREEN)} }}'
    site.write("off.css", off_text)
    site.write("ns.css", ns_text)

    assert update_stylesheet_from_text(page, site.url("off.css"), "3", off_text) == 1
    assert update_stylesheet_from_text(page, site.url("ns.css"), "3", ns_text) == 1

    links = {link["id"]: link["href"] for link in stylesheet_links(page)}
    assert links == {"off": site.url("off.css") + "?hr=3", "ns": site.url("ns.css") + "?hr=3"}
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).color") == rgb(GREEN)


def test_non_ascii_text_is_fetched_in_a_page_that_is_not_utf8(page: Page, site: Site) -> None:
    # The sheet has no @charset, so the browser reads it in the page's encoding.
    site.write("marks.css", '.mark::after { content: "a" }')
    site.write("index.html", (
        '<!doctype html><html><head><meta charset="windows-1252">'
        '<script type="module">import * as swap from "/__hotreload/swap.js"; window.swap = swap;</script>'
        '<link rel="stylesheet" href="marks.css"></head><body><p class="mark">x</p></body></html>'
    ).encode("cp1252"))
    page.goto(site.url("index.html"))
    page.wait_for_function("window.swap !== undefined")
    site.write("marks.css", '.mark::after { content: "\xe9" }'.encode("cp1252"))

    assert update_stylesheet_from_text(page, site.url("marks.css"), "2", '.mark::after { content: "\xe9" }') == 1

    assert page.evaluate("getComputedStyle(document.querySelector('.mark'), '::after').content") == '"\xe9"'
    assert stylesheet_links(page)[0]["href"] == site.url("marks.css") + "?hr=2"


# ---------------------------------------------------------------------------
# Images shown from the bytes the server sends
# ---------------------------------------------------------------------------


def b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def test_image_bytes_show_before_the_new_url_loads_then_the_url_takes_over(page: Page, site: Site) -> None:
    site.write("photo.png", solid_png(4, 4, RED))
    site.write("tiles.css", ".tile { background-image: url(photo.png); width: 20px; height: 20px }")
    site.open(page, head='<link rel="stylesheet" href="tiles.css">',
              body='<img id="photo" src="photo.png?size=small#main"><div class="tile"></div>')
    remember_nodes(page, "img")
    assert eventually(page, lambda: close_to(screen_colour(page, ".tile"), RED))
    new = solid_png(6, 6, GREEN)
    site.write("photo.png", new)
    # The new version's URL answers only after a second: the picture must not wait for it.
    site.slow_down_new_versions("photo.png", 1.0)
    page.evaluate(
        """([url, data]) => {
            window.frames_seen = [];
            let running = true;
            const record = () => {
                const image = document.querySelector('#photo');
                const value = image.complete + ' ' + image.naturalWidth;
                if (window.frames_seen.at(-1) !== value) window.frames_seen.push(value);
                if (running) requestAnimationFrame(record);
            };
            record();
            window.imageUpdate = swap.updateImage(url, '2', data, 'image/png').finally(() => { running = false; });
        }""",
        [site.url("photo.png"), b64(new)],
    )

    assert eventually(page, lambda: image_state(page, "#photo") == {"width": 6, "colour": list(GREEN)}, seconds=0.8)
    assert eventually(page, lambda: close_to(screen_colour(page, ".tile"), GREEN), seconds=0.8)
    assert page.evaluate("document.querySelector('#photo').getAttribute('src')").startswith("data:image/png")

    assert page.evaluate("window.imageUpdate") == 2
    # In the end the page is as if it had fetched the new version: real URLs, same picture, no blank frame.
    assert page.evaluate("document.querySelector('#photo').getAttribute('src')") == (
        site.url("photo.png") + "?size=small&hr=2#main")
    assert "photo.png?hr=2" in page.evaluate("getComputedStyle(document.querySelector('.tile')).backgroundImage")
    assert image_state(page, "#photo") == {"width": 6, "colour": list(GREEN)}
    assert close_to(screen_colour(page, ".tile"), GREEN)
    assert page.evaluate("window.frames_seen") == ["true 4", "true 6"]
    assert remembered_nodes_unchanged(page, "img")


def test_bytes_that_do_not_decode_leave_it_to_the_fetch(page: Page, site: Site) -> None:
    site.write("photo.png", solid_png(4, 4, RED))
    site.open(page, body='<img id="photo" src="photo.png">')
    site.write("photo.png", solid_png(6, 6, BLUE))

    refreshed = page.evaluate(
        "([url, data]) => swap.updateImage(url, '2', data, 'image/png')",
        [site.url("photo.png"), b64(b"\x89PNG half written")],
    )

    assert refreshed == 1
    assert image_state(page, "#photo") == {"width": 6, "colour": list(BLUE)}
    assert page.evaluate("document.querySelector('#photo').getAttribute('src')") == site.url("photo.png") + "?hr=2"


def test_image_bytes_in_srcset_picture_sources_and_icons_end_on_the_real_urls(page: Page, site: Site) -> None:
    site.write("photo.png", solid_png(4, 4, RED))
    site.write("large.png", solid_png(8, 8, BLUE))
    site.write("fallback.png", solid_png(2, 2, BLUE))
    site.open(page, head='<link rel="icon" href="photo.png">', body="""
        <img id="listed" srcset="large.png 2x, photo.png 1x">
        <picture><source srcset="photo.png" type="image/png"><img id="pictured" src="fallback.png"></picture>""")
    new = solid_png(6, 6, GREEN)
    site.write("photo.png", new)
    site.slow_down_new_versions("photo.png", 0.8)
    page.evaluate(
        "([url, data]) => { window.imageUpdate = swap.updateImage(url, '3', data, 'image/png'); }",
        [site.url("photo.png"), b64(new)],
    )
    # Shown from the bytes, before the new URL answers.
    assert eventually(page, lambda: image_state(page, "#listed") == {"width": 6, "colour": list(GREEN)}, seconds=0.6)

    assert page.evaluate("window.imageUpdate") == 3
    assert image_state(page, "#listed") == {"width": 6, "colour": list(GREEN)}
    assert eventually(page, lambda: image_state(page, "#pictured") == {"width": 6, "colour": list(GREEN)})
    assert page.evaluate("document.querySelector('#listed').getAttribute('srcset')") == (
        f"large.png 2x, {site.url('photo.png')}?hr=3 1x")
    assert page.evaluate("document.querySelector('picture source').getAttribute('srcset')") == (
        f"{site.url('photo.png')}?hr=3")
    assert page.evaluate("document.querySelector('link[rel=icon]').getAttribute('href')") == (
        f"{site.url('photo.png')}?hr=3")
