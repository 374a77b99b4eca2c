"""Keeping the page graph current with what the server sends and what changes on disk.

The static file handler tells the tracker about every page and file it serves.
Pages and stylesheets are read into the :class:`~hotreload.pagegraph.PageGraph`
on a worker thread, once the response is on its way, so that reading a big
page never holds up a response; requests a page makes at run time are linked
to it through their ``Referer``. The planner then asks which pages use a
changed file.

An edited page or stylesheet is read again when it is served again: a tab
showing it fetches it to morph or swap it, or reloads. Only pages that tabs
show matter to the planner, and those are always fetched again, so nothing
is read that no tab needs.

Example::

    tracker = PageTracker()
    static = StaticFiles(root, on_page=tracker.page_served, on_file=tracker.file_served)
    ...                                   # a browser loads "/" and its stylesheet
    await tracker.settled()
    tracker.pages_using("/css/site.css")  # frozenset({'/'})
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from .inject import document_encoding
from .pagegraph import Declaration, PageGraph, canonical_path, page_key, url_spelling
from .static import ServedPage

__all__ = ["PageTracker"]

logger = logging.getLogger(__name__)

# Paths remembered as requested at least once; past this many the oldest are
# forgotten (and then count as possibly used: the safe side).
MAX_REQUESTED = 50_000
# How long planning waits for pages still being read before going ahead.
SETTLE_TIMEOUT = 2.0

SourceKind = Literal["html", "css"]


@dataclass(frozen=True)
class _Source:
    """A page or stylesheet whose text the graph has read, and where it lives."""

    kind: SourceKind
    url: str  # as the graph was given it (escaped)
    file: Path


# What a reading job hands back to the loop: a declaration to record, a
# source to forget, or nothing (the text had not changed).
_Outcome = Declaration | str | None


class PageTracker:
    """Feeds a :class:`PageGraph` from served files and answers which pages use a file.

    ``origins`` lists the absolute origins of this server (``http://127.0.0.1:8000``)
    so that absolute links and ``Referer`` headers naming them count as the site.
    """

    def __init__(self, origins: Iterable[str] = ()) -> None:
        self._origins = frozenset(o.rstrip("/").lower() for o in origins)
        self.graph = PageGraph(self._origins)
        self._sources: dict[str, _Source] = {}
        self._requested: dict[str, None] = {}
        # Pages shown from another page's file (the site's 404.html): page key -> that file's page key.
        self._shown_from: dict[str, str] = {}
        # One worker, so reads finish (and are recorded) in the order they were asked for.
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hotreload-pages")
        self._pending: set[asyncio.Future[_Outcome]] = set()
        self._starting = 0  # reads scheduled to start on the next turn of the loop
        # Only the worker thread touches this: the digest of the text last read per source.
        self._read_digests: dict[str, bytes] = {}

    # ---- what the server serves ---------------------------------------------------------

    def page_served(self, served: ServedPage) -> None:
        """An HTML page was sent to a browser tab (the ``on_page`` hook of StaticFiles)."""
        url = url_spelling(served.url_path)
        key = canonical_path(url)
        self._note_requested(key)
        if served.file is not None:
            self._sources[key] = _Source("html", url, served.file)
        if served.shown_from is not None:
            self._shown_from[key] = page_key(served.shown_from)
        else:
            self._shown_from.pop(key, None)
        body, encoding = served.body, served.encoding
        self._submit_soon(lambda: self._read_if_changed(key, body, lambda: self.graph.read_html(url, body, encoding)))

    def file_served(self, url_path: str, file: Path, headers: Mapping[str, str]) -> None:
        """Any other file was sent (the ``on_file`` hook): link it to the page or file that asked for it.

        A stylesheet is read; so is a known page fetched by a script, which is
        how a tab gets an edited page's new version to morph into.
        """
        url = url_spelling(url_path)
        key = canonical_path(url)
        self._note_requested(key)
        referrer = self._referrer(headers)
        if referrer is not None:
            self.graph.record_fetch(url, referrer)
        known = self._sources.get(key)
        if file.suffix.lower() == ".css":
            source = _Source("css", url, file)
        elif known is not None and known.kind == "html":
            source = _Source("html", url, file)
        else:
            return
        self._sources[key] = source
        self._submit_soon(lambda: self._read_file(key, source))

    def sheet_sent(self, url_path: str, file: Path, data: bytes) -> None:
        """A stylesheet's new text went to the tabs inside its update: read it as if they had fetched it."""
        url = url_spelling(url_path)
        key = canonical_path(url)
        source = self._sources[key] = _Source("css", url, file)
        self._submit_soon(lambda: self._read_if_changed(key, data, lambda: self.graph.read_css(source.url, data)))

    def files_changed(self, changes: Mapping[str, str]) -> None:
        """Files changed on disk (decoded URL path → added/modified/deleted): forget deleted pages and sheets.

        Edited ones are read again when next served (see the module docs).
        """
        for url_path, change in changes.items():
            key = page_key(url_path)
            if change == "deleted" and self._sources.pop(key, None) is not None:
                self._submit_soon(functools.partial(self._forget, key))

    # ---- what the planner asks ----------------------------------------------------------

    def pages_shown_from(self, url_path: str) -> frozenset[str]:
        """The pages tabs show at other addresses from the page at ``url_path`` (its 404.html at missing paths)."""
        target = page_key(url_path)
        return frozenset(key for key, source in self._shown_from.items() if source == target)

    def pages_using(self, url_path: str) -> frozenset[str] | None:
        """The page keys whose tabs use the file at ``url_path``, or None when that cannot be told.

        A file no browser has requested since the server started is used by
        no open tab, whatever its kind.
        """
        placement = self.graph.place(url_spelling(url_path))
        if placement.certain:
            return frozenset(canonical_path(page) for page in placement.pages)
        if page_key(url_path) not in self._requested:
            return frozenset()
        return None

    def why_unplaced(self, url_path: str) -> str:
        """Why :meth:`pages_using` could not place a file, for the terminal and the console."""
        suffix = Path(url_path).suffix or "file without extension"
        return f"no page is known to use it ({suffix} loaded without a Referer naming a page)"

    @property
    def busy(self) -> bool:
        """Whether served files are still being read."""
        return bool(self._pending) or self._starting > 0

    async def settled(self, timeout: float = SETTLE_TIMEOUT) -> None:
        """Wait until everything served so far is in the graph (at most ``timeout``)."""
        if self._starting:
            await asyncio.sleep(0)  # reads scheduled with call_soon start in this turn
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=timeout)

    async def close(self) -> None:
        """Stop reading: let a read under way finish (briefly), drop the rest."""
        await self.settled(timeout=1.0)
        self._reader.shutdown(wait=False, cancel_futures=True)

    # ---- reading, on the worker thread --------------------------------------------------

    def _submit_soon(self, job: Callable[[], _Outcome]) -> None:
        """Read on the next turn of the loop: by then the response being built
        is handed to the transport, so the reading does not compete with it."""
        self._starting += 1

        def start() -> None:
            self._starting -= 1
            self._submit(job)

        asyncio.get_running_loop().call_soon(start)

    def _submit(self, job: Callable[[], _Outcome]) -> None:
        try:
            future = asyncio.get_running_loop().run_in_executor(self._reader, job)
        except RuntimeError:  # shut down: nothing more to learn
            return
        self._pending.add(future)
        future.add_done_callback(self._record)

    def _record(self, future: asyncio.Future[_Outcome]) -> None:
        self._pending.discard(future)
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            logger.warning("could not read a served file into the page graph: %r", error)
            return
        outcome = future.result()
        if isinstance(outcome, Declaration):
            self.graph.record(outcome)
        elif isinstance(outcome, str):
            self.graph.forget_page(outcome)

    def _read_if_changed(self, key: str, data: bytes, read: Callable[[], Declaration]) -> _Outcome:
        digest = hashlib.blake2b(data, digest_size=16).digest()
        if self._read_digests.get(key) == digest:
            return None  # the same text again (a reload, a 304): nothing new to learn
        self._read_digests[key] = digest
        return read()

    def _read_file(self, key: str, source: _Source) -> _Outcome:
        try:
            data = source.file.read_bytes()
        except OSError:
            return None  # gone or unreadable: its deletion, if any, arrives as a change
        if source.kind == "css":
            return self._read_if_changed(key, data, lambda: self.graph.read_css(source.url, data))
        encoding = document_encoding(data, None)
        return self._read_if_changed(key, data, lambda: self.graph.read_html(source.url, data, encoding))

    def _forget(self, key: str) -> _Outcome:
        self._read_digests.pop(key, None)
        return key

    # ---- helpers --------------------------------------------------------------------------

    def _note_requested(self, key: str) -> None:
        self._requested.pop(key, None)
        self._requested[key] = None
        if len(self._requested) > MAX_REQUESTED:
            del self._requested[next(iter(self._requested))]

    def _referrer(self, headers: Mapping[str, str]) -> str | None:
        """The path of the page or file that made this request, when it is on this site."""
        referer = headers.get("Referer")
        if not referer:
            return None
        try:
            parts = urlsplit(referer)
        except ValueError:
            return None
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        host = headers.get("Host", "").lower()
        if parts.scheme not in ("http", "https") or (parts.netloc.lower() != host and origin not in self._origins):
            return None
        return parts.path or "/"
