"""The WebSocket endpoint: connected tabs, the page each shows, and delivery.

Each tab gets a bounded queue and its own sender task, so a tab that stops
reading never delays the others; once its queue is full it is dropped (it
reconnects and catches up when it reads again).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Iterable

from aiohttp import WSMsgType, web

from .protocol import (
    SUBPROTOCOL,
    ClientCustom,
    ClientLog,
    ClientMessage,
    Hello,
    PageReport,
    Ping,
    Pong,
    ProtocolError,
    decode_client,
    encode,
)

log = logging.getLogger("hotreload.channel")

QUEUE_SIZE = 256
MAX_MESSAGE = 64 * 1024
HEARTBEAT = 15.0
CLOSE_GOING_AWAY = 1001
CLOSE_TOO_SLOW = 1013


@dataclass(eq=False)
class Tab:
    """One connected browser tab."""

    id: int
    ws: web.WebSocketResponse
    transport: asyncio.Transport | None = None
    page: str | None = None  # normalised page key, once reported
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    sender: asyncio.Task[None] | None = None


class Channel:
    """All connected tabs.

    ``on_page`` is called when a tab reports (or changes) its page, so the server
    can send it what it missed; ``on_custom`` and ``on_log`` receive the client's
    custom events and log lines.
    """

    def __init__(
        self,
        hello: Callable[[], Hello],
        *,
        page_key: Callable[[str], str],
        on_page: Callable[[Tab, PageReport], None] | None = None,
        on_custom: Callable[[Tab, ClientCustom], Awaitable[None] | None] | None = None,
        on_log: Callable[[Tab, ClientLog], None] | None = None,
    ) -> None:
        self.hello = hello
        self.page_key = page_key
        self.on_page = on_page
        self.on_custom = on_custom
        self.on_log = on_log
        self.tabs: set[Tab] = set()
        self._ids = itertools.count(1)
        self._closing = False

    # ---- delivery ----------------------------------------------------------

    def send(self, frame: str, tabs: Iterable[Tab] | None = None) -> int:
        """Queue an encoded frame for ``tabs`` (all tabs when None); return how many got it."""
        count = 0
        for tab in list(self.tabs if tabs is None else tabs):
            try:
                tab.queue.put_nowait(frame)
                count += 1
            except asyncio.QueueFull:
                self._drop(tab, "stopped reading (send queue full)")
        return count

    def tabs_on(self, pages: Iterable[str]) -> list[Tab]:
        wanted = set(pages)
        return [t for t in self.tabs if t.page in wanted]

    def pages(self) -> dict[str | None, list[Tab]]:
        grouped: dict[str | None, list[Tab]] = {}
        for tab in self.tabs:
            grouped.setdefault(tab.page, []).append(tab)
        return grouped

    # ---- endpoint ----------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(
            protocols=(SUBPROTOCOL,), heartbeat=HEARTBEAT, max_msg_size=MAX_MESSAGE, compress=False
        )
        if not ws.can_prepare(request).ok:
            raise web.HTTPBadRequest(text="400: expected a WebSocket upgrade\n")
        await ws.prepare(request)
        if ws.ws_protocol != SUBPROTOCOL:
            await ws.close(code=1002, message=b"subprotocol 'hotreload' required")
            return ws
        tab = Tab(next(self._ids), ws, request.transport)
        tab.sender = asyncio.create_task(self._pump(tab))
        self.tabs.add(tab)
        tab.queue.put_nowait(encode(self.hello()))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._receive(tab, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    log.info("tab %d sent a binary frame; ignored", tab.id)
        finally:
            self._forget(tab)
        return ws

    async def _receive(self, tab: Tab, frame: str) -> None:
        try:
            message: ClientMessage = decode_client(frame)
        except ProtocolError as exc:
            log.info("tab %d sent a malformed message (%s); ignored", tab.id, exc)
            return
        if isinstance(message, Ping):
            self.send(encode(Pong()), [tab])
        elif isinstance(message, PageReport):
            tab.page = self.page_key(message.path)
            if self.on_page is not None:
                self.on_page(tab, message)
        elif isinstance(message, ClientCustom):
            if self.on_custom is not None:
                result = self.on_custom(tab, message)
                if asyncio.iscoroutine(result):
                    await result
        elif isinstance(message, ClientLog):
            if self.on_log is not None:
                self.on_log(tab, message)

    async def _pump(self, tab: Tab) -> None:
        try:
            while True:
                frame = await tab.queue.get()
                await tab.ws.send_str(frame)
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            pass

    def _forget(self, tab: Tab) -> None:
        self.tabs.discard(tab)
        if tab.sender is not None and tab.sender is not asyncio.current_task():
            tab.sender.cancel()

    def _drop(self, tab: Tab, why: str) -> None:
        log.warning("dropping tab %d on %s: %s", tab.id, tab.page, why)
        self._forget(tab)
        # Closing politely waits for the peer; a stuck peer must not hold us.
        if tab.transport is not None:
            tab.transport.abort()

    async def close(self, reason: str = "server shutting down") -> None:
        """Close every socket with 1001 (going away) and the reason."""
        self._closing = True
        tabs = list(self.tabs)
        for tab in tabs:
            self._forget(tab)

        async def close_one(tab: Tab) -> None:
            try:
                await asyncio.wait_for(tab.ws.close(code=CLOSE_GOING_AWAY, message=reason.encode()), 2)
            except (asyncio.TimeoutError, ConnectionError, RuntimeError):
                pass

        await asyncio.gather(*(close_one(t) for t in tabs))
