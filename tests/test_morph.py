"""DOM morphing (`client_js/morph.js`): a page whose HTML changed is brought up
to date in place, and what the user was doing on it survives."""

from __future__ import annotations

import asyncio
import io
import itertools
import threading
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CLIENT_JS = Path(__file__).resolve().parent.parent / "client_js"

# Stands in for the dev server's client tag: it loads the morph module,
# remembers the page's server HTML as the client does at load, and exposes a
# way to morph to a new version.
HARNESS_JS = """
import { morphDocument, rememberServerHtml } from "/__hotreload/morph.js";
rememberServerHtml(await (await fetch(location.href)).text());
window.morphModule = { morphDocument, rememberServerHtml };
window.morphTo = (html) => {
  const started = performance.now();
  const result = morphDocument(html);
  const ms = performance.now() - started;
  window.lastSettled = result.settled;
  return result.ok ? { ok: true, changed: result.changed, ms } : { ok: false, reason: result.reason };
};
window.morphReady = true;
"""

CLIENT_TAG = '<script type="module" src="/__hotreload/harness.js"></script>'


class PageServer:
    """A small aiohttp server on a loopback port, in its own thread: pages and
    assets are set by the tests; `/__hotreload/` serves the client modules."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[str, bytes, float]] = {}
        self._names = itertools.count()
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.origin = ""

    def put(self, path: str, body: str | bytes, content_type: str = "text/html", delay: float = 0.0) -> str:
        data = body.encode() if isinstance(body, str) else body
        self.files[path] = (content_type, data, delay)
        return self.origin + path

    def new_page_url(self, html: str) -> str:
        return self.put(f"/pages/{next(self._names)}.html", html)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/__hotreload/"):
            name = path.removeprefix("/__hotreload/")
            if name == "harness.js":
                return web.Response(text=HARNESS_JS, content_type="text/javascript")
            source = CLIENT_JS / name
            if "/" in name or not source.is_file():
                raise web.HTTPNotFound()
            return web.Response(body=source.read_bytes(), content_type="text/javascript",
                                headers={"Cache-Control": "no-store"})
        if path not in self.files:
            raise web.HTTPNotFound()
        content_type, data, delay = self.files[path]
        if delay:
            await asyncio.sleep(delay)
        return web.Response(body=data, content_type=content_type, headers={"Cache-Control": "no-store"})

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.origin = f"http://{host}:{port}"

    def start(self) -> "PageServer":
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._start())
            started.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert started.wait(10), "test page server did not start"
        return self

    def stop(self) -> None:
        assert self._runner is not None and self._thread is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture(scope="module")
def server() -> Iterator[PageServer]:
    page_server = PageServer().start()
    yield page_server
    page_server.stop()


def page_html(body: str, head: str = "", title: str = "Morph", html_attributes: str = "",
              client_tag: str = CLIENT_TAG) -> str:
    """A full page as the dev server would send it, with its client tag."""
    return (
        f"<!doctype html>\n<html lang=\"en\"{html_attributes}>\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{title}</title>\n{head}\n{client_tag}\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


@pytest.fixture
def open_page(server: PageServer, new_page):
    """Open a page served with the given HTML, once its morph module is ready."""

    def open_(html: str):
        page = new_page()
        page.goto(server.new_page_url(html))
        page.wait_for_function("() => window.morphReady === true", timeout=10_000)
        return page

    return open_


def morph(page, html: str) -> dict:
    return page.evaluate("html => window.morphTo(html)", html)


def paragraphs(count: int, edited: int | None = None) -> str:
    return "\n".join(
        f"<p id=\"p{i}\">Paragraph {i} says {'goodbye' if i == edited else 'hello'} to the reader.</p>"
        for i in range(count)
    )


# ---------------------------------------------------------------------------
# Content


def test_a_text_edit_is_applied_to_the_same_node(open_page) -> None:
    before = "<h1>Recipes</h1>\n<p>Flour</p>\n<p>Sugar</p>\n<p>Eggs</p>"
    page = open_page(page_html(before))
    page.evaluate("window.sugar = document.querySelectorAll('p')[1]")

    result = morph(page, page_html(before.replace("Sugar", "Brown sugar")))

    assert result["ok"] is True and result["changed"] == 1
    assert page.evaluate("[...document.querySelectorAll('p')].map(p => p.textContent)") == ["Flour", "Brown sugar", "Eggs"]
    assert page.evaluate("document.querySelectorAll('p')[1] === window.sugar")


LINES = "\n".join(f"<p>Line {i}</p>" for i in range(40))


def test_an_inserted_paragraph_leaves_its_siblings_alone(open_page) -> None:
    # With a second edit further down, every line in between is compared.
    after = LINES.replace("<p>Line 3</p>", "<p>Line 3</p>\n<p>A new line</p>").replace("Line 30", "Line thirty")
    page = open_page(page_html(LINES))
    page.evaluate("window.oldParagraphs = [...document.querySelectorAll('p')]")

    result = morph(page, page_html(after))

    assert result["ok"] is True
    # The new paragraph, its whitespace and the other edit: nothing else.
    assert result["changed"] == 3
    texts = page.evaluate("[...document.querySelectorAll('p')].map(p => p.textContent)")
    assert texts[3:6] == ["Line 3", "A new line", "Line 4"] and texts[31] == "Line thirty"
    assert page.evaluate(
        "window.oldParagraphs.every((p, i) => p === document.querySelectorAll('p')[i < 4 ? i : i + 1])"
    )


def test_a_removed_paragraph_leaves_its_siblings_alone(open_page) -> None:
    after = LINES.replace("<p>Line 5</p>\n", "").replace("Line 30", "Line thirty")
    page = open_page(page_html(LINES))
    page.evaluate("window.oldParagraphs = [...document.querySelectorAll('p')]")

    result = morph(page, page_html(after))

    assert result["ok"] is True
    assert result["changed"] == 3
    texts = page.evaluate("[...document.querySelectorAll('p')].map(p => p.textContent)")
    assert texts[4:6] == ["Line 4", "Line 6"] and texts[29] == "Line thirty"
    assert page.evaluate(
        "window.oldParagraphs.filter((_, i) => i !== 5).every((p, i) => p === document.querySelectorAll('p')[i])"
    )


def test_an_id_keyed_list_reorder_moves_the_same_nodes(open_page) -> None:
    def items(order: list[int], edited: int | None = None) -> str:
        return "<ul id=\"list\">\n" + "\n".join(
            f"<li id=\"item-{n}\">Item {n}{' (edited)' if n == edited else ''}</li>" for n in order
        ) + "\n</ul>"

    page = open_page(page_html(items([1, 2, 3, 4, 5])))
    page.evaluate("window.items = Object.fromEntries([...document.querySelectorAll('li')].map(li => [li.id, li]))")

    assert morph(page, page_html(items([3, 1, 5, 2, 4], edited=2)))["ok"] is True

    assert page.evaluate("[...document.querySelectorAll('li')].map(li => li.id)") == [
        "item-3", "item-1", "item-5", "item-2", "item-4"]
    assert page.evaluate("[...document.querySelectorAll('li')].every(li => window.items[li.id] === li)")
    assert page.evaluate("document.getElementById('item-2').textContent") == "Item 2 (edited)"


def test_a_5000_paragraph_page_morphs_a_one_word_edit_as_one_change(open_page) -> None:
    """Each edit touches exactly the one paragraph; the times are printed
    (speed itself is measured by benchmarks/morph.py, not asserted)."""
    page = open_page(page_html(paragraphs(5000)))
    timings = []
    for attempt in range(5):
        edited = 2500 if attempt % 2 == 0 else None
        result = morph(page, page_html(paragraphs(5000, edited=edited)))
        assert result["ok"] is True and result["changed"] == 1
        timings.append(result["ms"])
    assert page.evaluate("document.getElementById('p2500').textContent").endswith("says goodbye to the reader.")

    print(f"\n5,000-paragraph page, one-word edit, morph times (ms): {', '.join(f'{t:.1f}' for t in timings)}")


# ---------------------------------------------------------------------------
# What the user was doing


def test_the_scroll_position_is_kept_after_an_edit_far_down_a_long_page(open_page) -> None:
    page = open_page(page_html(paragraphs(1500)))
    page.evaluate("window.scrollTo(0, 20000)")
    page.wait_for_function("() => window.scrollY === 20000")
    in_view = page.evaluate("window.inView = document.elementFromPoint(100, 200); window.inView.id")

    result = morph(page, page_html(paragraphs(1500, edited=1400)))

    assert result["ok"] is True
    assert page.evaluate("document.getElementById('p1400').textContent").endswith("says goodbye to the reader.")
    assert page.evaluate("window.scrollY") == 20000
    assert page.evaluate("document.elementFromPoint(100, 200) === window.inView"), in_view


FORM = """
<form id="signup">
  <label>Name <input id="name" name="name"></label>
  <label>City <input id="city" name="city" value="Paris"></label>
  <label>About <textarea id="about">Tell us</textarea></label>
