"""What a warm MkDocs process can remember from one full build to the next.

A full MkDocs build spends most of its time converting every page's Markdown
and compiling the theme's Jinja templates, although after a one-page edit all
but one page convert exactly as before. :class:`WarmBuildCache` is a MkDocs
plugin, added to each build's configuration, that keeps both:

- the compiled templates, through Jinja's own bytecode cache (a template whose
  source changed is compiled again: Jinja checks a checksum);
- each page's converted Markdown, reused only when the page's final Markdown
  (after every other plugin's ``on_page_markdown``), the site's file list and
  the Markdown settings are all unchanged, and only with Markdown extensions
  known not to read other files (``pymdownx.snippets`` does, for example);
- the built-in search plugin's entries for a page, reused when the page's URL,
  title and converted HTML are unchanged (making them means parsing the HTML).

Every page is still rendered with the theme and every page is in the search
index, so navigation, titles and search stay as correct as in a build from
scratch.

Example::

    cache = WarmBuildCache()
    for _ in range(2):
        config = load_config("mkdocs.yml")
        config.plugins["hotreload-warm-cache"] = cache
        build(config)
    cache.reused_pages   # 30 on the second build of a 30-page site
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import MethodType
from typing import Any

import jinja2
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.pages import Page

__all__ = ["PLUGIN_NAME", "WarmBuildCache"]

PLUGIN_NAME = "hotreload-warm-cache"

# Markdown extensions that only look at the text they are given. A page using
# any other extension is converted on every build.
_SELF_CONTAINED_EXTENSIONS = frozenset(
    {
        "abbr", "admonition", "attr_list", "codehilite", "def_list", "extra", "fenced_code", "footnotes",
        "legacy_attrs", "legacy_em", "md_in_html", "meta", "nl2br", "sane_lists", "smarty", "tables", "toc",
        "wikilinks",
    }
)
_SELF_CONTAINED_PACKAGES = ("markdown.extensions.", "pymdownx.")
_READS_OTHER_FILES = frozenset({"pymdownx.snippets"})

# What Page.render() leaves on a page (MkDocs 1.5 and later).
_RENDERED_FIELDS = ("content", "toc", "_title_from_render", "present_anchor_ids")


def _self_contained(extension: object) -> bool:
    if not isinstance(extension, str):
        return False  # an extension object: nothing to go by
    if extension in _READS_OTHER_FILES:
        return False
    return extension in _SELF_CONTAINED_EXTENSIONS or extension.startswith(_SELF_CONTAINED_PACKAGES)


class _MemoryBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept in memory, keyed by Jinja (name and source checksum)."""

    def __init__(self) -> None:
        self._compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        compiled = self._compiled.get(bucket.key)
        if compiled is not None:
            bucket.bytecode_from_string(compiled)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()


@dataclass
class _RenderedPage:
    fields: dict[str, Any]
    # Links to anchors in other pages, by the linked page's source path.
    links_to_anchors: dict[str, dict[str, str]] | None
    logged: list[tuple[str, int, str]]


class _LogRecorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))


@contextmanager
def _recording(logger_name: str) -> Iterator[_LogRecorder]:
    recorder = _LogRecorder()
    logger = logging.getLogger(logger_name)
    logger.addHandler(recorder)
    try:
        yield recorder
    finally:
        logger.removeHandler(recorder)


