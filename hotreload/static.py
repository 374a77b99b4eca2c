"""File responses: path safety, MIME types, caching headers and client injection.

HTML documents that a browser navigates to get the client tag; everything else
is sent as it is on disk, with validators so that a refreshed stylesheet or
image costs a 304 when it did not change. Files are read as one version even
while an editor rewrites them (:mod:`hotreload.snapshot`); only files too big
to hold in memory are streamed.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import mimetypes
import os
import stat
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Callable, Mapping, Protocol, Sequence
from urllib.parse import quote

from aiohttp import web

from .inject import document_encoding, inject_tag, wants_injection
from .paths import DEFAULT_DENY, Refused, Resolved, resolve_request_path
from .ranges import UNSATISFIABLE, byte_range, content_range
from .snapshot import MAX_SNAPSHOT_BYTES, StillChanging, read_snapshot, read_snapshot_now

HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
SCRIPT_SUFFIXES = frozenset({".js", ".mjs"})
# The site's own "not found" page, served for missing pages when it exists.
NOT_FOUND_PAGE = "/404.html"
# The query parameter the client adds to refreshed stylesheet and image URLs.
VERSION_PARAM = "hr"
# Files up to this size are read in the event loop itself, bigger ones in a thread.
SMALL_FILE = 512 * 1024

# mimetypes depends on the host's /etc/mime.types; pin what browsers are strict about.
# No charset is declared: a header charset would override the file's own
# <meta charset>, @charset or BOM, and the server must not reinterpret files.
_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".xhtml": "application/xhtml+xml",
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".cjs": "text/javascript",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".wasm": "application/wasm",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".bmp": "image/bmp",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".xml": "application/xml",
    ".pdf": "application/pdf",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".wav": "audio/wav",
}


def is_route(url_path: str) -> bool:
    """Whether a path looks like a single-page app's route, not a file: no extension in its last name.

    >>> is_route("/users/3"), is_route("/users/3/"), is_route("/app.js"), is_route("/v1.2/"), is_route("/")
    (True, True, False, False, True)
    """
    return "." not in url_path.rstrip("/").rsplit("/", 1)[-1]


def accepts_html(headers: Mapping[str, str]) -> bool:
    """Whether a request would take an HTML page: it accepts ``text/html``, anything, or says nothing.

    >>> accepts_html({"Accept": "text/html,*/*;q=0.8"}), accepts_html({"Accept": "image/avif,image/webp"})
    (True, False)
    """
    accept = headers.get("Accept", "")
    return not accept.strip() or "text/html" in accept or "*/*" in accept


def content_type(path: Path) -> str:
    """The Content-Type to send for ``path``.

    >>> content_type(Path("app.mjs"))
    'text/javascript'
    """
    suffix = path.suffix.lower()
    if suffix in _TYPES:
        return _TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def read_stable(path: Path) -> tuple[bytes, os.stat_result]:
    """Read ``path`` so that the bytes match one state of the file (see :func:`read_snapshot`)."""
    return read_snapshot(path)


@dataclass(frozen=True)
class ServedPage:
    """What the server learns when it sends an HTML page (for the page graph)."""

    url_path: str
    file: Path | None
    body: bytes
    encoding: str
    # The URL path of ``file`` when the page is shown at another address (the
    # site's 404.html at a missing path); None when ``file`` is the page's own.
    shown_from: str | None = None


class ScriptHook(Protocol):
    """Sees the pages browsers navigate to and may transform the scripts they load (ES modules for HMR)."""

    def page_served(self, request: web.Request, page: ServedPage) -> None: ...

    def serve_script(self, request: web.Request, path: Path, url_path: str) -> bytes | None: ...


class StaticFiles:
    """Serves one folder.

    ``client_tag`` returns the tag to inject (it carries the current token and
    sequence number) or ``None`` for a plain static server. ``on_page`` is told
    about every HTML page sent to a browser, ``on_file`` about every other file
    (its URL path, the file and the request headers, which name the page that
    asked for it), so the server can learn what each page uses.
    ``scripts`` sees every such page too, and may answer a ``.js``/``.mjs``
    request with transformed bytes instead of the file. With ``spa``, a page
    request for a path that has nothing to serve and no file extension (a
    route of a single-page app) is answered with the root's ``index.html``.
    """

    def __init__(
        self,
        root: Path,
        *,
        client_tag: Callable[[], str | None] = lambda: None,
        deny: Sequence[str] = DEFAULT_DENY,
        allow: Sequence[str] = (),
        follow_symlinks: bool = False,
        on_page: Callable[[ServedPage], None] | None = None,
        on_file: Callable[[str, Path, Mapping[str, str]], None] | None = None,
        scripts: ScriptHook | None = None,
        spa: bool = False,
    ) -> None:
        self.root = root
        self.spa = spa
        self.client_tag = client_tag
        self.deny = tuple(deny)
        self.allow = tuple(allow)
        self.follow_symlinks = follow_symlinks
        self.on_page = on_page
        self.on_file = on_file
        self.scripts = scripts

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.method not in ("GET", "HEAD"):
            return web.Response(
                status=405, text="405: only GET and HEAD are served\n", headers={"Allow": "GET, HEAD"}
            )
        found = self._resolve(request.rel_url.raw_path)
        url_path = request.path
        if isinstance(found, Refused):
            if found.status == 404:
                index = self._app_index(url_path) if accepts_html(request.headers) else None
                if index is not None:
                    # Served as the page "/" it is, so every route shares its updates.
                    return await self.file_response(request, index, "/")
                return await self.site_not_found(request, url_path)
            return self.error_page(request, found.status, found.reason)
        path = found.path
        if found.is_dir:
            if not url_path.endswith("/"):
                location = quote(url_path + "/", safe="/%")
                if request.query_string:
                    location += "?" + request.query_string
                raise web.HTTPMovedPermanently(location)
            index = path / "index.html"
            if index.is_file():
                return await self.file_response(request, index, url_path)
            return self.listing(request, path, url_path)
        return await self.file_response(request, path, url_path)

    def is_app_route(self, url_path: str) -> bool:
        """Whether a tab at ``url_path`` shows the app's ``index.html`` (``spa``: a route with no file of its own)."""
        if self._app_index(url_path) is None:
            return False
        found = self._resolve(quote(url_path))
        return isinstance(found, Refused) and found.status == 404

    def _app_index(self, url_path: str) -> Path | None:
        """With ``spa``, the ``index.html`` a path that looks like a route would be answered with."""
        return self.servable("/index.html") if self.spa and is_route(url_path) else None

    def _resolve(self, raw_path: str) -> Resolved | Refused:
        """The file or folder a raw (still percent-encoded) request path names, by this server's rules."""
        return resolve_request_path(
            self.root, raw_path, deny=self.deny, allow=self.allow, follow_symlinks=self.follow_symlinks
        )

    def servable(self, url_path: str) -> Path | None:
        """The regular file a request for the decoded ``url_path`` would be answered with, or None.

        The same checks as for a request (denied names, paths leaving the root,
        symlinks), for a server that sends a file's content by other means.
        """
        found = self._resolve(quote(url_path))
        if isinstance(found, Refused) or found.is_dir:
            return None
        return found.path

    async def file_response(self, request: web.Request, path: Path, url_path: str) -> web.StreamResponse:
        try:
            st = path.stat()
        except FileNotFoundError:
            return self.not_found(request, url_path)
        if not stat.S_ISREG(st.st_mode):
            return self.error_page(request, 403, "not a regular file")
        if not os.access(path, os.R_OK):
            return self.error_page(request, 403, f"{url_path} is not readable (check its permissions)")
        headers = {"Cache-Control": "no-cache", "Content-Type": content_type(path)}
        tag = self.client_tag()
        if path.suffix.lower() in HTML_SUFFIXES and tag is not None and wants_injection(request.headers):
            try:
                body, st = await self.read(path, st.st_size)
            except PermissionError:
                return self.error_page(request, 403, f"{url_path} is not readable (check its permissions)")
            except FileNotFoundError:
                return self.not_found(request, url_path)
            except StillChanging:
                return self.still_changing(request, url_path)
            injected = self._page_with_client(request, ServedPage(url_path, path, body, document_encoding(body, None)), tag)
            return self.bytes_response(request, injected, headers, st.st_mtime)
        if self.on_file is not None:
            self.on_file(url_path, path, request.headers)
        if self.scripts is not None and path.suffix.lower() in SCRIPT_SUFFIXES:
            try:
                script = self.scripts.serve_script(request, path, url_path)
            except PermissionError:
                return self.error_page(request, 403, f"{url_path} is not readable (check its permissions)")
            except FileNotFoundError:
                return self.not_found(request, url_path)
            except StillChanging:
                return self.still_changing(request, url_path)
            if script is not None:
                return self.bytes_response(request, script, headers, st.st_mtime)
        if VERSION_PARAM in request.query:
            # A refreshed reference (?hr=...) names one version of the file for
            # good, so the browser may reuse what it preloaded without asking again.
            headers["Cache-Control"] = "max-age=31536000, immutable"
        if st.st_size > MAX_SNAPSHOT_BYTES:
            # Too big to hold (a video): streamed, with FileResponse's validators and ranges.
            return web.FileResponse(path, headers=headers)
        # Answered from memory with an ETag from the content, so a same-size
        # edit within one mtime tick is never answered with a stale 304.
        try:
            body, st = await self.read(path, st.st_size)
        except PermissionError:
            return self.error_page(request, 403, f"{url_path} is not readable (check its permissions)")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return self.not_found(request, url_path)
        except StillChanging:
            return self.still_changing(request, url_path)
        # Hashing a big file costs more than sending it; its checked stat names the version as well.
        etag = None if len(body) <= SMALL_FILE else _stat_etag(st)
        return self.bytes_response(request, body, headers, st.st_mtime, etag=etag)

    async def read(self, path: Path, size: int) -> tuple[bytes, os.stat_result]:
        """One whole version of ``path`` (see :mod:`hotreload.snapshot`).

        A small file that holds still is read right here, with no thread-pool
        hop on the hot path; a big one, or one being written, in a thread.
        """
        if size <= SMALL_FILE:
            snapshot = read_snapshot_now(path)
            if snapshot is not None:
                return snapshot
        return await asyncio.to_thread(read_snapshot, path)

    def bytes_response(
        self, request: web.Request, body: bytes, headers: dict[str, str], mtime: float | None, status: int = 200,
        *, etag: str | None = None,
    ) -> web.Response:
        if etag is None:
            etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        headers = {**headers, "ETag": etag}
        if mtime is not None:
            headers["Last-Modified"] = formatdate(mtime, usegmt=True)
        if status == 200 and _not_modified(request, etag, mtime):
            return web.Response(status=304, headers=headers)
        if status == 200:
            headers["Accept-Ranges"] = "bytes"
            wanted = byte_range(request.headers.get("Range"), len(body))
            if wanted is not None and _if_range_holds(request, etag, headers.get("Last-Modified")):
                if wanted is UNSATISFIABLE:
                    headers["Content-Range"] = f"bytes */{len(body)}"
                    return web.Response(status=416, headers=headers)
                start, stop = wanted  # type: ignore[misc]
                headers["Content-Range"] = content_range(start, stop, len(body))
                status, body = 206, body[start:stop]
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(body))
            return web.Response(status=status, headers=headers)
        return web.Response(status=status, body=body, headers=headers)

    # ---- generated pages -------------------------------------------------

    def generated_page(self, request: web.Request, status: int, title: str, body_html: str) -> web.Response:
        tag = self.client_tag()
        doc = (
            "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
            + (tag or "")
            + f"<title>{html.escape(title)}</title><style>{_PAGE_CSS}</style></head>"
            + f"<body>{body_html}</body></html>\n"
        )
        return self.bytes_response(
            request, doc.encode("utf-8"), {"Cache-Control": "no-cache", "Content-Type": "text/html; charset=utf-8"},
            None, status,
        )

    async def site_not_found(self, request: web.Request, url_path: str) -> web.Response:
        """404 for ``url_path``: the site's own ``/404.html`` if it has one and HTML would be taken.

        As static hosts and generators' servers do. A tab shown it stays on
        ``url_path``: it turns into the page once that is created, and an edit
        to 404.html reaches it too.
        """
        page = self.servable(NOT_FOUND_PAGE) if accepts_html(request.headers) else None
        if page is None:
            return self.not_found(request, url_path)
        try:
            body, _ = await self.read(page, page.stat().st_size)
        except (OSError, StillChanging):
            return self.not_found(request, url_path)
        headers = {"Cache-Control": "no-cache", "Content-Type": content_type(page)}
        tag = self.client_tag()
        if tag is not None and page.suffix.lower() in HTML_SUFFIXES and wants_injection(request.headers):
            served = ServedPage(url_path, page, body, document_encoding(body, None), shown_from=NOT_FOUND_PAGE)
            body = self._page_with_client(request, served, tag)
        return self.bytes_response(request, body, headers, None, 404)

    def _page_with_client(self, request: web.Request, served: ServedPage, tag: str) -> bytes:
        """A page a tab navigated to, told to the hooks that learn from pages, with the client tag in it."""
        if self.on_page is not None:
            self.on_page(served)
        if self.scripts is not None:
            self.scripts.page_served(request, served)
        return inject_tag(served.body, tag, served.encoding)

    def not_found(self, request: web.Request, url_path: str) -> web.Response:
        shown = html.escape(url_path)
        hint = (
            "<p>This tab updates itself as soon as the file is created.</p>" if self.client_tag() else ""
        )
        return self.generated_page(
            request, 404, f"404 Not found: {url_path}", f"<h1>404 Not found</h1><p><code>{shown}</code></p>{hint}"
        )

    def error_page(self, request: web.Request, status: int, reason: str) -> web.Response:
        title = f"{status} {_REASONS.get(status, 'Error')}"
        return self.generated_page(request, status, title, f"<h1>{html.escape(title)}</h1><p>{html.escape(reason)}</p>")

    def still_changing(self, request: web.Request, url_path: str) -> web.Response:
        """503 for a file rewritten without pause: better no answer than a torn one."""
        response = self.error_page(
            request, 503, f"{url_path} is being written to without pause; it is served once it holds still"
        )
        response.headers["Retry-After"] = "1"
        return response

    def listing(self, request: web.Request, folder: Path, url_path: str) -> web.Response:
        rows = []
        try:
            entries = sorted(os.scandir(folder), key=lambda e: (not e.is_dir(), e.name.lower()))
        except PermissionError:
            return self.error_page(request, 403, f"{url_path} cannot be listed (check its permissions)")
        for entry in entries:
            child = url_path + entry.name
            if isinstance(self._resolve(quote(child)), Refused):
                continue
            is_dir = entry.is_dir()
            name = entry.name + ("/" if is_dir else "")
            try:
                size = "" if is_dir else _human_size(entry.stat().st_size)
            except OSError:
                size = ""
            rows.append(
                f'<tr><td><a href="{html.escape(quote(name))}">{html.escape(name)}</a></td>'
                f'<td class="size">{size}</td></tr>'
            )
        parent = '<tr><td><a href="../">../</a></td><td></td></tr>' if url_path != "/" else ""
        body = (
            f"<h1>Index of {html.escape(url_path)}</h1><table>{parent}{''.join(rows)}</table>"
            + ("" if rows else "<p>This folder is empty.</p>")
        )
        return self.generated_page(request, 200, f"Index of {url_path}", body)


