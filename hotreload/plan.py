"""From a batch of changed files to the messages each tab should get, and why.

The planner is pure: it is handed the changes (as URL paths), a way to tell
which pages use a file, and the pages the connected tabs show. It returns one
message per group of tabs plus the lines the terminal prints.

Example::

    >>> plan = plan_updates({"/style.css": "modified"}, seq=1, timestamp=0,
    ...                     site=SiteView(lambda p: None, lambda p: False))
    >>> [(o.pages, o.message.type) for o in plan.outgoing]
    [(None, 'update')]
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Literal, Mapping

from .inline import Inline
from .pagegraph import page_key
from .static import NOT_FOUND_PAGE
from .protocol import FileUpdate, Navigate, Reload, ServerMessage, Update, UpdateKind

if TYPE_CHECKING:
    from .moduleplan import ModuleOutcome

Change = Literal["added", "modified", "deleted"]

CSS_SUFFIXES = frozenset({".css"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".avif", ".ico", ".bmp"})
PAGE_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})


def classify(url_path: str, change: Change) -> UpdateKind:
    """How the browser applies a change to ``url_path``.

    A deleted stylesheet or image cannot be swapped in (there is nothing to
    load), so it falls back to reloading the pages that use it.

    >>> classify("/a/site.css", "modified"), classify("/a/site.css", "deleted")
    ('css', 'asset')
    """
    suffix = posixpath.splitext(url_path)[1].lower()
    if suffix in PAGE_SUFFIXES:
        return "page"
    if change == "deleted":
        return "asset"
    if suffix in CSS_SUFFIXES:
        return "css"
    if suffix in IMAGE_SUFFIXES:
        return "image"
    return "asset"


@dataclass(frozen=True)
class SiteView:
    """What the planner may ask about the site.

    ``pages_using(path)`` returns the page keys (see :func:`page_key`) that
    depend on ``path``, or None when that cannot be told; ``why_unplaced(path)``
    then says why, since such a change reloads every tab. ``is_listing(folder)``
    tells whether a folder URL is shown as a generated directory listing (it
    has no index.html). ``modules(path, change, timestamp)`` plans a change to
    a script the module graph knows (see :mod:`hotreload.moduleplan`), or
    returns None for any other file. ``inline(kind, path)`` gives the content
    of a changed stylesheet or image to send along with its update, or None
    when tabs should fetch it (see :mod:`hotreload.inline`).
    ``pages_shown_from(path)`` gives the pages whose tabs show the page at
    ``path`` under another address (the site's 404.html at a missing path).
    """

    pages_using: Callable[[str], frozenset[str] | None]
    is_listing: Callable[[str], bool]
    why_unplaced: Callable[[str], str] = lambda _path: "the pages that use it are not known"
    modules: Callable[[str, Change, int], ModuleOutcome | None] = lambda _path, _change, _timestamp: None
    inline: Callable[[UpdateKind, str], Inline | None] = lambda _kind, _path: None
    pages_shown_from: Callable[[str], frozenset[str]] = lambda _path: frozenset()


@dataclass(frozen=True)
class Outgoing:
    message: ServerMessage
    pages: frozenset[str | None] | None  # None: every tab


@dataclass(frozen=True)
class LogLine:
    kind: str  # css | image | js | page | asset | folder
    path: str
    action: str  # hot | morph | reload | ignored
    why: str = ""


@dataclass
class Plan:
    outgoing: list[Outgoing] = field(default_factory=list)
    log: list[LogLine] = field(default_factory=list)


def plan_updates(
    changes: Mapping[str | None, Change] | Mapping[str, Change],
    *,
    seq: int,
    timestamp: int,
    site: SiteView,
    tab_pages: frozenset[str | None] | None = None,
    outside: Mapping[str, Change] | None = None,
    reload_html: bool = False,
    navigate: bool = False,
) -> Plan:
    """Turn changed URL paths into messages, each addressed to the tabs it concerns.

    A changed page goes to the tabs showing it, to be morphed in place (or
    reloaded, with ``reload_html``); stylesheets and images go to the tabs of
    the pages that use them; other files reload those pages. A file no page
    uses reaches nobody, and one whose users cannot be told reloads every tab.
    ``outside`` holds changed files that are not part of the site (extra
    ``--watch`` paths such as templates): they reload every tab too.
    ``tab_pages`` lists the pages open tabs show (None for a tab that has not
    said yet): a tab whose page reloads gets only the Reload. With
    ``navigate``, when the changes add or edit exactly one page, the tabs on
    other pages are sent there first (see :func:`_navigation`).
    """
    plan = Plan()
    # Each hot update with the pages it goes to (None: every tab).
    hot: list[tuple[FileUpdate, frozenset[str] | None]] = []
    reloads: dict[str, list[str]] = {}  # page key -> reasons
    reload_all: list[str] = []
    destinations: list[tuple[str, str]] = []  # pages added or edited, and why: where --navigate-to-changed goes

    for path, change in sorted(changes.items()):
        if path is None:
            continue
        kind = classify(path, change)
        name = posixpath.basename(path) or path
        users = site.pages_using(path)
        scripted = site.modules(path, change, timestamp) if kind == "asset" else None
        if scripted is not None:
            hot.extend((update, scripted.update_pages) for update in scripted.updates)
            for page, why in scripted.reloads.items():
                reloads.setdefault(page, []).append(why)
            if scripted.reload_everywhere:
                reload_all.append(scripted.reload_everywhere)
            plan.log.append(scripted.log)
        elif kind == "page":
            key = page_key(path)
            keys = frozenset({key}) | site.pages_shown_from(path)
            if change != "deleted" and path != NOT_FOUND_PAGE:
                destinations.append((path, f"{name} {_PAGE_CHANGES[change]}"))
            if change == "modified" and not reload_html:
                reason = f"{name} changed"
                hot.append((FileUpdate("page", path, timestamp, reason=reason), keys))
                plan.log.append(LogLine("page", path, "morph", reason))
            else:
                reason = f"{name} {_PAGE_CHANGES[change]}"
                for shown in keys:
                    reloads.setdefault(shown, []).append(reason)
                plan.log.append(LogLine("page", path, "reload", reason))
            # Frames and scripts that load this page into others.
            for page in users or ():
                if page not in keys:
                    reloads.setdefault(page, []).append(f"{name} changed (embedded)")
        elif users is None and kind in ("css", "image"):
            # Every tab swaps it wherever it uses it, and ignores it otherwise.
            hot.append((_hot_update(kind, path, timestamp, site), None))
            plan.log.append(LogLine(kind, path, "hot", "every tab"))
        elif users is None:
            why = site.why_unplaced(path)
            reload_all.append(f"{name} changed and {why}")
            plan.log.append(LogLine(kind, path, "reload", f"every tab: {why}"))
        elif not users:
            plan.log.append(LogLine(kind, path, "ignored", "no page uses it"))
        elif kind in ("css", "image"):
            hot.append((_hot_update(kind, path, timestamp, site), users))
            plan.log.append(LogLine(kind, path, "hot", _pages_using(users)))
        else:
            for page in users:
                reloads.setdefault(page, []).append(f"{name} changed")
            plan.log.append(LogLine(kind, path, "reload", _pages_using(users)))
        if change in ("added", "deleted"):
            folder = posixpath.dirname(path.rstrip("/")) + "/"
            if folder != path and site.is_listing(folder):
                reloads.setdefault(page_key(folder), []).append(f"{folder} listing changed")

    for path, change in sorted((outside or {}).items()):
        reload_all.append(f"{posixpath.basename(path)} {change}")
        plan.log.append(LogLine("asset", path, "reload", "outside the site: every tab"))

    if reload_all:
        plan.outgoing.append(Outgoing(Reload(seq, "; ".join(reload_all)), None))
        return plan

    if navigate and tab_pages and len(destinations) == 1:
        plan.outgoing.extend(_navigation(*destinations[0], seq, tab_pages))
    for key, reasons in sorted(reloads.items()):
        if tab_pages is None or key in tab_pages:
            plan.outgoing.append(Outgoing(Reload(seq, "; ".join(dict.fromkeys(reasons))), frozenset({key})))
    plan.outgoing.extend(_address_hot_updates(seq, hot, reloads, tab_pages))
    return plan


def _navigation(path: str, reason: str, seq: int, tab_pages: frozenset[str | None]) -> list[Outgoing]:
    """Send the tabs on other pages to ``path``, the one page a batch added or edited, as Hugo's server does.

    Only for exactly one page: a build that rewrote many (a new title in every
    page's navigation) leaves each tab where it is; nor is the site's 404.html
    a destination. Coming first, the Navigate makes the tab ignore what
    follows for its old page.

    >>> [(o.message.path, sorted(o.pages)) for o in _navigation("/guide/index.html", "", 3, frozenset({"/", "/guide/"}))]
    [('/guide/', ['/'])]
    """
    target = page_key(path)
    away = frozenset(page for page in tab_pages if page is not None and page != target)
    if not away:
        return []
    shown = path[: -len("index.html")] if path.endswith("/index.html") else path
    return [Outgoing(Navigate(seq, shown, reason), away)]


def _hot_update(kind: UpdateKind, path: str, timestamp: int, site: SiteView) -> FileUpdate:
    inline = site.inline(kind, path)
    if inline is None:
        return FileUpdate(kind, path, timestamp)
    return FileUpdate(kind, path, timestamp, text=inline.text, data=inline.data, content_type=inline.content_type)


_PAGE_CHANGES = {"added": "was created", "deleted": "was deleted", "modified": "changed"}


def _pages_using(users: frozenset[str]) -> str:
    return f"{len(users)} page{'s' if len(users) != 1 else ''} use{'s' if len(users) == 1 else ''} it"


def _address_hot_updates(
    seq: int,
    hot: list[tuple[FileUpdate, frozenset[str] | None]],
    reloads: Mapping[str, list[str]],
    tab_pages: frozenset[str | None] | None,
) -> list[Outgoing]:
    """One Update per group of pages that get the same hot updates (tabs that reload get none)."""
    if not hot:
        return []
    if not reloads and all(targets is None for _, targets in hot):
        return [Outgoing(Update(seq, [update for update, _ in hot]), None)]
    outgoing: list[Outgoing] = []
    shown: frozenset[str | None]
    if tab_pages is None:
        # Which pages the tabs show is not known: updates for every tab go to
        # every tab, the others to the pages they name.
        broadcast = [update for update, targets in hot if targets is None]
        if broadcast:
            outgoing.append(Outgoing(Update(seq, broadcast), None))
        hot = [(update, targets) for update, targets in hot if targets is not None]
        shown = frozenset(page for _, targets in hot for page in targets or ())
    else:
        shown = tab_pages
    groups: dict[tuple[int, ...], set[str | None]] = {}
    for page in shown:
        if page in reloads:
            continue
        picked = tuple(i for i, (_, targets) in enumerate(hot) if targets is None or page in targets)
        if picked:
            groups.setdefault(picked, set()).add(page)
    for picked, pages in sorted(groups.items()):
        outgoing.append(Outgoing(Update(seq, [hot[i][0] for i in picked]), frozenset(pages)))
    return outgoing