</form>
<p id="note">Draft</p>
"""


def test_a_half_typed_input_survives_an_edit_elsewhere(open_page) -> None:
    page = open_page(page_html(FORM))
    page.click("#name")
    page.keyboard.type("Hal")
    page.fill("#city", "Lyon")
    page.fill("#about", "I like trains")

    edited = FORM.replace("Draft", "Final").replace('id="signup"', 'id="signup" class="wide"')
    assert morph(page, page_html(edited))["ok"] is True

    assert page.evaluate("document.getElementById('note').textContent") == "Final"
    assert page.input_value("#name") == "Hal"
    assert page.input_value("#city") == "Lyon"
    assert page.input_value("#about") == "I like trains"


def test_a_value_the_server_changed_replaces_what_was_typed(open_page) -> None:
    page = open_page(page_html(FORM))
    page.fill("#name", "Hal")
    page.fill("#city", "Lyon")
    page.fill("#about", "I like trains")

    edited = FORM.replace('value="Paris"', 'value="Rome"').replace("Tell us", "Tell us more")
    assert morph(page, page_html(edited))["ok"] is True

    assert page.input_value("#city") == "Rome"
    assert page.input_value("#about") == "Tell us more"
    assert page.input_value("#name") == "Hal"


def test_focus_and_caret_are_kept_when_the_focused_field_moves(open_page) -> None:
    def rows(order: str, heading: str) -> str:
        return f"<h2>{heading}</h2>\n<div id=\"rows\">\n" + "\n".join(
            f"<div id=\"row-{key}\"><input id=\"field-{key}\"></div>" for key in order
        ) + "\n</div>"

    page = open_page(page_html(rows("abc", "Rows")))
    page.click("#field-c")
    page.keyboard.type("hello world")
    page.keyboard.press("Home")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.evaluate("""() => {
        window.focused = document.activeElement;
        window.blurs = 0;
        window.focused.addEventListener('blur', () => { window.blurs += 1; });
    }""")

    assert morph(page, page_html(rows("cab", "Rows, reordered")))["ok"] is True

    assert page.evaluate("[...document.querySelectorAll('#rows > div')].map(d => d.id)") == ["row-c", "row-a", "row-b"]
    assert page.evaluate("document.activeElement === window.focused && window.focused.id") == "field-c"
    assert page.evaluate("[window.focused.selectionStart, window.focused.selectionEnd]") == [3, 5]
    assert page.evaluate("window.blurs") == 0
    page.keyboard.type("X")
    assert page.input_value("#field-c") == "helX world"


def test_a_checked_box_and_an_open_details_are_kept(open_page) -> None:
    before = """
