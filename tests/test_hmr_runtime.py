"""Specification of the ``import.meta.hot`` runtime (client_js/hmr.js), in real Chromium.

A small aiohttp app serves modules from memory, rewritten the way the dev
server does it (HMR preamble, absolute specifiers). Each test loads a page,
edits a module in memory and hands the runtime an update with ``applyUpdate``,
as the transport would when the server announces a change.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from aiohttp import web
from playwright.sync_api import Page

from hotreload.jsparse import analyse, hot_preamble, rewrite

RUNTIME_URL = "/__hotreload/hmr.js"
RUNTIME_SOURCE = Path(__file__).resolve().parent.parent / "client_js" / "hmr.js"

# The page records what the runtime asks of its transport, and the lifecycle
# events it emits, in `window.log`.
INDEX_HTML = f"""<!doctype html>
<title>hmr runtime</title>
<script type="module">
  import * as hmr from "{RUNTIME_URL}";
  window.hmr = hmr;
  window.log = [];
  hmr.configure({{
    send: (event, data) => log.push(["send", event, data]),
    reload: (reason) => log.push(["reload", reason]),
    showError: (err) => log.push(["showError", String(err && err.message || err)]),
    log: {{ info() {{}}, warn() {{}}, error() {{}} }},
  }});
  const probe = hmr.createHotContext(new URL("/probe.js", location.href).href);
  for (const name of ["beforeUpdate", "afterUpdate", "beforeFullReload", "beforePrune", "error", "invalidate"]) {{
    probe.on("hotreload:" + name, (payload) => log.push([name, payload && (payload.path || payload.paths || payload.reason) || null]));
  }}
  await import("/main.js");
  window.ready = true;
</script>
"""


class ModuleSite:
    """Modules kept in memory and served over HTTP on a loopback port."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}
        self.requests: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def start(self) -> None:
        self._thread.start()
        port = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        self.base_url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _start(self) -> int:
        app = web.Application()
        app.router.add_get("/{path:.*}", self._serve)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        return self._runner.addresses[0][1]

    async def _serve(self, request: web.Request) -> web.Response:
        path = request.path
        self.requests.append(request.path_qs)
        headers = {"Cache-Control": "no-store"}
        if path == RUNTIME_URL:
            return web.Response(body=RUNTIME_SOURCE.read_bytes(), content_type="text/javascript", headers=headers)
        if path == "/index.html":
            return web.Response(text=INDEX_HTML, content_type="text/html", headers=headers)
        if path not in self.files:
            raise web.HTTPNotFound()
        source = self.files[path].encode()
        info = analyse(source)
        preamble = hot_preamble(RUNTIME_URL) if info.uses_hot else None
        body = rewrite(source, info, lambda spec: urljoin(path, spec), preamble)
        return web.Response(body=body, content_type="text/javascript", headers=headers)


@pytest.fixture(scope="module")
def server() -> Iterator[ModuleSite]:
    site = ModuleSite()
    site.start()
    yield site
    site.stop()


@pytest.fixture
def open_site(server: ModuleSite, browser_context: Any) -> Iterator[Any]:
    """Open the test page on a given set of modules (Chromium is shared, see conftest)."""
    pages: list[Page] = []

    def open_with(files: dict[str, str]) -> Page:
        server.files = dict(files)
        server.requests.clear()
        page = browser_context.new_page()
        pages.append(page)
        page.goto(server.base_url + "/index.html")
        page.wait_for_function("window.ready === true", timeout=10_000)
        return page

    yield open_with
    for page in pages:
        page.close()


def apply_update(page: Page, path: str, accepted: str, timestamp: int) -> None:
    """Hand the runtime an update and wait until it has been applied."""
    update = {"type": "js-update", "path": path, "acceptedPath": accepted, "timestamp": timestamp}
    page.evaluate("(update) => window.hmr.applyUpdate({ updates: [update] })", update)


def log_entries(page: Page, kind: str) -> list[Any]:
    return [entry[1:] for entry in page.evaluate("window.log") if entry[0] == kind]


# --------------------------------------------------------------------------- accept


