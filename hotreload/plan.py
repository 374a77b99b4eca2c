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
from typing import Callable, Literal, Mapping

from .protocol import FileUpdate, Reload, ServerMessage, Update, UpdateKind

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


def page_key(url_path: str) -> str:
    """The key a page is known by: folders are their ``index.html``.

    >>> page_key("/docs/"), page_key("/docs/index.html"), page_key("/")
    ('/docs/index.html', '/docs/index.html', '/index.html')
    """
    return url_path + "index.html" if url_path.endswith("/") else url_path


@dataclass(frozen=True)
class SiteView:
    """What the planner may ask about the site.

    ``pages_using(path)`` returns the page keys that depend on ``path``, or None
    when that is not known (then every tab decides for itself whether it uses
    the file). ``is_listing(folder)`` tells whether a folder URL is shown as a
    generated directory listing (it has no index.html).
    """

    pages_using: Callable[[str], frozenset[str] | None]
    is_listing: Callable[[str], bool]


@dataclass(frozen=True)
class Outgoing:
    message: ServerMessage
    pages: frozenset[str | None] | None  # None: every tab


@dataclass(frozen=True)
class LogLine:
    kind: str  # css | image | js | page | asset | folder
    path: str
    action: str  # hot | reload | ignored
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
) -> Plan:
    """Turn changed URL paths into messages.

    ``outside`` holds changed files that are not part of the site (extra
    ``--watch`` paths such as templates): they reload every tab.
    ``tab_pages`` lists the pages open tabs show; pages that must reload get a
    Reload, every other tab the hot updates.
    """
    plan = Plan()
    hot: list[FileUpdate] = []
    reloads: dict[str, list[str]] = {}  # page key -> reasons
    reload_all: list[str] = []

    for path, change in sorted(changes.items()):
        if path is None:
            continue
        kind = classify(path, change)
        name = posixpath.basename(path) or path
        if kind == "page":
            key = page_key(path)
            reason = f"{name} {'was deleted' if change == 'deleted' else 'changed'}"
            reloads.setdefault(key, []).append(reason)
            for page in site.pages_using(path) or ():
                if page != key:
                    reloads.setdefault(page, []).append(f"{name} changed (embedded)")
            plan.log.append(LogLine("page", path, "reload", reason))
        else:
            users = site.pages_using(path)
            if kind in ("css", "image"):
                hot.append(FileUpdate(kind, path, timestamp))
                plan.log.append(LogLine(kind, path, "hot"))
            elif users is None:
                hot.append(FileUpdate("asset", path, timestamp, reason=f"{name} changed"))
                plan.log.append(LogLine("asset", path, "reload", "tabs that use it"))
            elif users:
                for page in users:
                    reloads.setdefault(page, []).append(f"{name} changed")
                plan.log.append(LogLine("asset", path, "reload", f"{len(users)} page(s) use it"))
            else:
                plan.log.append(LogLine("asset", path, "ignored", "no page uses it"))
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

    for key, reasons in sorted(reloads.items()):
        if tab_pages is None or key in tab_pages:
            plan.outgoing.append(Outgoing(Reload(seq, "; ".join(dict.fromkeys(reasons))), frozenset({key})))
    if hot:
        rest: frozenset[str | None] | None
        if not reloads:
            rest = None
        else:
            shown = tab_pages if tab_pages is not None else frozenset()
            rest = frozenset(p for p in shown if p not in reloads)
        if rest is None or rest:
            plan.outgoing.append(Outgoing(Update(seq, hot), rest))
    return plan
