"""The messages exchanged between the server and the browser client.

This module is the single place that knows their JSON shape; ``docs/protocol.md``
describes the same shapes for the browser side (``client_js/client.js``).

Example::

    >>> encode(Reload(seq=3, reason="about.html changed"))
    '{"type":"reload","seq":3,"reason":"about.html changed"}'
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal, Union

PROTOCOL_VERSION = 1
SUBPROTOCOL = "hotreload"
CLIENT_PREFIX = "/__hotreload/"
WS_PATH = CLIENT_PREFIX + "ws"

# How a changed file is applied in the browser.
#   css    swap the stylesheets that use it (directly or through @import)
#   image  refresh every reference to it in place
#   js     re-run the accepting module boundaries (import.meta.hot)
#   page   the page itself changed: morph or reload
#   asset  anything else: reload the tab if the page uses it
UpdateKind = Literal["css", "image", "js", "page", "asset"]


@dataclass(frozen=True)
class FileUpdate:
    kind: UpdateKind
    path: str  # URL path of the changed file, e.g. "/css/site.css"
    timestamp: int  # milliseconds; used as the cache-busting version
    accepted_path: str | None = None  # js: the module whose new version the boundary accepts
    reason: str | None = None
    # js: the update runs through an import cycle; if re-running it throws, reload instead.
    within_cycle: bool | None = None
    # Small files' new content, for a tab to apply without fetching it (see hotreload/inline.py):
    text: str | None = None  # css: the sheet's text
    data: str | None = None  # image: its bytes, base64
    content_type: str | None = None  # image: its type


@dataclass(frozen=True)
class Hello:
    instance: str
    seq: int
    protocol: int = PROTOCOL_VERSION
    type: Literal["hello"] = "hello"


@dataclass(frozen=True)
class Update:
    seq: int
    updates: list[FileUpdate]
    type: Literal["update"] = "update"


@dataclass(frozen=True)
class Reload:
    seq: int
    reason: str
    type: Literal["reload"] = "reload"


@dataclass(frozen=True)
class Navigate:
    """Open the page at ``path`` in this tab: it changed, and the tab showed another (--navigate-to-changed)."""

    seq: int
    path: str
    reason: str
    type: Literal["navigate"] = "navigate"


@dataclass(frozen=True)
class Prune:
    seq: int
    paths: list[str]
    type: Literal["prune"] = "prune"


@dataclass(frozen=True)
class BuildError:
    """A failed build or update, shown as an overlay in every tab until cleared."""

    title: str
    message: str
    output: str = ""
    file: str | None = None
    line: int | None = None
    column: int | None = None
    frame: str | None = None
    type: Literal["error"] = "error"


@dataclass(frozen=True)
class ErrorCleared:
    type: Literal["error-clear"] = "error-clear"


@dataclass(frozen=True)
class Custom:
    event: str
    data: Any = None
    type: Literal["custom"] = "custom"


@dataclass(frozen=True)
class Pong:
    type: Literal["pong"] = "pong"


ServerMessage = Union[Hello, Update, Reload, Navigate, Prune, BuildError, ErrorCleared, Custom, Pong]


def encode(message: ServerMessage) -> str:
    """Serialise a server message to its JSON frame (compact, ``None`` fields dropped)."""
    return json.dumps(_drop_none(asdict(message)), separators=(",", ":"))


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        # "type" first keeps frames readable in the browser's network panel.
        ordered = {"type": value["type"]} if "type" in value else {}
        ordered.update((k, _drop_none(v)) for k, v in value.items() if v is not None and k != "type")
        return ordered
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


# ---- client → server -------------------------------------------------------


class ProtocolError(ValueError):
    """A client frame that is not valid JSON or not a known message."""


@dataclass(frozen=True)
class PageReport:
    """The tab tells which page it shows, and what it had when that page was served."""

    path: str
    instance: str | None = None
    seq: int | None = None


@dataclass(frozen=True)
class Ping:
    pass


@dataclass(frozen=True)
class ClientCustom:
    event: str
    data: Any = None


@dataclass(frozen=True)
class ClientLog:
    """Something the client wants printed in the terminal (an invalidation, an apply error)."""

    level: Literal["info", "warn", "error"]
    message: str


ClientMessage = Union[PageReport, Ping, ClientCustom, ClientLog]

MAX_FIELD = 4096


def decode_client(frame: str) -> ClientMessage:
    """Parse one client frame; raise :class:`ProtocolError` with a precise reason."""
    try:
        data = json.loads(frame)
    except ValueError as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("a message must be a JSON object")
    kind = data.get("type")
    if kind == "page":
        path = data.get("path")
        if not isinstance(path, str) or not path.startswith("/") or len(path) > MAX_FIELD:
            raise ProtocolError("page.path must be an absolute URL path")
        instance = data.get("instance")
        seq = data.get("seq")
        if instance is not None and not isinstance(instance, str):
            raise ProtocolError("page.instance must be a string")
        if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool) or seq < 0):
            raise ProtocolError("page.seq must be a non-negative integer")
        return PageReport(path=path, instance=instance, seq=seq)
    if kind == "ping":
        return Ping()
    if kind == "custom":
        event = data.get("event")
        if not isinstance(event, str) or not event or len(event) > 200:
            raise ProtocolError("custom.event must be a non-empty string")
        return ClientCustom(event=event, data=data.get("data"))
    if kind == "log":
        level = data.get("level")
        message = data.get("message")
        if level not in ("info", "warn", "error") or not isinstance(message, str):
            raise ProtocolError("log needs level info|warn|error and a message string")
        return ClientLog(level=level, message=message[:MAX_FIELD])
    raise ProtocolError(f"unknown message type {kind!r}")


__all__ = [
    "PROTOCOL_VERSION", "SUBPROTOCOL", "CLIENT_PREFIX", "WS_PATH", "UpdateKind", "FileUpdate",
    "Hello", "Update", "Reload", "Navigate", "Prune", "BuildError", "ErrorCleared", "Custom", "Pong",
    "ServerMessage", "encode", "ProtocolError", "PageReport", "Ping", "ClientCustom", "ClientLog",
    "ClientMessage", "decode_client",
]

