"""A changed ES module → hot updates for its boundaries, or reloads that say why.

The module graph answers where a change lands; this turns the answer into
protocol messages and the terminal's line. Pages are page keys
(``/docs/index.html``), as the channel knows the tabs.

>>> from hotreload.jsparse import analyse
>>> from hotreload.modgraph import ModuleGraph
>>> graph = ModuleGraph()
>>> graph.set_page_modules("/index.html", ["/main.js"])
>>> graph.update_module("/main.js", analyse(b'import "./a.js"; import.meta.hot.accept("./a.js", f)'), ["/a.js"])
>>> outcome = plan_module_change(graph, "/a.js", "modified", timestamp=7)
>>> [(u.kind, u.path, u.accepted_path) for u in outcome.updates], outcome.log.why
([('js', '/main.js', '/a.js')], 'boundary /main.js')
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .modgraph import ModuleGraph, Propagation
from .plan import Change, LogLine, Outgoing
from .protocol import FileUpdate, Reload, Update

__all__ = ["ModuleOutcome", "outgoing_for", "plan_invalidation", "plan_module_change"]


@dataclass
class ModuleOutcome:
    """What one module change means for the open tabs.

    ``updates`` go to the tabs of ``update_pages``, the pages that run a
    boundary (None: every tab, when the graph cannot place them; a tab that
    never ran a boundary ignores it); ``reloads`` maps the pages that must
    reload to the reason they are given; ``reload_everywhere`` is a reason to
    reload every tab, when the graph cannot tell which pages run the module.
    """

    log: LogLine
    updates: list[FileUpdate] = field(default_factory=list)
    reloads: dict[str, str] = field(default_factory=dict)
    reload_everywhere: str | None = None
    update_pages: frozenset[str] | None = None


def plan_module_change(graph: ModuleGraph, path: str, change: Change, timestamp: int) -> ModuleOutcome | None:
    """Plan a change to ``path``, or None when the graph has never seen it (a file no tab loaded as a script).

    Modules on the way from the change to a boundary are marked as updated at
    ``timestamp``, so their importers are served with fresh import URLs.

    >>> from hotreload.modgraph import ModuleGraph
    >>> plan_module_change(ModuleGraph(), "/never-served.js", "modified", 1) is None
    True
    """
    if not graph.knows(path):
        return None
    if change == "deleted":
        pages = graph.pages_loading(path)
        if not pages:
            return ModuleOutcome(LogLine("js", path, "ignored", "no open page runs it"))
        importers = sorted(graph.importers(path))
        why = f"{path} was deleted" + (f" (imported by {', '.join(importers)})" if importers else "")
        return ModuleOutcome(LogLine("js", path, "reload", why), reloads={page: why for page in pages})
    if graph.is_pruned(path) and not graph.is_classic(path):
        return ModuleOutcome(LogLine("js", path, "ignored", "nothing imports it any more"))
    return _outcome(graph, path, graph.propagate(path), timestamp)


def plan_invalidation(graph: ModuleGraph, path: str, message: str, timestamp: int) -> ModuleOutcome:
    """Plan the re-propagation asked for by ``import.meta.hot.invalidate(message)`` in ``path``.

    >>> from hotreload.jsparse import analyse
    >>> from hotreload.modgraph import ModuleGraph
    >>> graph = ModuleGraph()
    >>> graph.set_page_modules("/index.html", ["/main.js"])
    >>> graph.update_module("/main.js", analyse(b'import "./w.js"'), ["/w.js"])
    >>> graph.update_module("/w.js", analyse(b"import.meta.hot.accept()"), [])
    >>> plan_invalidation(graph, "/w.js", "shape changed", 9).reloads
    {'/index.html': '/w.js invalidated (shape changed): /w.js → /main.js → page /index.html (no accept)'}
    """
    outcome = _outcome(graph, path, graph.propagate_invalidation(path), timestamp)
    prefix = f"{path} invalidated" + (f" ({message})" if message else "")
    outcome.reloads = {page: f"{prefix}: {why}" for page, why in outcome.reloads.items()}
    if outcome.reload_everywhere:
        outcome.reload_everywhere = f"{prefix}: {outcome.reload_everywhere}"
    outcome.log = LogLine("js", path, outcome.log.action, f"invalidated{f': {message}' if message else ''}; {outcome.log.why}")
    return outcome


def outgoing_for(outcome: ModuleOutcome, seq: int, tab_pages: frozenset[str | None]) -> list[Outgoing]:
    """The messages for an outcome that is not part of a batch of file changes (an invalidation)."""
    if outcome.reload_everywhere:
        return [Outgoing(Reload(seq, outcome.reload_everywhere), None)]
    outgoing = [
        Outgoing(Reload(seq, why), frozenset({page})) for page, why in sorted(outcome.reloads.items()) if page in tab_pages
    ]
    rest = frozenset(
        page for page in tab_pages
        if page not in outcome.reloads and (outcome.update_pages is None or page in outcome.update_pages)
    )
    if outcome.updates and rest:
        outgoing.append(Outgoing(Update(seq, outcome.updates), rest))
    return outgoing


def _outcome(graph: ModuleGraph, path: str, result: Propagation, timestamp: int) -> ModuleOutcome:
    graph.mark_updated(result.stale, timestamp)
    updates = [
        FileUpdate(
            "js", boundary, timestamp, accepted_path=accepted,
            within_cycle=True if (boundary, accepted) in result.circular else None,
        )
        for boundary, accepted in result.boundaries
    ]
    running = frozenset(page for boundary, _ in result.boundaries for page in graph.pages_loading(boundary))
    update_pages = running or None
    fallback = result.reason or f"{path} changed"
    reloads = {page: result.page_reasons.get(page, fallback) for page in result.full_reload_pages}
    hot = _boundaries_text(result.boundaries)
    if result.reload_all_pages:
        log = LogLine("js", path, "reload", f"every tab: {fallback}")
        return ModuleOutcome(log, updates, reloads, reload_everywhere=fallback, update_pages=update_pages)
    if reloads:
        log = LogLine("js", path, "reload", fallback + (f"; elsewhere hot, {hot}" if hot else ""))
    elif updates:
        log = LogLine("js", path, "hot", hot)
    else:
        log = LogLine("js", path, "ignored", "no open page runs it")
    return ModuleOutcome(log, updates, reloads, update_pages=update_pages)


def _boundaries_text(boundaries: list[tuple[str, str]]) -> str:
    names = list(dict.fromkeys(boundary for boundary, _ in boundaries))
    if not names:
        return ""
    if len(names) <= 3:
        return ("boundary " if len(names) == 1 else "boundaries ") + ", ".join(names)
    return f"{len(names)} boundaries: {', '.join(names[:3])}, …"
