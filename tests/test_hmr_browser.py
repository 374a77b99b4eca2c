"""Hot module replacement as a user sees it: a real `hotreload serve`, real files, real Chromium.

Each test writes a small app of native ES modules, opens it, edits a module the
way an editor saves it, and checks what the page shows: the new code running
with its state kept, or a reload that says why.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import textwrap
import threading
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import REPO, wait_connected, write_atomic, write_in_place
from hotreload.config import Config
from hotreload.server import DevServer
from hotreload.terminal import Terminal

WAIT = 15_000  # ms: four test suites may share this machine's two cores
EXAMPLES = REPO / "examples"

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>app</title>{head}</head>
<body><p id="out">not run</p><button id="more">more</button>{body}
<script type="module" src="{entry}"></script></body></html>
"""


def make_site(root: Path, files: dict[str, str], *, entry: str = "/src/main.js", head: str = "", body: str = "") -> Path:
    """Write an app: ``index.html`` loading ``entry``, plus the given files (paths relative to root)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "index.html").write_text(PAGE.format(head=head, body=body, entry=entry))
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    write_atomic(path, text.replace(old, new))


def out_is(page: Any, text: str) -> None:
    page.wait_for_function("(text) => document.getElementById('out').textContent === text", arg=text, timeout=WAIT)


def mark(page: Any) -> None:
    page.evaluate("window.__notReloaded = true")


def still_marked(page: Any) -> bool:
    return page.evaluate("window.__notReloaded === true")


def count_loads(page: Any) -> list[str]:
    loads: list[str] = []
    page.on("load", lambda: loads.append(page.url))
    return loads


def fetched(page: Any, fragment: str) -> list[str]:
    """The URLs this page fetched whose path contains ``fragment``."""
    return page.evaluate(
        "(f) => performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes(f))", fragment
    )


def console_has(page: Any, text: str) -> None:
    """Wait (bounded) until the page has printed a console line containing ``text``."""
    for _ in range(100):
        if any(text in line for line in page.console_lines):
            return
        page.wait_for_timeout(100)  # console events arrive between Playwright calls
    raise AssertionError(f"{text!r} not in console:\n" + "\n".join(page.console_lines))


def served_as_module(base_url: str, path: str, page: str = "/") -> str:
    """What the server sends when a page imports ``path`` as a module."""
    request = urllib.request.Request(
        base_url.rstrip("/") + path,
        headers={"Sec-Fetch-Dest": "script", "Sec-Fetch-Mode": "cors", "Referer": base_url.rstrip("/") + page},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


COUNTER_APP = {
    "src/main.js": """
        import { render } from "./render.js";

        let count = 0;
        let draw = render;
        const out = document.getElementById("out");
        const show = () => { out.textContent = draw(count); };
        document.getElementById("more").addEventListener("click", () => { count += 1; show(); });
        show();

        window.events = [];
        for (const name of ["beforeUpdate", "afterUpdate"]) {
          import.meta.hot.on("hotreload:" + name, () => window.events.push(name));
        }
        import.meta.hot.accept("./render.js", (next) => {
          draw = next.render;
          show();
        });
    """,
    "src/render.js": """
        export function render(count) {
          return `count: ${count}`;
        }
    """,
}


# --------------------------------------------------------------------------- accepting updates


def test_an_accepted_module_is_replaced_and_the_app_keeps_its_state(serve, tmp_path: Path, new_page) -> None:
    site = make_site(tmp_path / "site", COUNTER_APP)
    server = serve(str(site))
    page = new_page(server.url)
    out_is(page, "count: 0")
    for _ in range(3):
        page.click("#more")
    out_is(page, "count: 3")
    mark(page)

    edit(site / "src" / "render.js", "`count: ${count}`", "`clicked ${count} times`")

    out_is(page, "clicked 3 times")
    assert still_marked(page)
    page.click("#more")
    out_is(page, "clicked 4 times")
    page.wait_for_function("() => window.events.includes('afterUpdate')", timeout=WAIT)
    assert page.evaluate("window.events") == ["beforeUpdate", "afterUpdate"]
    server.wait_for_line(r"js\s+/src/render.js\s+hot.*boundary /src/main.js")


def test_dispose_hands_data_to_the_new_version_of_a_self_accepting_module(serve, tmp_path: Path, new_page) -> None:
    site = make_site(
        tmp_path / "site",
        {
            "src/main.js": 'import "./ticker.js";',
            "src/ticker.js": """
                let ticks = import.meta.hot.data.ticks ?? 0;
                const label = "ticks";
                const out = document.getElementById("out");
                const show = () => { out.textContent = `${label}: ${ticks}`; };
                const onClick = () => { ticks += 1; show(); };
                document.getElementById("more").addEventListener("click", onClick);
                show();
                import.meta.hot.dispose((data) => {
                  document.getElementById("more").removeEventListener("click", onClick);
                  data.ticks = ticks;
                  window.disposals = (window.disposals || 0) + 1;
                });
                import.meta.hot.accept();
            """,
        },
    )
    server = serve(str(site))
    page = new_page(server.url)
    page.click("#more")
    page.click("#more")
    out_is(page, "ticks: 2")
    mark(page)

    edit(site / "src" / "ticker.js", 'const label = "ticks";', 'const label = "tocks";')

    out_is(page, "tocks: 2")
    page.click("#more")
    out_is(page, "tocks: 3")  # one listener: the old version's was removed by its dispose
    assert page.evaluate("window.disposals") == 1
    assert still_marked(page)


def test_an_edit_three_imports_deep_reaches_the_boundary_with_fresh_code_all_the_way(
    serve, tmp_path: Path, new_page
) -> None:
    site = make_site(
        tmp_path / "site",
        {
            "src/main.js": """
                import { label } from "./a.js";
                window.state = { clicks: 0 };
                document.getElementById("out").textContent = label();
                import.meta.hot.accept("./a.js", (a) => {
                  document.getElementById("out").textContent = a.label() + " after " + window.state.clicks;
                });
            """,
            "src/a.js": 'import { word } from "./b.js";\nexport const label = () => "a(" + word() + ")";\n',
            "src/b.js": 'import { base } from "./c.js";\nexport const word = () => "b(" + base + ")";\n',
            "src/c.js": 'export const base = "c1";\n',
        },
    )
    server = serve(str(site))
    page = new_page(server.url)
    out_is(page, "a(b(c1))")
    page.evaluate("window.state.clicks = 5")
    mark(page)

    edit(site / "src" / "c.js", '"c1"', '"c2"')

    out_is(page, "a(b(c2)) after 5")
    assert still_marked(page)
    # Every module between the change and the boundary was fetched again, under a version.
    for name in ("a.js", "b.js", "c.js"):
        assert any("?t=" in url for url in fetched(page, f"/src/{name}")), name
    assert not any("?t=" in url for url in fetched(page, "/src/main.js"))
    server.wait_for_line(r"js\s+/src/c.js\s+hot.*boundary /src/main.js")


def test_a_change_that_reaches_the_page_without_a_boundary_reloads_once_and_says_why(
    serve, tmp_path: Path, new_page
) -> None:
    site = make_site(
        tmp_path / "site",
        {
            "src/main.js": """
                import { greet } from "./util.js";
                document.getElementById("out").textContent = greet();
                import.meta.hot.on("hotreload:beforeFullReload", ({ reason }) => sessionStorage.setItem("told", reason));
            """,
            "src/util.js": 'export const greet = () => "hello";\n',
            "style.css": "body { color: rgb(0, 0, 0); }\n",
        },
        head='<link rel="stylesheet" href="/style.css">',
    )
    server = serve(str(site))
    page = new_page(server.url)
    out_is(page, "hello")
    loads = count_loads(page)

    edit(site / "src" / "util.js", '"hello"', '"hello again"')

    out_is(page, "hello again")
    wait_connected(page)
    reason = "/src/util.js → /src/main.js → page / (no accept)"
    console_has(page, f"reloading: {reason}")
    assert page.evaluate("sessionStorage.getItem('told')") == reason
    server.wait_for_line(r"js\s+/src/util.js\s+reload.*/src/util.js → /src/main.js → page / ")
    # Nothing else is on its way: a later stylesheet edit is swapped into this same page.
    mark(page)
    write_in_place(site / "style.css", "body { color: rgb(1, 99, 1); }\n")
    page.wait_for_function("() => getComputedStyle(document.body).color === 'rgb(1, 99, 1)'", timeout=WAIT)
    assert still_marked(page)
    assert len(loads) == 1


def test_the_counter_example_keeps_its_count_through_view_helper_and_style_edits(
    serve, tmp_path: Path, new_page
) -> None:
    site = tmp_path / "counter"
    shutil.copytree(EXAMPLES / "counter", site)
    server = serve(str(site))
    page = new_page(server.url)
    for _ in range(3):
        page.click("#increment")
    count_is(page, "3 clicks")
    mark(page)

    edit(site / "src" / "view.js", '"Add one"', '"One more"')  # the render code
    page.wait_for_function("() => document.getElementById('increment').textContent === 'One more'", timeout=WAIT)
    count_is(page, "3 clicks")
    edit(site / "src" / "plural.js", "count === 1 ? one : many", "`${count === 1 ? one : many}!`")  # three deep
    count_is(page, "3 clicks!")
    edit(site / "style.css", "background: #eef3ff;", "background: rgb(255, 240, 200);")  # its styles
    page.wait_for_function(
        "() => getComputedStyle(document.getElementById('app')).backgroundColor === 'rgb(255, 240, 200)'", timeout=WAIT
    )
    page.click("#increment")
    count_is(page, "4 clicks!")
    assert still_marked(page)


def count_is(page: Any, text: str) -> None:
    page.wait_for_function("(text) => document.getElementById('count').textContent === text", arg=text, timeout=WAIT)


# --------------------------------------------------------------------------- cycles, prune, invalidate


def test_an_import_cycle_is_updated_hot_and_reloads_only_when_the_re_run_throws(serve, tmp_path: Path, new_page) -> None:
    site = make_site(
        tmp_path / "site",
        {
            "src/main.js": 'import "./a.js";',
            "src/a.js": """
                import { b } from "./b.js";
                export const a = "a";
                document.getElementById("out").textContent = a + "+" + b();
                import.meta.hot.accept();
            """,
            "src/b.js": """
                import { a } from "./a.js";
                export function b() { return "b1"; }
            """,
        },
    )
    server = serve(str(site))
    page = new_page(server.url)
    out_is(page, "a+b1")
    mark(page)

    edit(site / "src" / "b.js", '"b1"', '"b2"')
    out_is(page, "a+b2")
    assert still_marked(page)

    # b now reads a while b runs first: on a re-run inside the cycle that throws.
    loads = count_loads(page)
    edit(site / "src" / "b.js", 'export function b() { return "b2"; }', 'export const early = a.toUpperCase();\nexport function b() { return "b3"; }')
    page.wait_for_function("() => window.__notReloaded !== true", timeout=WAIT)
    wait_connected(page)
    console_has(page, "is in an import cycle and threw when re-run")
    assert len(loads) == 1


def test_a_module_no_longer_imported_is_pruned(serve, tmp_path: Path, new_page) -> None:
    site = make_site(
        tmp_path / "site",
        {
            "src/main.js": """
                import "./banner.js";
                document.getElementById("out").textContent = "with banner";
                import.meta.hot.accept();
            """,
            "src/banner.js": """
                const banner = document.createElement("aside");
                banner.id = "banner";
                banner.textContent = "sale!";
                document.body.append(banner);
                window.cleanups = [];
                import.meta.hot.dispose(() => window.cleanups.push("dispose"));
                import.meta.hot.prune(() => { banner.remove(); window.cleanups.push("prune"); });
            """,
        },
    )
    server = serve(str(site))
    page = new_page(server.url)
    out_is(page, "with banner")
    assert page.locator("#banner").count() == 1
    mark(page)

    edit(site / "src" / "main.js", 'import "./banner.js";\n', "")

    page.wait_for_function("() => document.getElementById('banner') === null", timeout=WAIT)
    assert page.evaluate("window.cleanups") == ["dispose", "prune"]
    assert still_marked(page)
    server.wait_for_line(r"js\s+/src/banner.js\s+pruned")


def test_invalidate_hands_the_update_to_the_importers(serve, tmp_path: Path, new_page) -> None:
    site = make_site(
        tmp_path / "site",
        {
            "src/main.js": 'import "./app.js";',
            "src/app.js": """
                import { shape } from "./widget.js";
                window.appRuns = (window.appRuns || 0) + 1;
                document.getElementById("out").textContent = "shape " + shape;
                import.meta.hot.accept();
            """,
            "src/widget.js": """
                export const shape = "round";
                import.meta.hot.accept((next) => {
                  if (next && next.shape !== shape) import.meta.hot.invalidate("shape changed");
                });
            """,
        },
    )
    server = serve(str(site))
    page = new_page(server.url)
    out_is(page, "shape round")
    mark(page)

    edit(site / "src" / "widget.js", '"round"', '"square"')

    out_is(page, "shape square")
    assert page.evaluate("window.appRuns") == 2
    assert still_marked(page)
    console_has(page, "invalidate /src/widget.js: shape changed")
    server.wait_for_line(r"js\s+/src/widget.js\s+hot.*invalidated: shape changed.*boundary /src/app.js")


# --------------------------------------------------------------------------- errors


def test_a_syntax_error_shows_the_overlay_and_the_next_good_save_applies(serve, tmp_path: Path, new_page) -> None:
    site = make_site(
        tmp_path / "site",
        {
            "src/main.js": 'import "./counter.js";',
            "src/counter.js": """
                let count = import.meta.hot.data.count ?? 0;
                const label = "count";
                document.getElementById("out").textContent = `${label} ${count}`;
                document.getElementById("more").onclick = () => {
                  count += 1;
                  document.getElementById("out").textContent = `${label} ${count}`;
                };
                import.meta.hot.dispose((data) => { data.count = count; });
                import.meta.hot.accept();
            """,
        },
    )
    server = serve(str(site))
    page = new_page(server.url)
    page.click("#more")
    out_is(page, "count 1")
    mark(page)
    counter = site / "src" / "counter.js"

    edit(counter, 'const label = "count";', 'const label = ;')

    overlay = page.locator("hotreload-error-overlay")
    overlay.locator(".where").wait_for(timeout=WAIT)
    assert overlay.locator(".where").text_content() == "/src/counter.js:2:15"
    assert "> 2 | const label = ;" in overlay.locator(".frame").text_content()
    assert "SyntaxError" in overlay.locator(".message").text_content()
    server.wait_for_line(r"hot update failed: /src/counter.js:2:15: SyntaxError")
    out_is(page, "count 1")  # the old version keeps running

    edit(counter, "const label = ;", 'const label = "total";')

    out_is(page, "total 1")
    assert overlay.count() == 0
    assert still_marked(page)


def test_a_module_that_throws_shows_where_in_the_file(serve, tmp_path: Path, new_page) -> None:
    site = make_site(
        tmp_path / "site",
        {
            "src/main.js": 'import "./step.js";',
            "src/step.js": 'export const step = 1; document.getElementById("out").textContent = "step " + step;\n'
            "import.meta.hot.accept();\n",
        },
    )
    server = serve(str(site))
    page = new_page(server.url)
    out_is(page, "step 1")

    # The throw is on line 1, where the served version also carries the hot preamble.
    edit(site / "src" / "step.js", "export const step = 1;", 'export const step = 2; throw new Error("no step " + step);')

    where = page.locator("hotreload-error-overlay .where")
    where.wait_for(timeout=WAIT)
    assert where.text_content() == "/src/step.js:1:30"
    assert "Error: no step 2" in page.locator("hotreload-error-overlay .message").text_content()


def test_a_missing_import_is_shown_and_creating_the_file_recovers_hot(serve, tmp_path: Path, new_page) -> None:
    site = make_site(
        tmp_path / "site",
        {
            "src/main.js": 'import "./panel.js";',
            "src/panel.js": """
                let opened = import.meta.hot.data.opened ?? 0;
                const title = () => "panel";
                document.getElementById("out").textContent = `${title()} ${opened}`;
                document.getElementById("more").onclick = () => { opened += 1; };
                import.meta.hot.dispose((data) => { data.opened = opened; });
                import.meta.hot.accept();
            """,
        },
    )
    server = serve(str(site))
    page = new_page(server.url)
    out_is(page, "panel 0")
    page.click("#more")
    mark(page)
    panel = site / "src" / "panel.js"

    edit(panel, 'const title = () => "panel";', 'import { title } from "./title.js";')

    where = page.locator("hotreload-error-overlay .where")
    where.wait_for(timeout=WAIT)
    assert where.text_content() == "/src/panel.js:2:24"
    assert "./title.js not found" in page.locator("hotreload-error-overlay .message").text_content()

    write_atomic(site / "src" / "title.js", 'export const title = () => "Panel";\n')

    out_is(page, "Panel 1")
    assert page.locator("hotreload-error-overlay").count() == 0
    assert still_marked(page)


def test_a_page_whose_modules_failed_to_load_recovers_when_the_missing_module_appears(
    serve, tmp_path: Path, new_page
) -> None:
    site = make_site(
        tmp_path / "site",
        {"src/main.js": 'import { hello } from "./later.js";\ndocument.getElementById("out").textContent = hello;\nimport.meta.hot.accept();\n'},
    )
    server = serve(str(site))
    page = new_page(server.url)
    assert page.text_content("#out") == "not run"

    write_atomic(site / "src" / "later.js", 'export const hello = "here now";\n')

    out_is(page, "here now")


def test_deleting_a_module_reloads_the_pages_that_import_it(serve, tmp_path: Path, new_page) -> None:
    site = make_site(
        tmp_path / "site",
        {
            "src/main.js": 'import { word } from "./word.js";\ndocument.getElementById("out").textContent = word;\n',
            "src/word.js": 'export const word = "present";\n',
        },
    )
    server = serve(str(site))
    page = new_page(server.url)
    out_is(page, "present")
    mark(page)

    (site / "src" / "word.js").unlink()

    page.wait_for_function("() => window.__notReloaded !== true", timeout=WAIT)
    console_has(page, "reloading: /src/word.js was deleted (imported by /src/main.js)")
    server.wait_for_line(r"js\s+/src/word.js\s+reload.*was deleted")


# --------------------------------------------------------------------------- import maps, other tabs


def test_bare_specifiers_are_resolved_through_the_page_s_import_map(serve, tmp_path: Path, new_page) -> None:
    site = make_site(
        tmp_path / "site",
        {
            "src/main.js": """
                import { greeting } from "greeting";
                const out = document.getElementById("out");
                out.textContent = greeting;
                const later = () => import("not-in-the-map");
                import.meta.hot.accept("greeting", (next) => { out.textContent = next.greeting + "!"; });
            """,
            "vendor/greeting/index.js": 'export const greeting = "hi";\n',
        },
        head='<script type="importmap">{"imports": {"greeting": "/vendor/greeting/index.js"}}</script>',
    )
    server = serve(str(site))
    page = new_page(server.url)
    out_is(page, "hi")
    mark(page)

    edit(site / "vendor" / "greeting" / "index.js", '"hi"', '"hello"')

    out_is(page, "hello!")
    assert still_marked(page)
    server.wait_for_line(r"js\s+/vendor/greeting/index.js\s+hot.*boundary /src/main.js")
    served = served_as_module(server.url, "/src/main.js")
    assert 'import("not-in-the-map")' in served  # what the map does not resolve is left alone
    assert 'accept("/vendor/greeting/index.js?t=' in served  # what it resolves is compared by path


def test_a_tab_that_never_loaded_the_module_ignores_its_update(serve, tmp_path: Path, new_page) -> None:
    site = make_site(tmp_path / "site", COUNTER_APP)
    (site / "other.html").write_text(PAGE.format(head="", body="", entry="/src/other.js"))
    (site / "src" / "other.js").write_text(
        'document.getElementById("out").textContent = "other";\nimport.meta.hot.accept();\n'
    )
    server = serve(str(site))
    app = new_page(server.url)
    other = new_page(server.url + "other.html")
    out_is(other, "other")
    mark(app)
    mark(other)

    edit(site / "src" / "render.js", "`count: ${count}`", "`n=${count}`")

    out_is(app, "n=0")
    assert still_marked(app)
    assert still_marked(other)
    assert fetched(other, "render.js") == []


def test_modules_get_a_hot_preamble_on_line_one_and_fetch_gets_the_file_unchanged(
    serve, tmp_path: Path, new_page
) -> None:
    site = make_site(tmp_path / "site", COUNTER_APP)
    server = serve(str(site))
    page = new_page(server.url)
    out_is(page, "count: 0")
    source = (site / "src" / "main.js").read_text()
    as_module = served_as_module(server.url, "/src/main.js")
    assert as_module.startswith('import { createHotContext as __hotreload_createHotContext } from "/__hotreload/hmr.js";')
    assert as_module.splitlines()[1:] == source.splitlines()[1:]  # no line moved
    assert served_as_module(server.url, "/src/render.js") == (site / "src" / "render.js").read_text()
    assert page.evaluate("fetch('/src/main.js').then((r) => r.text())") == source


# --------------------------------------------------------------------------- custom events


@pytest.fixture
def in_process_server(tmp_path: Path) -> Iterator[Any]:
    """A DevServer running in this process (for its Python API), on its own event loop thread."""
    started: list[tuple[DevServer, asyncio.AbstractEventLoop, threading.Thread]] = []

    def start(root: Path) -> tuple[DevServer, asyncio.AbstractEventLoop]:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        server = DevServer(Config(root=root, port=0), terminal=Terminal(1, io.StringIO()))
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=20)
        started.append((server, loop, thread))
        return server, loop

    yield start
    for server, loop, thread in started:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=20)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


def test_custom_events_go_both_ways(in_process_server, tmp_path: Path, new_page) -> None:
    site = make_site(
        tmp_path / "site",
        {
            "src/main.js": """
                window.heard = [];
                for (const event of ["demo:pong", "demo:news"]) {
                  import.meta.hot.on(event, (data) => window.heard.push([event, data]));
                }
                // Sent while the connection is still opening: buffered, not lost.
                import.meta.hot.send("demo:ping", { n: 1 });
                window.shout = (text) => import.meta.hot.send("demo:shout", { text });
                window.connection = [];
                for (const name of ["ws:disconnect", "ws:connect"]) {
                  import.meta.hot.on("hotreload:" + name, () => window.connection.push(name));
                }
            """,
        },
    )
    server, loop = in_process_server(site)
    received: list[tuple[str, Any]] = []

    def on_ping(data: Any, client: Any) -> None:
        received.append(("ping", data))
        client.send("demo:pong", {"n": data["n"] + 1})

    async def on_shout(data: Any, client: Any) -> None:
        received.append(("shout", data))
        client.broadcast("demo:news", data["text"].upper())

    server.on_custom("demo:ping", on_ping)
    server.on_custom("demo:shout", on_shout)
    first = new_page(server.url)
    second = new_page(server.url)
    first.wait_for_function("() => window.heard.length === 1", timeout=WAIT)
    second.wait_for_function("() => window.heard.length === 1", timeout=WAIT)
    # Each tab's ping was answered to that tab alone.
    assert first.evaluate("window.heard") == [["demo:pong", {"n": 2}]]
    assert second.evaluate("window.heard") == [["demo:pong", {"n": 2}]]

    first.evaluate("window.shout('hello')")
    for page in (first, second):
        page.wait_for_function("() => window.heard.length === 2", timeout=WAIT)
        assert page.evaluate("window.heard[1]") == ["demo:news", "HELLO"]
    assert received.count(("ping", {"n": 1})) == 2 and ("shout", {"text": "hello"}) in received

    # Lifecycle: the connection drops (the server closes it) and comes back.
    first.evaluate("window.connection.length = 0")
    asyncio.run_coroutine_threadsafe(server.channel.close("test"), loop).result(timeout=10)
    first.wait_for_function("() => window.connection.join() === 'ws:disconnect,ws:connect'", timeout=WAIT)
