"""The ES module graph of the site, and where a module change can be applied hot.

Pure data: the server records what each module imports as it serves it and which
modules each page loads; :meth:`ModuleGraph.propagate` then answers, for a
changed module, which ``import.meta.hot`` boundaries take the update and which
pages must reload instead (and why).

>>> from hotreload.jsparse import analyse
>>> graph = ModuleGraph()
>>> graph.set_page_modules("/index.html", ["/main.js"])
>>> graph.update_module("/main.js", analyse(b'import "./counter.js"'), ["/counter.js"])
>>> graph.update_module("/counter.js", analyse(b"import.meta.hot.accept()"), [])
>>> graph.propagate("/counter.js").boundaries
[('/counter.js', '/counter.js')]

The graph describes what tabs *run*, so record a module when it is served, not
when its file changes: a module that only gained ``accept()`` in the edit is not
yet accepting in any open tab, and propagating from its old facts says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from hotreload.jsparse import ModuleInfo

__all__ = ["ModuleGraph", "Propagation"]


@dataclass
class Propagation:
    """What a change to one module means for the open tabs.

    ``boundaries`` pairs each module that takes the update with what it
    re-imports: itself when it self-accepts, otherwise the dependency it
    accepts (the runtime's ``path`` and ``acceptedPath``). ``full_reload_pages``
    must reload, because a chain of importers reached them without a boundary;
    ``reason`` shows the first such chain. ``reload_all_pages`` is set when the
    module is loaded by something the graph cannot place on a page, so every tab
    must reload. ``pruned`` lists modules no longer imported by anything (their
    ``prune`` callbacks should run). ``stale`` holds every module whose running
    instance is now out of date; they must be served under fresh URLs so that
    re-importing a boundary does not pick up cached copies. ``page_reasons``
    gives each reloading page the first chain that reached it. ``circular``
    holds the boundaries whose update runs through an import cycle: re-running
    one of them may throw only because of the cycle's evaluation order, so the
    browser reloads instead of reporting that error (as Vite does).
    """

    boundaries: list[tuple[str, str]] = field(default_factory=list)
    full_reload_pages: set[str] = field(default_factory=set)
    reason: str | None = None
    pruned: list[str] = field(default_factory=list)
    stale: set[str] = field(default_factory=set)
    reload_all_pages: bool = False
    page_reasons: dict[str, str] = field(default_factory=dict)
    circular: set[tuple[str, str]] = field(default_factory=set)

    @property
    def needs_reload(self) -> bool:
        """Whether any tab has to reload for this change."""
        return self.reload_all_pages or bool(self.full_reload_pages)


@dataclass
class _Module:
    url: str
    imports: set[str] = field(default_factory=set)
    importers: set[str] = field(default_factory=set)
    accepted: set[str] = field(default_factory=set)
    accepts_self: bool = False
    declines: bool = False


def _module_path(url: str) -> str:
    """The module's identity: its URL path without query or fragment."""
    return url.split("#", 1)[0].split("?", 1)[0]


def _resolve_accepted(owner: str, specifier: str) -> str | None:
    if not specifier.startswith(("/", "./", "../")):
        return None  # a bare specifier needs the import map: pass accepted_urls
    return _module_path(urlsplit(urljoin(owner, specifier)).path)


class ModuleGraph:
    """Who imports whom among the modules served, and which pages load which modules.

    >>> from hotreload.jsparse import analyse
    >>> graph = ModuleGraph()
    >>> graph.set_page_modules("/index.html", ["/main.js"])
    >>> graph.update_module("/main.js", analyse(b'import "./a.js"'), ["/a.js"])
    >>> graph.importers("/a.js")
    {'/main.js'}
    """

    def __init__(self) -> None:
        self._modules: dict[str, _Module] = {}
        self._entry_pages: dict[str, set[str]] = {}
        self._page_entries: dict[str, set[str]] = {}
        self._classic_pages: dict[str, set[str]] = {}
        self._page_classics: dict[str, set[str]] = {}
        self._pruned: set[str] = set()
        self._pending_pruned: list[str] = []
        self._last_updated: dict[str, int] = {}

    # ------------------------------------------------------------------ recording

    def update_module(
        self,
        url: str,
        info: ModuleInfo,
        resolved_imports: Iterable[str],
        accepted_urls: Iterable[str] | None = None,
    ) -> None:
        """Record a served module: its resolved imports and its ``import.meta.hot`` facts.

        ``accepted_urls`` are the resolved ``accept()`` dependencies; by default
        the relative ones in ``info.accepted_deps`` are resolved against ``url``.
        Imports that disappear may leave modules that nothing imports any more:
        they are queued as pruned (see :meth:`take_pruned`).

        >>> from hotreload.jsparse import analyse
        >>> graph = ModuleGraph()
        >>> graph.update_module("/a.js", analyse(b'import "./b.js"'), ["/b.js"])
        >>> graph.update_module("/a.js", analyse(b''), [])
        >>> graph.take_pruned()
        ['/b.js']
        """
        url = _module_path(url)
        module = self._module(url)
        module.accepts_self = info.accepts_self
        module.declines = info.declines
        if accepted_urls is None:
            resolved = (_resolve_accepted(url, spec) for spec in info.accepted_deps)
            module.accepted = {dep for dep in resolved if dep is not None}
        else:
            module.accepted = {_module_path(dep) for dep in accepted_urls}
        self._pruned.discard(url)

        new_imports = {_module_path(dep) for dep in resolved_imports}
        removed = module.imports - new_imports
        for dep in new_imports - module.imports:
            self._module(dep).importers.add(url)
            self._pruned.discard(dep)
        for dep in removed:
            self._modules[dep].importers.discard(url)
        module.imports = new_imports
        self._pending_pruned.extend(self._prune_unreachable(removed, keep=url))

    def set_page_modules(
        self, page: str, module_urls: Iterable[str], classic_scripts: Iterable[str] = ()
    ) -> None:
        """Record the entry modules and classic ``<script src>`` files of a page.

        Entry modules are those the page's HTML loads itself (``<script
        type="module" src>`` and the static imports of inline module scripts).

        >>> graph = ModuleGraph()
        >>> graph.set_page_modules("/index.html", ["/main.js"], ["/legacy.js"])
        >>> sorted(graph.propagate("/legacy.js").full_reload_pages)
        ['/index.html']
        """
        entries = {_module_path(url) for url in module_urls}
        dropped = self._page_entries.get(page, set()) - entries
        self._relink(page, entries, self._page_entries, self._entry_pages)
        self._relink(page, {_module_path(url) for url in classic_scripts}, self._page_classics, self._classic_pages)
        for entry in entries:
            self._module(entry)
            self._pruned.discard(entry)
        # The page reloads whenever its HTML changes, so modules it stopped
        # loading have no running instance left to notify: forget them quietly.
        self._prune_unreachable({entry for entry in dropped if entry in self._modules}, keep=None)

    def mark_updated(self, urls: Iterable[str], timestamp: int) -> None:
        """Remember that these modules were replaced at ``timestamp`` (for fresh import URLs).

        >>> graph = ModuleGraph()
        >>> graph.mark_updated(["/a.js"], 1700)
        >>> graph.last_updated("/a.js"), graph.last_updated("/b.js")
        (1700, None)
        """
        for url in urls:
            self._last_updated[_module_path(url)] = timestamp

    def last_updated(self, url: str) -> int | None:
        """The timestamp of the last hot update of ``url``, or ``None`` if it never changed."""
        return self._last_updated.get(_module_path(url))

    def take_pruned(self) -> list[str]:
        """Modules pruned since the last call (or the last :meth:`propagate`), oldest first."""
        pruned, self._pending_pruned = self._pending_pruned, []
        return pruned

    # ------------------------------------------------------------------ queries

    def importers(self, url: str) -> set[str]:
        """The modules that import ``url`` (statically, dynamically or by re-export)."""
        module = self._modules.get(_module_path(url))
        return set(module.importers) if module else set()

    def imports(self, url: str) -> set[str]:
        """The modules ``url`` imports, as last recorded."""
        module = self._modules.get(_module_path(url))
        return set(module.imports) if module else set()

    def knows(self, url: str) -> bool:
        """Whether ``url`` was served as a module, imported by one, or loaded as a classic script.

        >>> graph = ModuleGraph()
        >>> graph.set_page_modules("/index.html", ["/main.js"], ["/legacy.js"])
        >>> graph.knows("/main.js"), graph.knows("/legacy.js"), graph.knows("/other.js")
        (True, True, False)
        """
        url = _module_path(url)
        return url in self._modules or url in self._classic_pages

    def is_classic(self, url: str) -> bool:
        """Whether some page loads ``url`` with a classic (non-module) ``<script src>``."""
        return _module_path(url) in self._classic_pages

    def is_pruned(self, url: str) -> bool:
        """Whether nothing imports ``url`` any more (no tab runs it)."""
        return _module_path(url) in self._pruned

    def pages_loading(self, url: str) -> set[str]:
        """The pages that run ``url``: through their entry modules, or as a classic script.

        >>> from hotreload.jsparse import analyse
        >>> graph = ModuleGraph()
        >>> graph.set_page_modules("/index.html", ["/main.js"])
        >>> graph.update_module("/main.js", analyse(b'import "./a.js"'), ["/a.js"])
        >>> graph.pages_loading("/a.js")
        {'/index.html'}
        """
        url = _module_path(url)
        pages = set(self._classic_pages.get(url, ()))
        if url in self._modules and url not in self._pruned:
            pages |= self._pages_holding(url)
        return pages

    def pages(self) -> set[str]:
        """Every page whose modules or classic scripts are recorded."""
        return {page for page, entries in self._page_entries.items() if entries} | {
            page for page, scripts in self._page_classics.items() if scripts
        }

    def propagate(self, changed: str) -> Propagation:
        """Find the boundaries that accept a change to ``changed``, or the pages to reload.

        Walks importers from the changed module the way Vite does: a
        self-accepting module, or an importer that accepts the module it came
        from, ends a path as a boundary; a path that reaches a page's entry
        module without one reloads that page; ``decline()`` reloads the pages
        that hold the declining module. Cycles end where they loop back.
        Pruned modules queued by :meth:`update_module` are handed over here.

        >>> from hotreload.jsparse import analyse
        >>> graph = ModuleGraph()
        >>> graph.set_page_modules("/index.html", ["/main.js"])
        >>> graph.update_module("/main.js", analyse(b'import "./a.js"'), ["/a.js"])
        >>> graph.propagate("/a.js").reason
        '/a.js → /main.js → page /index.html (no accept)'
        """
        changed = _module_path(changed)
        result = Propagation(pruned=self.take_pruned())
        for page in sorted(self._classic_pages.get(changed, ())):
            self._reload(result, {page}, f"{changed} → page {page} (classic script)")
        if changed in self._modules and changed not in self._pruned:
            self._walk([(changed, [changed])], result)
        return result

    def propagate_invalidation(self, url: str) -> Propagation:
        """Propagate from the importers of ``url``, which refused an update it was handed.

        ``import.meta.hot.invalidate()`` means "this module cannot take the
        update itself": the change continues from its importers as if they had
        changed, and a page that loads it directly reloads. ``url`` itself is
        not stale: its new version already runs.

        >>> from hotreload.jsparse import analyse
        >>> graph = ModuleGraph()
        >>> graph.set_page_modules("/index.html", ["/main.js"])
        >>> graph.update_module("/main.js", analyse(b'import "./w.js"; import.meta.hot.accept()'), ["/w.js"])
        >>> graph.update_module("/w.js", analyse(b"import.meta.hot.accept()"), [])
        >>> graph.propagate_invalidation("/w.js").boundaries
        [('/main.js', '/main.js')]
        """
        url = _module_path(url)
        result = Propagation(pruned=self.take_pruned())
        module = self._modules.get(url)
        if module is None or url in self._pruned:
            return result
        for page in sorted(self._entry_pages.get(url, ())):
            self._reload(result, {page}, f"{url} invalidated → page {page}")
        importers = sorted(module.importers - self._pruned)
        self._walk([(importer, [url, importer]) for importer in reversed(importers)], result)
        return result

    # ------------------------------------------------------------------ internals

    def _module(self, url: str) -> _Module:
        module = self._modules.get(url)
        if module is None:
            module = self._modules[url] = _Module(url)
        return module

    @staticmethod
    def _relink(
        page: str, targets: set[str], forward: dict[str, set[str]], backward: dict[str, set[str]]
    ) -> None:
        for old in forward.get(page, set()) - targets:
            backward[old].discard(page)
            if not backward[old]:
                del backward[old]
        for new in targets:
            backward.setdefault(new, set()).add(page)
        forward[page] = set(targets)

    def _walk(self, starts: list[tuple[str, list[str]]], result: Propagation) -> None:
        # An explicit stack keeps deep import chains clear of the recursion limit.
        traversed: set[str] = set()
        stack: list[tuple[str, list[str]]] = list(starts)
        while stack:
            url, chain = stack.pop()
            if url in traversed:
                continue
            traversed.add(url)
            module = self._modules[url]
            result.stale.add(url)
            path = " → ".join(chain)
            if module.declines:
                pages = self._pages_holding(url)
                self._reload(result, pages, f"{path} (declined)", everywhere=not pages)
                continue
            if module.accepts_self:
                result.boundaries.append((url, url))
                if self._within_cycle(url, chain):
                    result.circular.add((url, url))
                continue
            pages = self._entry_pages.get(url, set())
            for page in sorted(pages):
                self._reload(result, {page}, f"{path} → page {page} (no accept)")
            live_importers = sorted(module.importers - self._pruned)
            if not live_importers and not pages:
                self._reload(result, set(), f"{path} (not loaded by any known page)", everywhere=True)
            # Reversed so the stack visits importers in sorted order.
            for importer in reversed(live_importers):
                if url in self._modules[importer].accepted:
                    result.boundaries.append((importer, url))
                    if self._within_cycle(importer, chain):
                        result.circular.add((importer, url))
                elif importer not in chain:
                    stack.append((importer, [*chain, importer]))
        result.boundaries.sort()

    def _reload(self, result: Propagation, pages: set[str], reason: str, everywhere: bool = False) -> None:
        if everywhere:
            result.reload_all_pages = True
            pages = pages | self.pages()
        result.full_reload_pages |= pages
        for page in pages:
            result.page_reasons.setdefault(page, reason)
        if result.reason is None:
            result.reason = reason

    def _within_cycle(self, boundary: str, chain: list[str]) -> bool:
        """Whether ``boundary`` or a module above it imports back into ``chain``.

        ``chain`` runs from the changed module up to the module the boundary
        re-imports; a path of importers from the boundary that comes back to
        it means the re-run happens inside an import cycle.
        """
        on_chain = set(chain)
        seen = {boundary}
        stack = [boundary]
        while stack:
            current = stack.pop()
            for importer in self._modules[current].importers - self._pruned:
                if importer == current:
                    continue  # a module importing itself is not a cycle through the chain
                if importer in on_chain:
                    return True
                if importer not in seen:
                    seen.add(importer)
                    stack.append(importer)
        return False

    def _pages_holding(self, url: str) -> set[str]:
        """Pages whose entry modules import ``url``, directly or through other modules."""
        pages: set[str] = set()
        seen = {url}
        stack = [url]
        while stack:
            current = stack.pop()
            pages |= self._entry_pages.get(current, set())
            for importer in self._modules[current].importers - seen:
                seen.add(importer)
                stack.append(importer)
        return pages

    def _prune_unreachable(self, candidates: set[str], keep: str | None) -> list[str]:
        """Mark modules that lost their last live importer as pruned; return them in order.

        A module stays alive if a page loads it, if an importer outside the
        candidates' subtree still imports it, or if an alive module imports it,
        so import cycles among dead modules are pruned together.
        """
        subtree: list[str] = []
        seen: set[str] = set()
        stack = sorted(candidates, reverse=True)
        while stack:
            current = stack.pop()
            if current in seen or current == keep:
                continue
            seen.add(current)
            subtree.append(current)
            stack.extend(sorted(self._modules[current].imports - seen, reverse=True))

        alive: set[str] = set()
        roots = [
            url
            for url in subtree
            if url in self._entry_pages
            or url in self._classic_pages
            or any(importer not in seen for importer in self._modules[url].importers - self._pruned)
        ]
        while roots:
            current = roots.pop()
            if current in alive:
                continue
            alive.add(current)
            roots.extend(dep for dep in self._modules[current].imports if dep in seen)

        dead = [url for url in subtree if url not in alive]
        for url in dead:
            module = self._modules[url]
            # A pruned module runs nowhere, so its imports no longer keep anything alive.
            for dep in module.imports:
                self._modules[dep].importers.discard(url)
            module.imports = set()
            self._pruned.add(url)
        return dead
