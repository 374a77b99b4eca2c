"""Scripted tabs: the hot-reload protocol spoken from Python, for tests that need
hundreds of tabs, or tabs that misbehave, next to real browser pages."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp

NAVIGATE = {"Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate", "Accept": "text/html"}


class _ClientTag(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.src: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        src = dict(attrs).get("src") or ""
        if tag == "script" and "/__hotreload/client.js" in src:
            self.src = src


def client_params(url: str, path: str = "/") -> dict[str, str]:
    """The token, instance and seq carried by the client tag of a page, as a browser gets it."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", path, headers=NAVIGATE)
    body = conn.getresponse().read().decode("utf-8", "replace")
    conn.close()
    parser = _ClientTag()
    parser.feed(body)
    assert parser.src is not None, f"no client tag in {path}"
    query = parse_qs(urlsplit(parser.src).query)
    return {name: values[0] for name, values in query.items()}


class ScriptedTab:
    """One WebSocket connection that reports a page and collects what it is sent."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, page: str) -> None:
        self.ws = ws
        self.page = page
        self.messages: list[dict[str, Any]] = []
        self.closed: tuple[int | None, str] | None = None
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        reason = ""
        while True:
            msg = await self.ws.receive()
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.messages.append(json.loads(msg.data))
                self._arrived.set()
            elif msg.type == aiohttp.WSMsgType.CLOSE:
                reason = msg.extra or ""
            elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.ERROR):
                break
        self.closed = (self.ws.close_code, reason)
        self._arrived.set()

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]

    def updated_paths(self) -> set[str]:
        return {u["path"] for m in self.of_type("update") for u in m["updates"]}

    async def wait_for(self, condition, timeout: float = 30.0) -> None:
        """Wait until ``condition(self)`` holds (checked on every message)."""

        async def until() -> None:
            while not condition(self):
                self._arrived.clear()
                if condition(self) or self.closed is not None:
                    return
                await self._arrived.wait()

        await asyncio.wait_for(until(), timeout)
        assert condition(self), f"the connection closed first: {self.closed}"

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(message))

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()


async def open_tab(
    session: aiohttp.ClientSession, url: str, params: dict[str, str], page: str = "/", *,
    origin: str | None = None, report: bool = True,
) -> ScriptedTab:
    """Connect like the injected client does, wait for ``hello``, report ``page``."""
    base = url.rstrip("/")
    ws = await session.ws_connect(
        f"{base}/__hotreload/ws?token={params['token']}", protocols=("hotreload",),
        headers={"Origin": origin or base}, autoping=True, max_msg_size=0,
    )
    tab = ScriptedTab(ws, page)
    await tab.wait_for(lambda t: bool(t.of_type("hello")), timeout=30)
    if report:
        await tab.send({"type": "page", "path": page, "instance": params["instance"], "seq": int(params["seq"])})
    return tab


def raw_request(url: str, request: bytes, *, timeout: float = 10.0) -> bytes:
    """Send ``request`` as it is on a fresh connection; the server's whole answer.

    Read until the body announced by Content-Length is in (the connection may
    stay open), until the headers of a 101 are in, or until the server closes.
    """
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            data += chunk
            if _complete(data):
                break
    return data


def _complete(data: bytes) -> bool:
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        return False
    lines = head.split(b"\r\n")
    if lines[0].split()[1:2] == [b"101"]:
        return True
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def status_of(response: bytes) -> int:
    line = response.split(b"\r\n", 1)[0].split()
    assert len(line) >= 2 and line[0].startswith(b"HTTP/"), response[:200]
    return int(line[1])