def _not_modified(request: web.Request, etag: str, mtime: float | None) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        return etag in [t.strip().removeprefix("W/") for t in if_none_match.split(",")] or if_none_match.strip() == "*"
    since = request.headers.get("If-Modified-Since")
    if since and mtime is not None:
        try:
            return int(mtime) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False
    return False


def _stat_etag(st: os.stat_result) -> str:
    """An ETag naming one version of a file by its identity, size and times (nanoseconds)."""
    return f'"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}-{st.st_ctime_ns:x}"'


def _if_range_holds(request: web.Request, etag: str, last_modified: str | None) -> bool:
    """A Range applies unless If-Range names another version (RFC 9110, 13.1.5)."""
    if_range = request.headers.get("If-Range")
    if if_range is None:
        return True
    if_range = if_range.strip()
    if if_range.startswith('"'):
        return if_range == etag
    return last_modified is not None and if_range == last_modified


def _human_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return ""


_REASONS = {400: "Bad request", 403: "Forbidden", 404: "Not found", 405: "Method not allowed", 503: "Busy"}

_PAGE_CSS = (
    "body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:48rem;padding:0 1rem;color:#222}"
    "table{border-collapse:collapse;width:100%}td{padding:.2rem .6rem;border-bottom:1px solid #eee}"
    ".size{text-align:right;color:#666;white-space:nowrap}a{color:#0b63ce;text-decoration:none}"
    "a:hover{text-decoration:underline}code{background:#f3f3f3;padding:.1rem .3rem}"
)