def test_accepting_a_dependency_hands_the_new_module_to_the_callback(open_site: Any, server: ModuleSite) -> None:
    page = open_site(
        {
            "/main.js": """
                import { value } from "./counter.js";
                window.seen = [value];
                import.meta.hot.accept("./counter.js", (mod) => {
                  window.seen.push(mod.value);
                  window.log.push(["accept", mod.value]);
                });
            """,
            "/counter.js": "export const value = 1;",
        }
    )
    server.files["/counter.js"] = "export const value = 2;"
    apply_update(page, "/main.js", "/counter.js", 1001)

    assert page.evaluate("window.seen") == [1, 2]
    # Only the accepted module is fetched again, under the update's timestamp.
    assert "/counter.js?t=1001" in server.requests
    assert server.requests.count("/main.js") == 1
    steps = [entry[0] for entry in page.evaluate("window.log") if entry[0] in ("beforeUpdate", "accept", "afterUpdate")]
    assert steps == ["beforeUpdate", "accept", "afterUpdate"]


def test_accepting_a_list_gives_the_new_module_in_its_slot(open_site: Any, server: ModuleSite) -> None:
    page = open_site(
        {
            "/main.js": """
                import "./a.js"; import "./b.js";
                import.meta.hot.accept(["./a.js", "./b.js"], ([a, b]) => {
                  window.received = [a ? a.name : null, b ? b.name : null];
                });
            """,
            "/a.js": 'export const name = "a1";',
            "/b.js": 'export const name = "b1";',
        }
    )
    server.files["/b.js"] = 'export const name = "b2";'
    apply_update(page, "/main.js", "/b.js", 2)
    assert page.evaluate("window.received") == [None, "b2"]


def test_a_self_accepting_module_re_runs_and_its_old_callback_sees_the_new_one(open_site: Any, server: ModuleSite) -> None:
    def version(number: int) -> str:
        return f"""
            export const version = {number};
            window.runs = (window.runs || []).concat({number});
            import.meta.hot.accept((mod) => {{ window.acceptedBy{number} = mod.version; }});
        """

    page = open_site({"/main.js": 'import "./widget.js";', "/widget.js": version(1)})
    server.files["/widget.js"] = version(2)
    apply_update(page, "/widget.js", "/widget.js", 2)
    assert page.evaluate("window.runs") == [1, 2]
    assert page.evaluate("window.acceptedBy1") == 2


# --------------------------------------------------------------------------- dispose, data, fresh contexts


def test_dispose_hands_state_to_the_next_instance_through_data(open_site: Any, server: ModuleSite) -> None:
    counter = """
        const hot = import.meta.hot;
        const count = (hot.data.count || 0) + 1;
        window.counts = (window.counts || []).concat(count);
        hot.dispose((data) => {
          data.count = count;
          window.disposals = (window.disposals || 0) + 1;
        });
        hot.accept();
    """
    page = open_site({"/main.js": 'import "./counter.js";', "/counter.js": counter})
    for timestamp in (2, 3, 4):
        server.files["/counter.js"] = counter + f"// edit {timestamp}\n"
        apply_update(page, "/counter.js", "/counter.js", timestamp)
    assert page.evaluate("window.counts") == [1, 2, 3, 4]
    # Each instance's dispose ran once: replaced instances leave no callbacks behind.
    assert page.evaluate("window.disposals") == 3


def test_listeners_of_a_replaced_instance_are_dropped(open_site: Any, server: ModuleSite) -> None:
    def version(number: int) -> str:
        return f"""
            window.pings = window.pings || [];
            import.meta.hot.on("custom:ping", () => window.pings.push({number}));
            import.meta.hot.accept();
        """

    page = open_site({"/main.js": 'import "./listener.js";', "/listener.js": version(1)})
    page.evaluate('window.hmr.emit("custom:ping")')
    server.files["/listener.js"] = version(2)
    apply_update(page, "/listener.js", "/listener.js", 2)
    page.evaluate('window.hmr.emit("custom:ping")')
    assert page.evaluate("window.pings") == [1, 2]


def test_data_survives_but_accept_is_dropped_when_the_new_version_stops_using_hot(
    open_site: Any, server: ModuleSite
) -> None:
    page = open_site(
        {
            "/main.js": 'import "./mod.js";',
            "/mod.js": "import.meta.hot.data.kept = 'yes'; import.meta.hot.accept();",
        }
    )
    server.files["/mod.js"] = "window.plainRan = true;"
    apply_update(page, "/mod.js", "/mod.js", 2)
    assert page.evaluate("window.plainRan") is True
    apply_update(page, "/mod.js", "/mod.js", 3)
    assert log_entries(page, "reload") == [["/mod.js does not accept its own updates here"]]


