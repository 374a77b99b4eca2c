"""The public :class:`DevServer` and the aiohttp application wiring.

Example::

    from hotreload import DevServer

    server = DevServer("_site", port=8000)
    server.watch("content", "python build.py")
    server.serve_forever()
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import errno
import html
import os
import secrets
import signal
import socket
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from .ansi import strip_ansi
from .build import Action
from .channel import Channel, Tab
from .config import PORT_ATTEMPTS, Config
from .custom import CustomClient, CustomEvents, CustomHandler
from .failures import ErrorBoard, tail
from .inline import MAX_INLINE_BATCH_BYTES, MAX_INLINE_BYTES, Inline, inline_content
from .limits import MAX_HEADER_LINE, MAX_HEADERS, MAX_REQUEST_BODY, MAX_REQUEST_LINE
from .logs import log_to_terminal
from .moduleplan import outgoing_for
from .modules import SiteModules
from .pagetracker import PageTracker
from .paths import DEFAULT_DENY
from .plan import Change, LogLine, Outgoing, Plan, SiteView, page_key, plan_updates
from .protocol import (
    CLIENT_PREFIX, PROTOCOL_VERSION, WS_PATH, BuildError, ClientCustom, ClientLog, ErrorCleared, Hello, PageReport,
    Prune, Reload, UpdateKind, encode,
)
from .security import (
    HostPolicy, cross_site_no_cors, exposed_to_network, network_urls, new_token, refused_host_message, tokens_equal,
)
from .snapshot import read_snapshot_now
from .static import StaticFiles, content_type
from .sources import PAGE_WAIT, BuildPipeline, IgnoreRule, SourceWatch
from .terminal import Terminal, printable
from .watch import ChangeBatch, Watcher, make_ignore

PathLike = str | os.PathLike[str]
Hook = TypeVar("Hook", bound=Callable[..., object])

# Batches remembered so a tab that reconnects gets exactly what it missed.
HISTORY = 2000
# The longest a continuous stream of file events (a checkout, a copy of a big
# folder) is held back to come out as one update. A single save is not held.
BURST_CAP = 1.0
# The lull that ends a batch after a save. Editors' own steps (temp file,
# rename, close) arrive within microseconds and a half-written file is held
# until it is closed anyway, so this only gathers saves made together.
SAVE_QUIET = 0.001


class ServeError(Exception):
    """A problem the user can fix (bad folder, busy port...): printed as one line."""


def client_dir() -> Path:
    """Where the browser client's ES modules are: inside the installed package,
    or beside it in a source checkout."""
    packaged = Path(__file__).parent / "client_js"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "client_js"


class DevServer:
    """Serves a folder, watches it, and pushes updates to every open tab.

    Construct it with the folder to serve and any :class:`Config` field as a
    keyword (or a whole ``config``), add sources with :meth:`watch`, then run
    it with :meth:`serve_forever`, ``async with``, or :meth:`attach` to an
    aiohttp application. ``docs/api.md`` has runnable examples::

        server = DevServer("docs/_build/html", port=8000)
        server.watch("docs", ["sphinx-build", "docs", "docs/_build/html"], ignore=["_build"])
        server.serve_forever()
    """

    def __init__(
        self,
        root: PathLike | Config | None = None,
        host: str | None = None,
        port: int | None = None,
        *,
        config: Config | None = None,
        terminal: Terminal | None = None,
        **options: Any,
    ) -> None:
        if isinstance(root, Config):
            config, root = root, None
        given: dict[str, Any] = {
            name: value for name, value in (("root", root), ("host", host), ("port", port)) if value is not None
        }
        given.update(options)
        if config is None:
            config = Config(**{"root": Path("."), **given})
        elif given:
            config = dataclasses.replace(config, **given)
        self.config = config
        # --header, split once: every response gets them.
        self._added_headers = [tuple(header.split(": ", 1)) for header in config.headers]
        self.root = Path(config.root)
        self.terminal = terminal or Terminal(config.verbosity)
        self.instance = secrets.token_hex(8)
        self.token = new_token()
        self.seq = 0
        self._last_version = 0
        self.history: collections.deque[tuple[int, dict[str, Change], dict[str, Change]]] = (
            collections.deque(maxlen=HISTORY)
        )
        self.channel = Channel(
            self._hello, page_key=self._page_key, on_page=self._on_page, on_log=self._on_log,
            on_custom=self._on_custom,
        )
        # What each served page uses, so that a change reaches only the tabs it concerns.
        self.pages = PageTracker()
        self.custom_events = CustomEvents()
        self.modules: SiteModules | None = None
        if config.reload:
            self.modules = SiteModules(
                self.root, runtime_url=CLIENT_PREFIX + "hmr.js", on_prune=self._send_prune,
                deny=DEFAULT_DENY, follow_symlinks=config.follow_symlinks,
            )
        self.static = StaticFiles(
            self.root,
            client_tag=self.client_tag,
            deny=DEFAULT_DENY + tuple(config.deny),
            allow=config.allow,
            follow_symlinks=config.follow_symlinks,
            on_page=self.pages.page_served if config.reload else None,
            on_file=self.pages.file_served if config.reload else None,
            scripts=self.modules,
            spa=config.spa,
        )
        self.watcher: Watcher | None = None
        self.host_policy: HostPolicy | None = None
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._client_dir = client_dir()
        self._stopped = asyncio.Event()
        self._cleanup = contextlib.ExitStack()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.errors = ErrorBoard(self._error_changed)
        self._told_error: weakref.WeakSet[Tab] = weakref.WeakSet()
        self.builds = BuildPipeline(
            terminal=self.terminal, announce=self._on_batch, errors=self.errors,
            tab_count=lambda: len(self.channel.tabs), ignore=config.ignore, poll=config.poll,
        )
        if config.build is not None:
            if not config.watch:
                raise ServeError("--build needs a source to watch: add --watch SRC")
            self.watch(config.watch, config.build, shell=config.build_shell, timeout=config.build_timeout)
        elif config.watch:
            self.watch(config.watch)

    # ---- lifecycle -----------------------------------------------------------

    @property
    def url(self) -> str:
        host = self.config.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    async def start(self) -> None:
        """Check the folder, bind the port, start watching, print the banner."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        self._loop = asyncio.get_running_loop()
        root = self._prepare_root()
        self._cleanup.enter_context(log_to_terminal(self.terminal))
        sock = self._bind()
        self.port = sock.getsockname()[1]
        self.host_policy = HostPolicy(self.config.host, self.port, self.config.allowed_hosts)
        self._runner = web.AppRunner(
            self.make_app(), handle_signals=False, access_log=None, shutdown_timeout=1.0,
            max_line_size=MAX_REQUEST_LINE, max_field_size=MAX_HEADER_LINE, max_headers=MAX_HEADERS,
        )
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        watching: list[tuple[str, int]] = []
        if self.config.reload:
            watching = await self._start_watching(root)
        urls = [self.url, *network_urls(self.config.host, self.port)]
        self.terminal.banner(str(self.config.root), urls, watching, self.config.reload, self.config.settings_file)
        if self.config.reload and self.config.poll:
            self.terminal.info("polling for changes (--poll)")
        if exposed_to_network(self.config.host):
            self.terminal.warn(
                f"listening on {self.config.host}: other machines on your network can read this folder"
            )

    def _prepare_root(self) -> Path:
        """Check the served folder (a build's output folder is created) and resolve it."""
        root = self.root
        if not root.exists() and self.builds.has_builds:
            try:
                root.mkdir(parents=True)
            except OSError as exc:
                raise ServeError(f"cannot create the build's output folder {root}: {exc.strerror}") from None
        if not root.exists():
            raise ServeError(f"folder not found: {root}")
        if not root.is_dir():
            raise ServeError(f"not a folder: {root}")
        self.root = root = root.resolve()
        self.static.root = root
        if self.modules is not None:
            self.modules.root = root
        for watch in self.builds.watches:
            for extra in watch.paths:
                if not extra.exists():
                    raise ServeError(f"watched path not found: {extra}")
        return root

    async def _start_watching(self, root: Path) -> list[tuple[str, int]]:
        """Watch the served folder and every source; start the first builds."""
        self.watcher = Watcher(
            [root], self._on_root_batch, ignore=make_ignore(self.config.ignore), poll=self.config.poll,
            max_wait=BURST_CAP, quiet=SAVE_QUIET,
        )
        await self.watcher.start()
        try:
            await self.builds.start(root)
        except FileNotFoundError as exc:
            raise ServeError(str(exc)) from None
        watching = [(str(self.config.root), self.watcher.file_count)]
        watching += [(str(p), w.file_count) for w in self.builds.watches for p in w.paths]
        return watching

    async def stop(self) -> None:
        """Stop watching, close every tab's socket with 1001, free the port."""
        await self.builds.stop()
        if self.watcher is not None:
            await self.watcher.stop()
            self.watcher = None
        await self.channel.close()
        await self.pages.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._cleanup.close()
        self._stopped.set()

    async def __aenter__(self) -> "DevServer":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def serve_forever(self) -> None:
        """Run until SIGINT or SIGTERM, then shut down cleanly."""
        asyncio.run(self._serve_until_signal())

    async def _serve_until_signal(self) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        # Handlers first: a signal that arrives while starting still shuts down cleanly.
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread, or no signals here
        await self.start()
        if self.config.open_browser:
            import webbrowser

            loop.run_in_executor(None, webbrowser.open, self.url)
        try:
            await stop.wait()
        finally:
            self.terminal.info("shutting down")
            await self.stop()

    def _bind(self) -> socket.socket:
        host, port = self.config.host, self.config.port
        try:
            infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        except socket.gaierror as exc:
            raise ServeError(f"cannot use host {host!r}: {exc.strerror}") from None
        except (UnicodeError, ValueError) as exc:
            raise ServeError(f"cannot use host {host!r}: {exc}") from None
        family, _, _, _, address = infos[0]
        attempts = 1 if (self.config.strict_port or port == 0) else PORT_ATTEMPTS
        for offset in range(attempts):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((address[0], port + offset, *address[2:]))
                sock.listen(128)
                sock.setblocking(False)
            except OSError as exc:
                sock.close()
                if exc.errno == errno.EADDRINUSE:
                    if self.config.strict_port:
                        raise ServeError(f"port {port} is in use (--strict-port given)") from None
                    continue
                if exc.errno == errno.EACCES:
                    raise ServeError(
                        f"port {port + offset} needs administrator rights; use a port above 1023 (--port 8000)"
                    ) from None
                if exc.errno == errno.EADDRNOTAVAIL:
                    raise ServeError(f"cannot use host {host!r}: it is not an address of this machine") from None
                raise ServeError(f"cannot listen on {host}:{port + offset}: {exc.strerror}") from None
            if offset:
                self.terminal.info(f"port {port} is in use, using {port + offset} instead")
            return sock
        raise ServeError(f"ports {port}–{port + attempts - 1} are all in use; pick one with --port")

    # ---- HTTP ---------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard], client_max_size=MAX_REQUEST_BODY)
        self._add_routes(app.router)
        return app

    def _add_routes(
        self, router: web.UrlDispatcher, wrap: Callable[[Any], Any] = lambda handler: handler
    ) -> None:
        """The server's routes; the site's catch-all comes last. ``attach`` wraps each handler."""
        router.add_route("GET", WS_PATH, wrap(self._websocket))
        router.add_route("GET", CLIENT_PREFIX + "ping", wrap(self._ping))
        router.add_route("GET", CLIENT_PREFIX + "locate", wrap(self._locate))
        router.add_route("*", CLIENT_PREFIX + "{name}", wrap(self._client_file))
        router.add_route("*", "/{tail:.*}", wrap(self._site_request))

    async def _site_request(self, request: web.Request) -> web.StreamResponse:
        # A file asked for while a build writes it waits for the build (bounded),
        # so a half-written page is never served.
        if self.builds.busy:
            await self.builds.wait_idle(PAGE_WAIT)
        return await self.static.handle(request)

    @web.middleware
    async def _guard(self, request: web.Request, handler):  # type: ignore[no-untyped-def]
        policy = self.host_policy
        host = request.host if "Host" in request.headers else None
        if policy is not None and not policy.host_allowed(host):
            return _protected(web.Response(status=403, text=refused_host_message(host)))
        if cross_site_no_cors(request.headers):
            return _protected(web.Response(status=403, text="403: cross-site no-cors requests are refused\n"))
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            # Redirects and errors raised by handlers carry the headers too.
            _protected(self._with_added_headers(exc))
            raise
        return _protected(self._with_added_headers(response))

    def _with_added_headers(self, response: web.StreamResponse) -> web.StreamResponse:
        """The response with the headers of --header, which win over the server's own defaults."""
        if not response.prepared:  # a WebSocket's headers are gone already
            response.headers.update(self._added_headers)
        return response

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        if not self.config.reload:
            raise web.HTTPNotFound(text="404: hot reload is off\n")
        token = request.query.get("token", "")
        if not tokens_equal(token, self.token):
            return web.Response(status=403, text="403: missing or wrong token\n")
        policy = self.host_policy
        if policy is not None and not policy.origin_allowed(request.headers.get("Origin"), request.headers.get("Host")):
            return web.Response(status=403, text="403: cross-origin WebSocket refused\n")
        return await self.channel.handle(request)

    async def _ping(self, request: web.Request) -> web.Response:
        """Liveness for reconnecting tabs: which server process is this?"""
        return web.json_response(
            {"instance": self.instance, "protocol": PROTOCOL_VERSION}, headers={"Cache-Control": "no-store"}
        )

    async def _locate(self, request: web.Request) -> web.Response:
        """Where a hot update that failed in a tab went wrong: file, line, column, code frame."""
        if self.modules is None or not tokens_equal(request.query.get("token", ""), self.token):
            return web.Response(status=403, text="403: missing or wrong token\n")
        path = request.query.get("path", "")
        try:
            line = int(request.query["line"]) if "line" in request.query else None
            column = int(request.query["column"]) if "column" in request.query else None
        except ValueError:
            return web.Response(status=400, text="400: line and column must be numbers\n")
        if not path.startswith("/"):
            return web.Response(status=400, text="400: path must be an absolute URL path\n")
        found = self.modules.locate(path, line, column)
        body: dict[str, Any] = {} if found is None else {
            "file": found.file, "line": found.line, "column": found.column, "frame": found.frame,
        }
        if found is not None and found.message:
            body["message"] = found.message
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    async def _client_file(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = self._client_dir / name
        if request.method not in ("GET", "HEAD"):
            raise web.HTTPMethodNotAllowed(request.method, ["GET", "HEAD"])
        if "/" in name or name.startswith(".") or not name.endswith(".js") or not path.is_file():
            raise web.HTTPNotFound(text=f"404: no client file {html.escape(name)}\n")
        return web.FileResponse(path, headers={"Content-Type": "text/javascript", "Cache-Control": "no-cache"})

    def client_tag(self) -> str | None:
        if not self.config.reload:
            return None
        return (
            f'<script type="module" async="" src="{CLIENT_PREFIX}client.js?token={self.token}'
            f'&amp;instance={self.instance}&amp;seq={self.seq}"></script>'
        )

    # ---- updates -------------------------------------------------------------

    def _hello(self) -> Hello:
        return Hello(instance=self.instance, seq=self.seq)

    def _page_key(self, url_path: str) -> str:
        # A single-page app's routes all show its index.html: one page for updates,
        # also after the app moved the tab to another route (history.pushState).
        if self.static.is_app_route(url_path):
            return page_key("/")
        return page_key(url_path)

    def url_path(self, path: Path) -> str | None:
        """The URL path of a file in the site, or None when it is outside the root."""
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            return None
        return "/" + rel.as_posix()

    def site_view(self) -> SiteView:
        modules = self.modules.plan_change if self.modules is not None else SiteView.modules
        return SiteView(
            pages_using=self.pages.pages_using, is_listing=self._is_listing, why_unplaced=self.pages.why_unplaced,
            modules=modules, inline=self._inline_contents(), pages_shown_from=self.pages.pages_shown_from,
        )

    def _inline_contents(self) -> Callable[[UpdateKind, str], Inline | None]:
        """Reads changed stylesheets and images to send inside one update, within that update's budget."""
        budget = MAX_INLINE_BATCH_BYTES

        def content_of(kind: UpdateKind, url_path: str) -> Inline | None:
            nonlocal budget
            limit = MAX_INLINE_BYTES.get(kind)
            path = self.static.servable(url_path) if limit is not None else None
            if limit is None or path is None:
                return None
            try:
                # servable() refuses anything but regular files (a FIFO would block the loop here).
                if path.stat().st_size > min(budget, limit):
                    return None
                snapshot = read_snapshot_now(path)
            except OSError:
                return None  # gone or unreadable: the tab's fetch gets the precise answer
            if snapshot is None:
                return None  # being written: the tab's fetch waits for it to hold still
            data = snapshot[0]
            inline = inline_content(kind, data, content_type(path))
            if inline is None or inline.size > budget:
                return None
            budget -= inline.size
            if kind == "css":
                # The tabs will not fetch it: learn its references from the text they get.
                self.pages.sheet_sent(url_path, path, data)
            return inline

        return content_of

    def _is_listing(self, folder: str) -> bool:
        directory = self.root / folder.strip("/")
        return directory.is_dir() and not (directory / "index.html").exists()

    def _on_root_batch(self, batch: ChangeBatch) -> Awaitable[None] | None:
        if self.builds.has_builds:
            # Builds write here: what changed is told by content, once a build is over.
            self.builds.outputs_touched(batch)
            return None
        return self._on_batch(batch)

    def _on_batch(self, batch: ChangeBatch) -> Awaitable[None] | None:
        if self.pages.busy:
            # A page served a moment ago may still be being read: plan once it is in the graph.
            return self._apply_batch_when_read(batch)
        self._apply_batch(batch)
        return None

    async def _apply_batch_when_read(self, batch: ChangeBatch) -> None:
        await self.pages.settled()
        self._apply_batch(batch)

    def _apply_batch(self, batch: ChangeBatch) -> None:
        inside: dict[str, Change] = {}
        outside: dict[str, Change] = {}
        for path, kind in batch.changes.items():
            url = self.url_path(path)
            change: Change = kind.value  # type: ignore[assignment]
            if url is None:
                outside[str(path)] = change
            else:
                inside[url] = change
        if not inside and not outside:
            return
        self.terminal.debug(
            f"batch of {len(batch.changes)}: " + ", ".join(f"{k.value} {p}" for p, k in list(batch.changes.items())[:5])
        )
        self.seq += 1
        self.history.append((self.seq, inside, outside))
        timestamp = self._version()
        plan = plan_updates(
            inside, seq=self.seq, timestamp=timestamp, site=self.site_view(),
            tab_pages=frozenset(self.channel.pages()), outside=outside, reload_html=self.config.reload_html,
            navigate=self.config.navigate_to_changed,
        )
        self._deliver(plan.outgoing)
        self.pages.files_changed(inside)
        ms = (time.monotonic() - batch.first_event) * 1000
        # The tabs' senders were woken first: writing to a slow terminal never holds them up.
        asyncio.get_running_loop().call_soon(self._print, plan.log, ms)

    def _version(self) -> int:
        """A cache-busting version: milliseconds, but never the same twice, since
        a versioned URL is cached by the browser for good."""
        self._last_version = max(int(time.time() * 1000), self._last_version + 1)
        return self._last_version

    def _deliver(self, outgoing: list[Outgoing], only: Tab | None = None) -> None:
        for item in outgoing:
            frame = encode(item.message)
            if only is not None:
                if item.pages is None or only.page in item.pages:
                    self.channel.send(frame, [only])
            elif item.pages is None:
                self.channel.send(frame)
            else:
                self.channel.send(frame, [t for t in self.channel.tabs if t.page in item.pages])

    def _print(self, lines: list[LogLine], ms: float) -> None:
        if len(lines) > 8:
            counts = collections.Counter(f"{line.kind} {line.action}" for line in lines)
            summary = ", ".join(f"{n} {what}" for what, n in counts.most_common())
            self.terminal.update("batch", f"{len(lines)} files", "", summary, ms)
            return
        for line in lines:
            self.terminal.update(line.kind, line.path, line.action, line.why, ms)

    def _on_page(self, tab: Tab, report: PageReport) -> None:
        """A tab said which page it shows: send it whatever changed since that page was served."""
        self.terminal.debug(printable(f"tab {tab.id} shows {report.path} (seq {report.seq}, {len(self.channel.tabs)} tabs open)"))
        if tab not in self._told_error and self.errors.ever_shown:
            # A tab that (re)connects shows the error that is up, and none that went meanwhile.
            self._told_error.add(tab)
            current = self.errors.current
            self.channel.send(encode(current if current is not None else ErrorCleared()), [tab])
        if report.instance is not None and report.instance != self.instance:
            return  # the client reloads itself on a new instance
        if report.seq is None or report.seq >= self.seq:
            return
        missed = [h for h in self.history if h[0] > report.seq]
        if not missed or missed[0][0] != report.seq + 1:
            self._deliver([Outgoing(Reload(self.seq, "updates were missed while disconnected"), None)], tab)
            return
        inside: dict[str, Change] = {}
        outside: dict[str, Change] = {}
        for _, ins, outs in missed:
            inside.update(ins)
            outside.update(outs)
        plan: Plan = plan_updates(
            inside, seq=self.seq, timestamp=self._version(), site=self.site_view(),
            tab_pages=frozenset({tab.page}), outside=outside, reload_html=self.config.reload_html,
        )
        self._deliver(plan.outgoing, tab)

    # ---- custom events and HMR requests from tabs ------------------------------

    def on_custom(self, event: str, handler: CustomHandler) -> Callable[[], None]:
        """Call ``handler(data, client)`` whenever a tab runs ``import.meta.hot.send(event, data)``.

        ``client.send(event, data)`` answers that tab, ``client.broadcast(event,
        data)`` every tab; the page receives it with ``import.meta.hot.on(event,
        cb)``. The handler may be a coroutine function. Returns a function that
        removes the handler.

            server.on_custom("todo:save", lambda data, client: client.send("todo:saved", {"ok": True}))
        """
        return self.custom_events.on(event, handler)

    async def _on_custom(self, tab: Tab, message: ClientCustom) -> None:
        if message.event == "hotreload:invalidate":
            self._on_invalidate(tab, message.data)
            return
        client = CustomClient(self.channel, tab)
        for handler in self.custom_events.handlers(message.event):
            try:
                result = handler(message.data, client)
                if asyncio.iscoroutine(result):
                    await result
            except Exception as exc:  # a plugin's bug must not drop the tab's connection
                self.terminal.error(f"custom event {message.event!r}: handler {handler!r} failed: {exc!r}")

    def _on_invalidate(self, tab: Tab, data: object) -> None:
        if self.modules is None or not isinstance(data, dict) or not isinstance(data.get("path"), str):
            return
        path: str = data["path"]
        message = data.get("message")
        message = message if isinstance(message, str) else ""
        outcome = self.modules.plan_invalidation(path, message[:500], int(time.time() * 1000))
        if outcome is None:
            return
        self._deliver(outgoing_for(outcome, self.seq, frozenset(self.channel.pages())))
        self.terminal.update(outcome.log.kind, outcome.log.path, outcome.log.action, outcome.log.why)

    def _send_prune(self, paths: list[str]) -> None:
        self.channel.send(encode(Prune(self.seq, paths)))
        for path in paths:
            self.terminal.update("js", path, "pruned", "nothing imports it any more")

    def _on_log(self, tab: Tab, entry: ClientLog) -> None:
        text = printable(f"[{tab.page or 'tab'}] {entry.message}")
        if entry.level == "error":
            self.terminal.error(text)
        elif entry.level == "warn":
            self.terminal.warn(text)
        else:
            self.terminal.info(text)

    # ---- the Python API ------------------------------------------------------

    def watch(
        self,
        paths: PathLike | Iterable[PathLike],
        action: Action | None = None,
        *,
        ignore: Iterable[IgnoreRule] = (),
        shell: bool = False,
        timeout: float | None = None,
        run_at_start: bool = True,
    ) -> SourceWatch:
        """Watch source ``paths`` (folders or files); a change runs ``action``.

        ``action`` is a command line (split like a shell would, run without one
        unless ``shell=True``), an argument list, a sync or async callable given
        the changed paths, or None to reload every tab. The served folder is
        never a source, even inside ``paths``. ``ignore`` takes globs as
        ``--ignore`` does, or callables given a changed path. ``timeout`` stops a
        build's processes after that many seconds. A build also runs once when
        the server starts, unless ``run_at_start=False``.

        >>> server = DevServer("site")
        >>> server.watch("content", "python build.py", ignore=["drafts"]).command
        'python build.py'
        """
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        source = SourceWatch(
            self.builds, [Path(p) for p in paths], action, ignore=list(ignore), shell=shell,
            timeout=timeout, run_at_start=run_at_start,
        )
        self._in_loop(self.builds.add, source)
        return source

    def notify(self, paths: PathLike | Iterable[PathLike]) -> None:
        """Tell the open tabs that these files changed (e.g. written by your own build).

        Files under the served folder get the usual treatment (stylesheets and
        images swapped in place, pages reloaded where they are shown); others
        reload every tab. During a build they go out with the build's update.
        Safe to call from any thread.
        """
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        changed = [Path(os.path.abspath(p)) for p in paths]
        self._in_loop(self.builds.notify, changed)

    def reload(self, page: str | None = None, reason: str = "") -> None:
        """Reload every tab, or the tabs showing ``page`` (a URL path such as
        ``"/about.html"`` or ``"/docs/"``). Safe to call from any thread."""
        self._in_loop(self._reload, page, reason or "reload requested")

    def _reload(self, page: str | None, reason: str) -> None:
        frame = encode(Reload(self.seq, reason))
        if page is None:
            self.channel.send(frame)
            self.terminal.update("page", "(every tab)", "reload", reason)
            return
        key = page_key(page if page.startswith("/") else "/" + page)
        self.channel.send(frame, self.channel.tabs_on([key]))
        self.terminal.update("page", key, "reload", reason)

    def show_error(
        self,
        title: str,
        message: str = "",
        *,
        output: str = "",
        file: PathLike | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        """Show the error overlay in every tab (and in tabs opened later) until
        :meth:`clear_error`. ``output`` is shown without escape codes, its tail
        if long. Safe to call from any thread."""
        error = BuildError(
            title=title, message=message, output=tail(strip_ansi(output)) if output else "",
            file=os.fspath(file) if file is not None else None, line=line, column=column,
        )
        self._in_loop(self.errors.set, "api", error)

    def clear_error(self) -> None:
        """Take the error overlay down in every tab. Safe to call from any thread."""
        self._in_loop(self.errors.clear_all)

    def on_build_start(self, callback: Hook) -> Hook:
        """Call ``callback(changed)`` before each build (sync or async; usable as a decorator)."""
        self.builds.start_hooks.append(callback)
        return callback

    def on_build_end(self, callback: Hook) -> Hook:
        """Call ``callback(result, changed)`` after each build, with its :class:`BuildResult`."""
        self.builds.end_hooks.append(callback)
        return callback

    def attach(self, app: web.Application) -> None:
        """Serve the site and the hot-reload endpoint from an existing aiohttp application.

        Call it after adding your own routes (the site is a catch-all route,
        added last) and before the application starts; the application's
        startup and cleanup start and stop watching and building. The site is
        served from ``/``, the client from ``/__hotreload/``. Requests to these
        routes get the same Host and Origin checks as :meth:`serve_forever`'s,
        for the ``host`` given to the constructor.
        """
        self._add_routes(app.router, self._guarded)
        app.on_startup.append(self._attached_start)
        app.on_shutdown.append(self._attached_shutdown)
        app.on_cleanup.append(self._attached_stop)

    def _guarded(self, handler: Callable[[web.Request], Any]) -> Callable[[web.Request], Any]:
        async def guarded(request: web.Request) -> web.StreamResponse:
            response: web.StreamResponse = await self._guard(request, handler)
            return response

        return guarded

    async def _attached_start(self, app: web.Application) -> None:
        self._loop = asyncio.get_running_loop()
        root = self._prepare_root()
        self.host_policy = HostPolicy(self.config.host, 0, self.config.allowed_hosts)
        if self.config.reload:
            await self._start_watching(root)

    async def _attached_shutdown(self, app: web.Application) -> None:
        # Open sockets would hold the application's shutdown for its whole timeout.
        await self.channel.close()

    async def _attached_stop(self, app: web.Application) -> None:
        await self.builds.stop()
        if self.watcher is not None:
            await self.watcher.stop()
            self.watcher = None
        await self.pages.close()

    def _in_loop(self, function: Callable[..., object], *args: object) -> None:
        """Run ``function`` in the server's loop thread (now, if this is it)."""
        loop = self._loop
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or loop.is_closed() or running is loop:
            function(*args)
        else:
            loop.call_soon_threadsafe(function, *args)

    def _error_changed(self, error: BuildError | None) -> None:
        frame = encode(error if error is not None else ErrorCleared())
        self.channel.send(frame)
        for tab in self.channel.tabs:
            self._told_error.add(tab)
        if error is not None and self._loop is not None:
            self.terminal.debug(f"error shown: {error.title}: {error.message}")


def _protected(response: web.StreamResponse) -> web.StreamResponse:
    """Add the headers that keep other sites from using a response."""
    if not response.prepared:  # a WebSocket's headers are gone already
        # Another site may not embed or read it as a subresource (images,
        # scripts, fetches without CORS), and a browser must not guess its type.
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


__all__ = ["DevServer", "ServeError", "client_dir"]