<label><input type="checkbox" id="agree"> I agree</label>
<details id="more"><summary>More</summary><p id="more-text">Small print</p></details>
"""
    page = open_page(page_html(before))
    page.check("#agree")
    page.click("#more summary")
    page.wait_for_function("() => document.getElementById('more').open")

    after = before.replace("I agree", "I really agree").replace("Small print", "Smaller print")
    assert morph(page, page_html(after))["ok"] is True

    assert page.is_checked("#agree")
    assert page.evaluate("document.getElementById('more').open") is True
    assert page.evaluate("document.getElementById('more-text').textContent") == "Smaller print"
    assert page.is_visible("#more-text")


def test_playing_media_keeps_playing(open_page, server: PageServer) -> None:
    server.put("/static/tone.wav", silent_wav(seconds=20), content_type="audio/wav")
    before = "<p id=\"caption\">Listen</p>\n<audio id=\"player\" src=\"/static/tone.wav\" muted></audio>"
    page = open_page(page_html(before))
    page.evaluate("window.player = document.getElementById('player'); window.player.play()")
    page.wait_for_function("() => window.player.currentTime > 0.2", timeout=10_000)

    after = "<h2>Now playing</h2>\n" + before.replace("Listen", "Listen closely")
    assert morph(page, page_html(after))["ok"] is True

    started = page.evaluate("window.player.currentTime")
    assert page.evaluate("document.getElementById('player') === window.player && !window.player.paused")
    page.wait_for_function("t => window.player.currentTime > t + 0.2", arg=started, timeout=10_000)


def silent_wav(seconds: int, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        out.writeframes(b"\x80" * rate * seconds)
    return buffer.getvalue()


def test_elements_added_by_page_scripts_survive(open_page) -> None:
    script = """<script>
      window.runs = (window.runs || 0) + 1;
      const toast = document.createElement('div');
      toast.id = 'toast';
      toast.textContent = 'Saved';
      document.body.append(toast);
      const news = document.getElementById('news');
      news.classList.add('enhanced');
      const badge = document.createElement('span');
      badge.className = 'badge';
      badge.textContent = 'new';
      news.append(badge);
    </script>"""
    before = f"<p id=\"intro\">Hello</p>\n<p class=\"plain\" id=\"news\">News: 3 items</p>\n<p id=\"old\">Old</p>\n{script}"
    after = (
        f"<p id=\"intro\">Hello</p>\n<p class=\"featured\" id=\"news\">News: 4 items</p>\n{script}\n"
        "<p id=\"footer\">Footer</p>"
    )
    page = open_page(page_html(before))
    page.evaluate("window.toast = document.getElementById('toast')")

    assert morph(page, page_html(after))["ok"] is True

    assert page.evaluate("document.getElementById('toast') === window.toast")
    assert page.evaluate("document.body.lastElementChild.id") == "toast"
    assert page.evaluate("document.getElementById('news').textContent") == "News: 4 itemsnew"
    assert page.evaluate("document.querySelector('#news > .badge') !== null")
    assert page.evaluate("document.getElementById('news').className") == "enhanced featured"
    assert page.evaluate("document.getElementById('footer').textContent") == "Footer"
    assert page.evaluate("document.getElementById('old')") is None
    assert page.evaluate("window.runs") == 1


def test_server_nodes_that_scripts_removed_or_moved_stay_where_the_scripts_put_them(open_page) -> None:
    script = """<script>
      document.getElementById('banner').remove();
      document.getElementById('main').append(document.getElementById('tip'));
    </script>"""
    before = f"<div id=\"banner\">Sale</div>\n<p id=\"tip\">Tip 1</p>\n<div id=\"main\"><p>Main</p></div>\n{script}"
    after = before.replace("Sale", "Big sale").replace("Tip 1", "Tip 2").replace("<p>Main</p>", "<p>Main</p><p>More</p>")
    page = open_page(page_html(before))

    assert morph(page, page_html(after))["ok"] is True

    assert page.evaluate("document.getElementById('banner')") is None
    assert page.evaluate("document.getElementById('tip').parentElement.id") == "main"
    assert page.evaluate("document.getElementById('tip').textContent") == "Tip 2"
    assert page.evaluate("[...document.querySelectorAll('#main > p')].map(p => p.textContent)") == [
        "Main", "More", "Tip 2"]


def test_template_content_changes_are_applied(open_page) -> None:
    before = "<ul id=\"rows\"></ul>\n<template id=\"row\"><li class=\"row\">Row</li></template>"
    page = open_page(page_html(before))

    assert morph(page, page_html(before.replace(">Row<", ">Better row<")))["ok"] is True

    assert page.evaluate("document.getElementById('row').content.textContent") == "Better row"
    assert page.evaluate("document.getElementById('row').hasAttributes() && document.getElementById('row').attributes.length") == 1


def test_the_client_tag_is_ignored_on_both_sides(open_page) -> None:
    page = open_page(page_html("<p>Text</p>"))

    result = morph(page, page_html("<p>More text</p>", client_tag=""))

    assert result["ok"] is True
    assert page.evaluate("document.querySelector('p').textContent") == "More text"
    assert page.evaluate("document.querySelectorAll('script[src=\"/__hotreload/harness.js\"]').length") == 1


# ---------------------------------------------------------------------------
# The head


def test_title_meta_and_style_changes_are_applied(open_page) -> None:
    head = "<meta name=\"description\" content=\"Old\">\n<style>p { color: rgb(10, 10, 10); }</style>"
    page = open_page(page_html("<p>Body</p>", head=head, title="Old title"))

    new_head = head.replace("Old", "New").replace("10, 10, 10", "0, 128, 0")
    assert morph(page, page_html("<p>Body</p>", head=new_head, title="New title"))["ok"] is True

    assert page.title() == "New title"
    assert page.evaluate("document.querySelector('meta[name=description]').content") == "New"
    assert page.evaluate("getComputedStyle(document.querySelector('p')).color") == "rgb(0, 128, 0)"


def test_a_new_stylesheet_is_applied_without_a_flash_of_unstyled_page(open_page, server: PageServer) -> None:
    server.put("/static/red.css", "body { background-color: rgb(200, 0, 0); }", content_type="text/css")
    server.put("/static/green.css", "body { background-color: rgb(0, 150, 0); }", content_type="text/css", delay=0.5)
    page = open_page(page_html("<p>Styled</p>", head="<link rel=\"stylesheet\" href=\"/static/red.css\">"))
    page.evaluate("""() => {
        window.seen = new Set();
        const sample = () => {
            window.seen.add(getComputedStyle(document.body).backgroundColor);
            if (!window.seen.has('rgb(0, 150, 0)')) requestAnimationFrame(sample);
        };
        sample();
    }""")

    result = morph(page, page_html("<p>Styled</p>", head="<link rel=\"stylesheet\" href=\"/static/green.css\">"))

    assert result["ok"] is True
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(200, 0, 0)"
    page.wait_for_function("() => window.seen.has('rgb(0, 150, 0)')", timeout=10_000)
    page.evaluate("window.lastSettled")
    assert set(page.evaluate("[...window.seen]")) == {"rgb(200, 0, 0)", "rgb(0, 150, 0)"}
    assert page.evaluate("[...document.querySelectorAll('link[rel=stylesheet]')].map(l => l.getAttribute('href'))") == [
        "/static/green.css"]


# ---------------------------------------------------------------------------
# Refusals: the caller reloads instead, and the page is left as it was

SCRIPTED_BODY = """<p id="text">Before</p>
<script src="/static/app.js"></script>
<script>window.answer = 42;</script>"""

SCRIPT_EDITS = {
    "added": (SCRIPTED_BODY + '\n<script src="/static/extra.js"></script>', 'script added: <script src="/static/extra.js">'),
    "removed": (SCRIPTED_BODY.replace('<script src="/static/app.js"></script>\n', ""),
                'script removed: <script src="/static/app.js">'),
    "src changed": (SCRIPTED_BODY.replace("app.js", "app2.js"), '<script src="/static/app2.js">'),
    "type changed": (SCRIPTED_BODY.replace('<script src', '<script type="module" src'),
                     '<script type="module" src="/static/app.js">'),
    "inline text changed": (SCRIPTED_BODY.replace("42", "43"), 'inline <script> in <body> ("window.answer = 43;")'),
}


@pytest.mark.parametrize("edit", SCRIPT_EDITS)
def test_a_script_change_is_refused_and_the_page_is_left_untouched(edit: str, open_page, server: PageServer) -> None:
    server.put("/static/app.js", "window.appRuns = (window.appRuns || 0) + 1;", content_type="text/javascript")
    page = open_page(page_html(SCRIPTED_BODY))
    before = page.evaluate("document.documentElement.outerHTML")
    new_body, named = SCRIPT_EDITS[edit]

    result = morph(page, page_html(new_body.replace("Before", "After")))

    assert result["ok"] is False
    assert named in result["reason"]
    assert page.evaluate("document.documentElement.outerHTML") == before
    # Refusing did not lose track of the page: a later plain edit still morphs.
    assert morph(page, page_html(SCRIPTED_BODY.replace("Before", "Later")))["ok"] is True
    assert page.evaluate("document.getElementById('text').textContent") == "Later"
    assert page.evaluate("window.appRuns") == 1


def test_a_script_in_a_rebuilt_element_is_refused(open_page, server: PageServer) -> None:
    server.put("/static/app.js", "window.appRuns = (window.appRuns || 0) + 1;", content_type="text/javascript")
    body = '<div id="box"><script src="/static/app.js"></script></div>'
    page = open_page(page_html(body))

    result = morph(page, page_html(body.replace("div", "section")))

    assert result["ok"] is False
    assert '<script src="/static/app.js">' in result["reason"]
    assert page.evaluate("document.getElementById('box').localName") == "div"


def test_a_page_that_opts_out_is_refused(open_page) -> None:
    page = open_page(page_html("<p>Text</p>"))
    before = page.evaluate("document.documentElement.outerHTML")

    result = morph(page, page_html("<p>Other text</p>", html_attributes=' data-hotreload="reload"'))

    assert result["ok"] is False
    assert 'data-hotreload="reload"' in result["reason"]
    assert page.evaluate("document.documentElement.outerHTML") == before


def test_an_element_that_opts_out_is_refused_only_when_it_changes(open_page) -> None:
    canvas = '<canvas id="chart" data-hotreload="reload" width="100"></canvas>'
    page = open_page(page_html(f"<p>Caption</p>\n{canvas}"))

    assert morph(page, page_html(f"<p>New caption</p>\n{canvas}"))["ok"] is True
    result = morph(page, page_html(f"<p>New caption</p>\n{canvas.replace('100', '200')}"))

    assert result["ok"] is False
    assert '<canvas id="chart">' in result["reason"]
    assert page.evaluate("document.getElementById('chart').width") == 100


# ---------------------------------------------------------------------------
# Any sequence of versions: the page ends up exactly as the latest HTML


TAGS = ["div", "p", "span", "ul", "li", "section", "b"]
WORDS = ["alpha", "beta", "gamma", "delta", " "]


@st.composite
def html_trees(draw, depth: int = 3) -> str:
    """Markup of a few nested elements, some with ids or classes, and text."""
    count = draw(st.integers(0, 5))
    parts = []
    for _ in range(count):
        if depth == 0 or draw(st.booleans()):
            parts.append(draw(st.sampled_from(WORDS)))
            continue
        tag = draw(st.sampled_from(TAGS))
        attributes = ""
        if draw(st.booleans()):
            attributes += f' id="k{draw(st.integers(0, 6))}"'
        if draw(st.booleans()):
            attributes += f' class="{draw(st.sampled_from(["a", "b", "a b"]))}"'
        parts.append(f"<{tag}{attributes}>{draw(html_trees(depth - 1))}</{tag}>")
    return "\n".join(parts)


@st.composite
def edited_versions(draw) -> list[str]:
    """Versions made of the same blocks, reordered, repeated, dropped, or
    mixed with new ones, the way a page is edited."""
    blocks = draw(st.lists(html_trees(depth=2), min_size=1, max_size=6))
    block = st.one_of(st.sampled_from(blocks), html_trees(depth=2))
    return [
        "\n".join(draw(st.lists(block, max_size=8)))
        for _ in range(draw(st.integers(2, 4)))
    ]


@pytest.fixture(scope="module")
def blank_page(server: PageServer, browser_context):
    page = browser_context.new_page()
    page.goto(server.new_page_url(page_html("<p>Workbench</p>")))
    page.wait_for_function("() => window.morphReady === true", timeout=10_000)
    yield page
    page.close()


MORPH_SEQUENCE = """([versions, seed, tags]) => {
    const { morphDocument, rememberServerHtml } = window.morphModule;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    // A page script adds an element of its own somewhere, looking like the
    // server's own elements but for a marker.
    const addExtra = (doc) => {
        const elements = [...doc.body.querySelectorAll('*'), doc.body];
        const parent = elements[random() % elements.length];
        const extra = doc.createElement(tags[random() % tags.length]);
        extra.setAttribute('data-extra', '');
        parent.insertBefore(extra, parent.childNodes[random() % (parent.childNodes.length + 1)] || null);
        return { extra, parent };
    };
    const doc = new DOMParser().parseFromString(versions[0], 'text/html');
    const added = [addExtra(doc)];
    rememberServerHtml(versions[0], { document: doc });
    const outcomes = [];
    for (const version of versions.slice(1)) {
        added.push(addExtra(doc));
        const result = morphDocument(version, { document: doc });
        const copy = doc.body.cloneNode(true);
        copy.querySelectorAll('[data-extra]').forEach(e => e.remove());
        const expected = new DOMParser().parseFromString(version, 'text/html').body;
        outcomes.push({
            ok: result.ok, same: copy.isEqualNode(expected), got: copy.innerHTML, want: expected.innerHTML,
            // An extra whose parent element is still there must still be there too.
            lost: added.filter(({ extra, parent }) => parent.isConnected && !extra.isConnected).length,
        });
    }
    return outcomes;
}"""


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(versions=st.one_of(st.lists(html_trees(), min_size=2, max_size=4), edited_versions()),
       extras_seed=st.integers(1, 10_000))
def test_any_sequence_of_edits_ends_exactly_at_the_latest_html(blank_page, versions: list[str], extras_seed: int) -> None:
    pages = [page_html(body, client_tag="") for body in versions]

    outcomes = blank_page.evaluate(MORPH_SEQUENCE, [pages, extras_seed, TAGS])

    for outcome in outcomes:
        assert outcome["ok"] is True
        assert outcome["same"], (outcome["got"], outcome["want"])
        assert outcome["lost"] == 0
