"""The scripts an HTML page runs: module entries, inline modules, import maps, classic scripts.

What the module graph needs from a page, read with the standard library's
HTML tokenizer (script contents are raw text to it, so markup inside a script
is never mistaken for a tag).

>>> scripts = page_scripts('<script type="importmap">{"imports": {}}</script>'
...                        '<script type=module src="/main.js"></script><script src="legacy.js"></script>')
>>> scripts.module_srcs, scripts.classic_srcs, len(scripts.import_maps)
(['/main.js'], ['legacy.js'], 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["PageScripts", "page_scripts", "script_kind"]

# The MIME types that make a <script> a classic script (HTML's "JavaScript MIME type essence match").
_JAVASCRIPT_TYPES = frozenset(
    {
        "application/ecmascript", "application/javascript", "application/x-ecmascript",
        "application/x-javascript", "text/ecmascript", "text/javascript", "text/javascript1.0",
        "text/javascript1.1", "text/javascript1.2", "text/javascript1.3", "text/javascript1.4",
        "text/javascript1.5", "text/jscript", "text/livescript", "text/x-ecmascript", "text/x-javascript",
    }
)  # fmt: skip


@dataclass
class PageScripts:
    """The scripts of one page, in document order, with URLs as written."""

    module_srcs: list[str] = field(default_factory=list)
    inline_modules: list[str] = field(default_factory=list)
    import_maps: list[str] = field(default_factory=list)
    classic_srcs: list[str] = field(default_factory=list)
    base_href: str | None = None


def script_kind(type_attribute: str | None) -> str | None:
    """How a browser treats a ``<script type=...>``: ``classic``, ``module``, ``importmap`` or None (data).

    >>> script_kind(None), script_kind("Module"), script_kind("text/JavaScript"), script_kind("text/x-template")
    ('classic', 'module', 'classic', None)
    """
    if type_attribute is None:
        return "classic"
    value = type_attribute.strip().lower()
    if value == "" or value in _JAVASCRIPT_TYPES:
        return "classic"
    if value in ("module", "importmap"):
        return value
    return None


class _ScriptCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = PageScripts()
        self._inline: str | None = None  # kind of the inline script being read
        self._text: list[str] = []
        self._template_depth = 0  # scripts inside <template> do not run

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "template":
            self._template_depth += 1
            return
        attributes = dict(attrs)
        if tag == "base" and self.found.base_href is None and attributes.get("href"):
            self.found.base_href = attributes["href"]
        if tag != "script" or self._template_depth:
            return
        kind = script_kind(attributes.get("type"))
        src = attributes.get("src")
        if kind == "classic" and "nomodule" in attributes:
            kind = None  # only browsers without module support run these
        if src is not None and src.strip():
            if kind == "module":
                self.found.module_srcs.append(src.strip())
            elif kind == "classic":
                self.found.classic_srcs.append(src.strip())
            return
        if kind in ("module", "importmap"):
            self._inline = kind
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._inline is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "template" and self._template_depth:
            self._template_depth -= 1
        if tag == "script" and self._inline is not None:
            text = "".join(self._text)
            (self.found.inline_modules if self._inline == "module" else self.found.import_maps).append(text)
            self._inline = None


def page_scripts(html_text: str) -> PageScripts:
    """Collect the scripts of an HTML document (decoded text).

    >>> page_scripts('<script type="module">import "./app.js";</script>').inline_modules
    ['import "./app.js";']
    """
    collector = _ScriptCollector()
    collector.feed(html_text)
    collector.close()
    return collector.found
