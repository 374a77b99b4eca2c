"""The site's ES modules as the browser runs them: served for HMR and recorded in the module graph.

When a tab loads a module, the server analyses it (:mod:`hotreload.jsparse`),
records its imports in the :class:`~hotreload.modgraph.ModuleGraph`, and
rewrites it on the way out:

- a module that mentions ``import.meta.hot`` gets a one-line preamble that
  creates its hot context (no line moves);
- an import of a module that was hot-updated carries that update's ``?t=``
  version, so a boundary that re-runs gets fresh code all the way down;
- a bare specifier is resolved through the page's import map where it must be
  compared with update paths (``import.meta.hot.accept("lib", ...)``).

HTML pages are read for their entry modules, inline module scripts, import
map and classic scripts. Only what browsers really run is recorded, so the
graph describes the open tabs, not the files on disk.

    modules = SiteModules(Path("site"), runtime_url="/__hotreload/hmr.js", on_prune=print)
    StaticFiles(Path("site"), scripts=modules)   # serve_script / page_served are its hooks
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit

from aiohttp import web

from .codeframe import code_frame, line_column, syntax_error_position
from .htmlscripts import page_scripts
from .jsparse import Edit, ImportMap, analyse, hot_preamble, parse_importmap, rewrite_with_edits, source_offset
from .modgraph import ModuleGraph
from .moduleplan import ModuleOutcome, plan_invalidation, plan_module_change
from .paths import DEFAULT_DENY, Refused, resolve_request_path
from .plan import Change, page_key
from .static import ServedPage, read_stable

__all__ = ["Location", "SiteModules"]

# Stands for the site's origin when no request says which it is (positions of errors).
_DEFAULT_ORIGIN = "http://site.invalid"
# How many served versions are kept to map error positions back to the files.
_SERVED_KEPT = 256
# How far the search for the module that broke an update goes.
_LOCATE_LIMIT = 500


@dataclass(frozen=True)
class Location:
    """Where an update failed: a module's URL path, a 1-based line and column, and a code frame.

    ``message`` is set when the server can say more than the browser did
    (an import of a file that does not exist).
    """

    file: str
    line: int
    column: int
    frame: str
    message: str | None = None


@dataclass(frozen=True)
class _Page:
    origin: str
    import_map: ImportMap


@dataclass(frozen=True)
class _Served:
    body: bytes
    edits: list[Edit]


class SiteModules:
    """The module graph of one site, fed by what the server sends to browsers."""

    def __init__(
        self,
        root: Path,
        *,
        runtime_url: str,
        on_prune: Callable[[list[str]], None] = lambda _paths: None,
        deny: Sequence[str] = DEFAULT_DENY,
        follow_symlinks: bool = False,
    ) -> None:
        self.root = root
        self.graph = ModuleGraph()
        self.runtime_url = runtime_url
        self.on_prune = on_prune
        self.deny = tuple(deny)
        self.follow_symlinks = follow_symlinks
        self._pages: dict[str, _Page] = {}
        self._module_pages: dict[str, str] = {}  # module → a page that loads it (for its import map)
        self._recorded: set[str] = set()
        self._served: collections.OrderedDict[str, _Served] = collections.OrderedDict()
        self._invalidated: set[tuple[str, int]] = set()

    # ---- pages ----------------------------------------------------------------

    def page_served(self, request: web.Request, page: ServedPage) -> None:
        """Record the scripts of an HTML page a browser navigated to."""
        origin = _origin(request)
        try:
            text = page.body.decode(page.encoding or "utf-8", "replace")
        except LookupError:  # an encoding Python does not know: script tags are ASCII anyway
            text = page.body.decode("latin-1")
        scripts = page_scripts(text)
        page_url = origin + quote(page.url_path)
        base = urljoin(page_url, scripts.base_href) if scripts.base_href else page_url
        import_map = ImportMap()
        for text in scripts.import_maps:
            try:
                import_map = parse_importmap(text, base)
            except ValueError:
                continue  # the browser ignores an invalid map too
            break
        key = page_key(page.url_path)
        self._pages[key] = _Page(origin, import_map)
        entries: list[str] = []
        for src in scripts.module_srcs:
            entries.extend(_site_paths([urljoin(base, src)], origin))
        for inline in scripts.inline_modules:
            info = analyse(inline.encode("utf-8"))
            resolved = [import_map.resolve(ref.specifier, base) for ref in info.imports]
            entries.extend(_site_paths(resolved, origin))
        classics = _site_paths([urljoin(base, src) for src in scripts.classic_srcs], origin)
        for entry in entries:
            self._module_pages[entry] = key
        self.graph.set_page_modules(key, entries, classics)

    # ---- modules --------------------------------------------------------------

    def serve_script(self, request: web.Request, path: Path, url_path: str) -> bytes | None:
        """The bytes to send for a module request, or None to send the file as it is.

        Classic scripts, workers and ``fetch()`` of a ``.js`` file get the file
        unchanged; so does everything when the browser gives no fetch metadata
        and the graph does not know the file as a module.
        """
        if not self._is_module_request(request, url_path):
            return None
        source, _ = read_stable(path)
        origin = _origin(request)
        page = self._page_of(request, origin)
        if page is not None:
            self._module_pages[url_path] = page
        info = analyse(source, name=url_path)
        targets = self._targets(url_path, [ref.specifier for ref in info.imports + info.accept_refs], origin)
        # A broken version never ran in the browser; the version that did keeps its place in the graph.
        if not (info.has_syntax_error and url_path in self._recorded):
            self.graph.update_module(
                url_path, info,
                [targets[ref.specifier] for ref in info.imports if ref.specifier in targets],
                [targets[spec] for spec in info.accepted_deps if spec in targets],
            )
            self._recorded.add(url_path)
            pruned = self.graph.take_pruned()
            if pruned:
                self.on_prune(pruned)
        replacements: dict[str, str] = {}
        for specifier, target in targets.items():
            stamp = self.graph.last_updated(target)
            if stamp is not None:
                replacements[specifier] = _versioned(target, specifier, stamp)
            elif not specifier.startswith(("/", "./", "../")) and "://" not in specifier:
                replacements[specifier] = quote(target) + _query_and_fragment(specifier)
        preamble = hot_preamble(self.runtime_url) if info.uses_hot else None
        body, edits = rewrite_with_edits(source, info, replacements.get, preamble)
        self._served[url_path] = _Served(body, edits)
        self._served.move_to_end(url_path)
        while len(self._served) > _SERVED_KEPT:
            self._served.popitem(last=False)
        return body

    def _is_module_request(self, request: web.Request, url_path: str) -> bool:
        if self.graph.is_classic(url_path):
            return False
        destination = request.headers.get("Sec-Fetch-Dest")
        if destination is not None:
            # Module scripts (and their imports, and modulepreload) are fetched
            # in CORS mode; classic scripts in no-cors mode.
            return destination == "script" and request.headers.get("Sec-Fetch-Mode") == "cors"
        return self.graph.knows(url_path)

    def _page_of(self, request: web.Request, origin: str) -> str | None:
        referrer = request.headers.get("Referer")
        if not referrer or not referrer.startswith(origin + "/"):
            return None
        referrer_path = unquote(urlsplit(referrer).path)
        key = page_key(referrer_path)
        if key in self._pages:
            return key
        return self._module_pages.get(referrer_path)

    def _targets(self, url_path: str, specifiers: list[str], origin: str | None = None) -> dict[str, str]:
        """Site paths of the specifiers that name modules of this site (as the module's page resolves them)."""
        page = self._pages.get(self._module_pages.get(url_path, ""))
        if origin is None:
            origin = page.origin if page is not None else _DEFAULT_ORIGIN
        import_map = page.import_map if page is not None and page.origin == origin else ImportMap()
        module_url = origin + quote(url_path)
        targets: dict[str, str] = {}
        for specifier in dict.fromkeys(specifiers):
            found = _site_paths([import_map.resolve(specifier, module_url)], origin)
            if found:
                targets[specifier] = found[0]
        return targets

    # ---- changes --------------------------------------------------------------

    def plan_change(self, path: str, change: Change, timestamp: int) -> ModuleOutcome | None:
        """What a change to ``path`` means for the tabs, or None when no tab loaded it as a script."""
        return plan_module_change(self.graph, path, change, timestamp)

    def plan_invalidation(self, path: str, message: str, timestamp: int) -> ModuleOutcome | None:
        """Re-propagate from the importers of ``path`` after ``import.meta.hot.invalidate()``.

        Every tab that ran the update asks; the first request for a given
        version is planned, the others get None.
        """
        version = self.graph.last_updated(path)
        if version is None or not self.graph.knows(path) or (path, version) in self._invalidated:
            return None
        self._invalidated.add((path, version))
        return plan_invalidation(self.graph, path, message, timestamp)

    # ---- errors ---------------------------------------------------------------

    def locate(self, url_path: str, line: int | None = None, column: int | None = None) -> Location | None:
        """Where an update that failed in ``url_path`` went wrong, with a code frame.

        With a ``line`` (and ``column``) from the browser's stack trace, that
        position in the served version is mapped back to the file. Without
        one (a ``SyntaxError`` or a failed fetch, which browsers report with no
        position), the module and the modules it imports are searched for a
        syntax error or an import of a file that does not exist.
        """
        if line is not None:
            source = self._read(url_path)
            if source is None:
                return None
            line, column = self._source_position(url_path, source, line, column or 1)
            text = source.decode("utf-8", "replace")
            return Location(url_path, line, column, code_frame(text, line, column))
        return self._find_breakage(url_path)

    def _find_breakage(self, start: str) -> Location | None:
        queue = collections.deque([start])
        seen = {start}
        while queue and len(seen) <= _LOCATE_LIMIT:
            current = queue.popleft()
            source = self._read(current)
            if source is None:
                continue
            position = syntax_error_position(source)
            if position is not None:
                return Location(current, *position, code_frame(source.decode("utf-8", "replace"), *position))
            info = analyse(source, name=current)
            targets = self._targets(current, [ref.specifier for ref in info.imports])
            for ref in info.imports:
                target = targets.get(ref.specifier)
                if target is None or target in seen:
                    continue
                if self._file(target) is None:
                    line, column = line_column(source, ref.start)
                    frame = code_frame(source.decode("utf-8", "replace"), line, column)
                    return Location(current, line, column, frame, f"{ref.specifier} not found: there is no {target}")
                if ref.kind != "dynamic":  # a failed import() does not fail its importer
                    seen.add(target)
                    queue.append(target)
        return None

    def _source_position(self, url_path: str, source: bytes, line: int, column: int) -> tuple[int, int]:
        served = self._served.get(url_path)
        if served is None:
            return line, column
        # Browsers count columns in UTF-16 code units on the served text.
        lines = served.body.split(b"\n")
        if not 1 <= line <= len(lines):
            return line, column
        text = lines[line - 1].decode("utf-8", "replace")
        characters = _utf16_prefix(text, column - 1)
        offset = sum(len(chunk) + 1 for chunk in lines[: line - 1]) + len(text[:characters].encode("utf-8"))
        return line_column(source, min(len(source), source_offset(served.edits, offset)))

    def _file(self, url_path: str) -> Path | None:
        found = resolve_request_path(
            self.root, quote(url_path), deny=self.deny, follow_symlinks=self.follow_symlinks
        )
        if isinstance(found, Refused) or found.is_dir or not found.path.is_file():
            return None
        return found.path

    def _read(self, url_path: str) -> bytes | None:
        path = self._file(url_path)
        if path is None:
            return None
        try:
            return read_stable(path)[0]
        except OSError:
            return None


def _origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _site_paths(urls: list[str | None], origin: str) -> list[str]:
    """The URL paths (decoded, no query) of the URLs that are on this site, skipping the client's own files."""
    paths: list[str] = []
    for url in urls:
        if url is None or not url.startswith(origin + "/"):
            continue
        path = unquote(urlsplit(url).path)
        if not path.startswith("/__hotreload/"):
            paths.append(path)
    return paths


def _query_and_fragment(specifier: str) -> str:
    parts = urlsplit(specifier)
    return (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")


def _versioned(target: str, specifier: str, stamp: int) -> str:
    """``target`` with the update's version first in its query, keeping the specifier's own query."""
    parts = urlsplit(specifier)
    query = f"?t={stamp}" + (f"&{parts.query}" if parts.query else "")
    return quote(target) + query + (f"#{parts.fragment}" if parts.fragment else "")


def _utf16_prefix(text: str, units: int) -> int:
    """How many characters of ``text`` make up its first ``units`` UTF-16 code units."""
    count = 0
    for index, character in enumerate(text):
        if count >= units:
            return index
        count += 2 if ord(character) > 0xFFFF else 1
    return len(text)