# --------------------------------------------------------------------------- what is ignored or refused


def test_an_update_for_a_module_this_tab_never_loaded_is_ignored(open_site: Any, server: ModuleSite) -> None:
    page = open_site({"/main.js": "import.meta.hot.accept();"})
    server.files["/elsewhere.js"] = "window.elsewhereRan = true;"
    apply_update(page, "/elsewhere.js", "/elsewhere.js", 2)
    assert not any(request.startswith("/elsewhere.js") for request in server.requests)
    assert page.evaluate("window.elsewhereRan") is None
    assert log_entries(page, "reload") == [] and log_entries(page, "showError") == []


def test_an_update_the_tab_cannot_accept_reloads_the_page_with_a_reason(open_site: Any, server: ModuleSite) -> None:
    page = open_site({"/main.js": 'import "./other.js"; import.meta.hot.on("x", () => {});', "/other.js": ""})
    apply_update(page, "/main.js", "/other.js", 2)
    assert log_entries(page, "beforeFullReload") == [["/main.js does not accept updates of /other.js here"]]
    assert log_entries(page, "reload") == [["/main.js does not accept updates of /other.js here"]]
    assert not any(request.startswith("/other.js?t=") for request in server.requests)


def test_a_declining_module_reloads_the_page(open_site: Any, server: ModuleSite) -> None:
    page = open_site(
        {
            "/main.js": 'import "./fixed.js"; import.meta.hot.accept("./fixed.js", () => {});',
            "/fixed.js": "import.meta.hot.decline();",
        }
    )
    apply_update(page, "/main.js", "/fixed.js", 2)
    assert log_entries(page, "reload") == [["/fixed.js declines hot updates"]]


# --------------------------------------------------------------------------- errors


def test_a_failed_re_import_shows_the_error_and_a_later_fix_still_applies(open_site: Any, server: ModuleSite) -> None:
    page = open_site(
        {
            "/main.js": """
                import "./counter.js";
                window.received = [];
                import.meta.hot.accept("./counter.js", (mod) => window.received.push(mod ? mod.value : "none"));
            """,
            "/counter.js": """
                export const value = 1;
                import.meta.hot.dispose(() => { window.disposals = (window.disposals || 0) + 1; });
            """,
        }
    )
    server.files["/counter.js"] = "export const value = ;"
    apply_update(page, "/main.js", "/counter.js", 2)
    assert page.evaluate("window.received") == ["none"]
    assert len(log_entries(page, "showError")) == 1
    assert log_entries(page, "error") == [["/counter.js"]]

    server.files["/counter.js"] = "export const value = 3;"
    apply_update(page, "/main.js", "/counter.js", 3)
    assert page.evaluate("window.received") == ["none", 3]
    # The instance that survived the failed attempt was disposed once, not once per attempt.
    assert page.evaluate("window.disposals") == 1


# --------------------------------------------------------------------------- prune, invalidate, send


def test_prune_runs_dispose_then_prune_with_the_module_data(open_site: Any, server: ModuleSite) -> None:
    page = open_site(
        {
            "/main.js": 'import "./style.js";',
            "/style.js": """
                import.meta.hot.data.node = "style-1";
                window.cleanups = [];
                import.meta.hot.dispose((data) => window.cleanups.push("dispose " + data.node));
                import.meta.hot.prune((data) => window.cleanups.push("prune " + data.node));
            """,
        }
    )
    page.evaluate('window.hmr.prune(["/style.js"])')
    assert page.evaluate("window.cleanups") == ["dispose style-1", "prune style-1"]
    assert log_entries(page, "beforePrune") == [[["/style.js"]]]
    page.evaluate('window.hmr.prune(["/style.js"])')
    assert page.evaluate("window.cleanups") == ["dispose style-1", "prune style-1"]


def test_invalidate_and_send_reach_the_transport(open_site: Any, server: ModuleSite) -> None:
    page = open_site(
        {
            "/main.js": """
                import.meta.hot.send("custom:hello", { from: "main" });
                import.meta.hot.accept(() => {});
                import.meta.hot.invalidate("exports changed shape");
            """,
        }
    )
    assert log_entries(page, "send") == [
        ["custom:hello", {"from": "main"}],
        ["hotreload:invalidate", {"path": "/main.js", "message": "exports changed shape"}],
    ]
    assert log_entries(page, "invalidate") == [["/main.js"]]
