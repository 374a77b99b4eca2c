"""Custom events between the browser's ``import.meta.hot`` and Python code in the server.

A page sends ``import.meta.hot.send("my:event", data)``; every handler
registered for ``"my:event"`` is called with the data and a :class:`CustomClient`
that answers the tab that sent it, or every tab. The browser receives answers
through ``import.meta.hot.on("my:event", cb)``.

>>> events = CustomEvents()
>>> stop = events.on("ping", lambda data, client: client.send("pong", data))
>>> events.handlers("ping") != []
True
>>> stop(); events.handlers("ping")
[]
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .channel import Channel, Tab
from .protocol import Custom, encode

__all__ = ["CustomClient", "CustomEvents", "CustomHandler"]


class CustomClient:
    """The tab a custom event came from: answer it, or every open tab."""

    def __init__(self, channel: Channel, tab: Tab) -> None:
        self._channel = channel
        self._tab = tab

    @property
    def page(self) -> str | None:
        """The page the tab shows (``/index.html`` for ``/``), once it has said so."""
        return self._tab.page

    def send(self, event: str, data: Any = None) -> None:
        """Send ``event`` to this tab only (``import.meta.hot.on(event)`` receives ``data``)."""
        self._channel.send(encode(Custom(event, data)), [self._tab])

    def broadcast(self, event: str, data: Any = None) -> None:
        """Send ``event`` to every open tab."""
        self._channel.send(encode(Custom(event, data)))


CustomHandler = Callable[[Any, CustomClient], "Awaitable[None] | None"]


class CustomEvents:
    """Handlers by event name; a handler may be a plain function or a coroutine function."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[CustomHandler]] = {}

    def on(self, event: str, handler: CustomHandler) -> Callable[[], None]:
        """Call ``handler(data, client)`` for each ``event`` a tab sends; returns a function that unregisters it."""
        self._handlers.setdefault(event, []).append(handler)

        def remove() -> None:
            handlers = self._handlers.get(event, [])
            if handler in handlers:
                handlers.remove(handler)
            if not handlers:
                self._handlers.pop(event, None)

        return remove

    def handlers(self, event: str) -> list[CustomHandler]:
        """The handlers registered for ``event``, in registration order."""
        return list(self._handlers.get(event, ()))