class WarmBuildCache(BasePlugin):  # type: ignore[type-arg]
    """A MkDocs plugin that carries compiled templates and converted pages
    from one build to the next in the same process."""

    # MkDocs versions before 1.5 lack the fields this relies on: no page reuse there.
    supported = hasattr(Page, "present_anchor_ids")

    def __init__(self) -> None:
        super().__init__()
        self._bytecode = _MemoryBytecodeCache()
        self._previous: dict[tuple[str, str], _RenderedPage] = {}
        self._current: dict[tuple[str, str], _RenderedPage] = {}
        self._context = ""
        self._reusable = False
        self._search_previous: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        self._search_current: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        self.reused_pages = 0  # in the latest build
        self.converted_pages = 0  # in the latest build

    # -- MkDocs events -----------------------------------------------------

    @event_priority(-10_000)  # after the search plugin made this build's index
    def on_pre_build(self, *, config: Any) -> None:
        self.reused_pages = 0
        self.converted_pages = 0
        self._current = {}
        self._search_current = {}
        self._reuse_search_entries(config)

    @event_priority(-10_000)  # after every other plugin: the site's final file list
    def on_nav(self, nav: Any, *, config: Any, files: Any) -> Any:
        context = self._fingerprint(config, files)
        self._reusable = self.supported and context is not None
        if context != self._context:
            self._previous = {}
            self._context = context or ""
        return nav

    def on_env(self, env: jinja2.Environment, *, config: Any, files: Any) -> jinja2.Environment:
        env.bytecode_cache = self._bytecode
        return env

    @event_priority(-10_000)  # after every other plugin: the page's final Markdown
    def on_page_markdown(self, markdown: str, *, page: Any, config: Any, files: Any) -> str:
        if not self._reusable:
            return markdown
        key = (page.file.src_uri, hashlib.blake2b(markdown.encode("utf-8", "surrogatepass")).hexdigest())
        earlier = self._previous.get(key)
        convert = page.render

        def render(page: Any, config: Any, files: Any) -> None:
            if earlier is not None and self._restore(page, earlier, files):
                self._current[key] = earlier
                self.reused_pages += 1
                return
            with _recording("mkdocs") as recorder:
                convert(config, files)
            self._current[key] = self._remember(page, recorder.records)
            self.converted_pages += 1

        # Only this build's page object is changed; the class is left alone.
        page.render = MethodType(render, page)
        return markdown

    def on_post_build(self, *, config: Any) -> None:
        # Keep only this build's pages: the cache never outgrows the site.
        self._previous = self._current
        self._current = {}
        self._search_previous = self._search_current
        self._search_current = {}

    def on_build_error(self, *, error: Exception) -> None:
        self._previous = {}
        self._current = {}
        self._search_previous = {}
        self._search_current = {}

    # -- helpers -----------------------------------------------------------

    def _reuse_search_entries(self, config: Any) -> None:
        """Wrap this build's index of MkDocs' own search plugin so that a page
        whose HTML did not change gets its entries from the previous build."""
        plugin = config.plugins.get("search")
        index = getattr(plugin, "search_index", None)
        if type(plugin).__module__ != "mkdocs.contrib.search" or not isinstance(getattr(index, "_entries", None), list):
            return  # another search plugin, or a MkDocs that stores entries differently
        make_entries = index.add_entry_from_context
        settings = repr(sorted(index.config.items()))

        def add_entry_from_context(page: Any) -> None:
            content = page.content or ""
            digest = hashlib.blake2b(content.encode("utf-8", "surrogatepass")).hexdigest()
            key = (page.url, repr(page.title), digest, settings)
            earlier = self._search_previous.get(key)
            if earlier is not None:
                index._entries.extend(dict(entry) for entry in earlier)
                self._search_current[key] = earlier
                return
            first = len(index._entries)
            make_entries(page)
            self._search_current[key] = [dict(entry) for entry in index._entries[first:]]

        # Only this build's index object is changed; the class is left alone.
        index.add_entry_from_context = add_entry_from_context

    @staticmethod
    def _fingerprint(config: Any, files: Any) -> str | None:
        """What converting any page depends on besides its own text, or None if unknowable."""
        extensions = list(config.markdown_extensions or [])
        if not all(_self_contained(extension) for extension in extensions):
            return None
        listing = sorted(
            (file.src_uri, file.dest_uri, file.url, str(file.inclusion)) for file in files
        )
        parts = [
            repr(extensions),
            repr(sorted((config.mdx_configs or {}).items(), key=lambda item: str(item[0]))),
            repr(config.use_directory_urls),
            repr(config.validation),
            repr(listing),
        ]
        return hashlib.blake2b("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()

    @staticmethod
    def _remember(page: Any, logged: list[tuple[str, int, str]]) -> _RenderedPage:
        fields = {name: getattr(page, name, None) for name in _RENDERED_FIELDS}
        links = getattr(page, "links_to_anchors", None)
        by_source = None if links is None else {target.src_uri: dict(anchors) for target, anchors in links.items()}
        return _RenderedPage(fields, by_source, list(logged))

    @staticmethod
    def _restore(page: Any, rendered: _RenderedPage, files: Any) -> bool:
        links = None
        if rendered.links_to_anchors is not None:
            links = {}
            for source, anchors in rendered.links_to_anchors.items():
                target = files.get_file_from_path(source)
                if target is None:
                    return False
                links[target] = dict(anchors)
        for name, value in rendered.fields.items():
            setattr(page, name, value)
        if links is not None:
            page.links_to_anchors = links
        # Warnings about this page (a broken link...) still count, e.g. in strict mode.
        for logger_name, level, message in rendered.logged:
            logging.getLogger(logger_name).log(level, message)
        return True
