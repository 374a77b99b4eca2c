"""The WebSocket endpoint: connected tabs, the page each shows, and delivery.

Each tab gets a bounded queue and its own sender task, so a tab that stops
reading never delays the others; once its queue is full it is dropped (it
reconnects and catches up when it reads again). What a tab sends is bounded
too (see :mod:`hotreload.limits`): frames over the size limit close it,
frames over the rate limit and malformed ones are ignored and logged.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Iterable

from aiohttp import WSMsgType, web

from .limits import MAX_CLIENT_MESSAGE, MAX_QUEUED_BYTES, MAX_QUEUED_FRAMES, MessageRate
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

QUEUE_SIZE = MAX_QUEUED_FRAMES
MAX_MESSAGE = MAX_CLIENT_MESSAGE
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
    queued_bytes: int = 0  # in the queue, not yet handed to the socket
    rate: MessageRate = field(default_factory=MessageRate)
    malformed: int = 0  # messages ignored as malformed or unknown


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
            if tab.queued_bytes + len(frame) > MAX_QUEUED_BYTES:
                self._drop(tab, f"stopped reading ({tab.queued_bytes:,} bytes waiting)")
                continue
            try:
                tab.queue.put_nowait(frame)
            except asyncio.QueueFull:
                self._drop(tab, f"stopped reading ({tab.queue.qsize()} messages waiting)")
                continue
            tab.queued_bytes += len(frame)
            count += 1
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
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    if msg.type == WSMsgType.ERROR:
                        log.warning("tab %d: %s; disconnected", tab.id, msg.data)
                    continue
                if not tab.rate.allow(time.monotonic()):
                    # Not even decoded: a flood costs as little as possible.
                    if tab.rate.refused == 1:
                        log.warning(
                            "tab %d sends more than %d messages a second; the extra ones are ignored",
                            tab.id, tab.rate.per_second,
                        )
                    continue
                if msg.type == WSMsgType.TEXT:
                    await self._receive(tab, msg.data)
                else:
                    self._ignore(tab, "a binary frame")
        finally:
            self._forget(tab)
        return ws

    async def _receive(self, tab: Tab, frame: str) -> None:
        try:
            message: ClientMessage = decode_client(frame)
        except ProtocolError as exc:
            self._ignore(tab, f"a malformed message ({exc})")
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

    def _ignore(self, tab: Tab, what: str) -> None:
        tab.malformed += 1
        # Said once per tab, then only in verbose mode: a broken client repeats itself.
        level = logging.WARNING if tab.malformed == 1 else logging.DEBUG
        log.log(level, "tab %d sent %s; ignored", tab.id, what)

    async def _pump(self, tab: Tab) -> None:
        try:
            while True:
                frame = await tab.queue.get()
                tab.queued_bytes -= len(frame)
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
