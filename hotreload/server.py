"""The public :class:`DevServer` and the aiohttp application wiring.

Example::

    from hotreload.server import DevServer
    from hotreload.config import Config

    DevServer(Config(root="site")).serve_forever()
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import errno
import html

import secrets
import signal
import socket
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, Callable

from aiohttp import web

from .channel import Channel, Tab
from .config import PORT_ATTEMPTS, Config
from .custom import CustomClient, CustomEvents, CustomHandler
from .limits import MAX_HEADER_LINE, MAX_HEADERS, MAX_REQUEST_BODY, MAX_REQUEST_LINE
from .logs import log_to_terminal
from .moduleplan import outgoing_for
from .modules import SiteModules
from .pagetracker import PageTracker
from .paths import DEFAULT_DENY
from .plan import Change, LogLine, Outgoing, Plan, SiteView, page_key, plan_updates
from .protocol import (
    CLIENT_PREFIX, PROTOCOL_VERSION, WS_PATH, ClientCustom, ClientLog, Hello, PageReport, Prune, Reload, encode,
)
from .security import (
    HostPolicy, cross_site_no_cors, exposed_to_network, network_urls, new_token, refused_host_message, tokens_equal,
)
from .static import StaticFiles
from .terminal import Terminal, printable
from .watch import ChangeBatch, Watcher, make_ignore

# Batches remembered so a tab that reconnects gets exactly what it missed.
HISTORY = 2000
# The longest a continuous stream of file events (a checkout, a copy of a big
# folder) is held back to come out as one update. A single save is not held.
BURST_CAP = 1.0


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
    """Serves a folder, watches it, and pushes updates to every open tab."""

    def __init__(self, config: Config, *, terminal: Terminal | None = None) -> None:
        self.config = config
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
        )
        self.watcher: Watcher | None = None
        self.host_policy: HostPolicy | None = None
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._client_dir = client_dir()
        self._stopped = asyncio.Event()
        self._cleanup = contextlib.ExitStack()

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
        root = self.root
        if not root.exists():
            raise ServeError(f"folder not found: {root}")
        if not root.is_dir():
            raise ServeError(f"not a folder: {root}")
        self.root = root = root.resolve()
        self.static.root = root
        if self.modules is not None:
            self.modules.root = root
        for extra in self.config.watch:
            if not extra.exists():
                raise ServeError(f"--watch path not found: {extra}")
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
            paths = [root, *(p.resolve() for p in self.config.watch)]
            self.watcher = Watcher(
                paths, self._on_batch, ignore=make_ignore(self.config.ignore), poll=self.config.poll,
                max_wait=BURST_CAP,
            )
            await self.watcher.start()
            watching = [(str(self.config.root), self.watcher.file_count)]
            watching += [(str(p), 0) for p in self.config.watch]
        urls = [self.url, *network_urls(self.config.host, self.port)]
        self.terminal.banner(str(self.config.root), urls, watching, self.config.reload)
        if self.config.reload and self.config.poll:
            self.terminal.info("polling for changes (--poll)")
        if exposed_to_network(self.config.host):
            self.terminal.warn(
                f"listening on {self.config.host}: other machines on your network can read this folder"
            )

    async def stop(self) -> None:
        """Stop watching, close every tab's socket with 1001, free the port."""
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
            except (NotImplementedError, RuntimeError):
                pass
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
        app.router.add_route("GET", WS_PATH, self._websocket)
        app.router.add_route("GET", CLIENT_PREFIX + "ping", self._ping)
        app.router.add_route("GET", CLIENT_PREFIX + "locate", self._locate)
        app.router.add_route("*", CLIENT_PREFIX + "{name}", self._client_file)
        app.router.add_route("*", "/{tail:.*}", self.static.handle)
        return app

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
            _protected(exc)
            raise
        return _protected(response)

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
            modules=modules,
        )

    def _is_listing(self, folder: str) -> bool:
        directory = self.root / folder.strip("/")
        return directory.is_dir() and not (directory / "index.html").exists()

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
        )
        self._deliver(plan.outgoing)
        self.pages.files_changed(inside)
        ms = (time.monotonic() - batch.first_event) * 1000
        self._print(plan.log, ms)

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


def _protected(response: web.StreamResponse) -> web.StreamResponse:
    """Add the headers that keep other sites from using a response."""
    if not response.prepared:  # a WebSocket's headers are gone already
        # Another site may not embed or read it as a subresource (images,
        # scripts, fetches without CORS), and a browser must not guess its type.
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


__all__ = ["DevServer", "ServeError", "client_dir"]

