"""The page graph: which served HTML pages depend on which files.

The server hands over what it serves (HTML pages, stylesheets, and the
``Referer`` of other requests); the graph answers, for a changed file, which
pages a browser tab must update. It reads no files itself.

Every node is a *canonical URL path* (see :func:`canonical_path`): query and
fragment dropped, percent-escapes decoded, dot segments removed, and a final
``index.html`` folded into its directory, so ``/docs/`` and
``/docs/index.html`` are one page.

Edges come from three sources:

* a page's HTML (``<link>``, ``<script src>``, images, media, frames, inline
  ``<style>`` and ``style=""``, and the imports of inline module scripts);
* a stylesheet's CSS (``@import`` and every ``url()``);
* run-time requests reported through :meth:`PageGraph.record_fetch`.

:meth:`PageGraph.place` walks the edges backwards, so dependencies are
transitive: a font used by a sheet imported by a sheet linked from a page
places that page, and a page embedding ``/frame.html`` depends on everything
``/frame.html`` depends on.

Reference kinds reported by :meth:`PageGraph.references`: ``stylesheet``,
``icon``, ``manifest``, ``preload``, ``modulepreload``, ``script`` (classic),
``module``, ``image``, ``media``, ``frame``, ``import`` (CSS ``@import``),
``url`` (CSS ``url()``) and ``fetch``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urljoin, urlsplit

import tinycss2

if TYPE_CHECKING:
    from tree_sitter import Parser, Query

__all__ = ["Declaration", "Placement", "PageGraph", "canonical_path", "page_key", "parse_srcset", "url_spelling"]


@dataclass(frozen=True)
class Placement:
    """Where a changed file lands.

    ``certain=False`` means the graph cannot tell which pages use the file;
    the caller then reloads every tab and shows ``reason``.
    """

    pages: frozenset[str]
    certain: bool
    reason: str


@dataclass(frozen=True)
class Declaration:
    """What one page or stylesheet references, read off its text.

    ``source`` is its canonical path; ``page`` the spelling a page was served
    under (None for a stylesheet); ``references`` maps each referenced
    canonical path to how it is referenced.
    """

    source: str
    page: str | None
    references: Mapping[str, frozenset[str]]


# Stands for the site's own origin while resolving references; ``.invalid``
# can never be a real host, so nothing on the page can collide with it.
_SITE_ORIGIN = "http://site.invalid"

# A script may request endlessly many distinct paths (say, a poller with an id
# in each path); past this many per referrer the oldest are dropped, so memory
# stays bounded.
MAX_FETCHES_PER_REFERRER = 1024

# File kinds that pages reference from markup or CSS. A file of such a kind
# that nothing references is used by no open tab; anything else might be
# loaded by a script the graph never saw, so it cannot be placed.
_STATICALLY_REFERENCED = frozenset(
    {
        "html", "htm", "xhtml",
        "css",
        "js", "mjs", "cjs", "jsx", "ts", "tsx", "mts",
        "png", "jpg", "jpeg", "jfif", "pjpeg", "pjp", "gif", "webp", "avif", "apng",
        "svg", "ico", "cur", "bmp", "jxl", "tif", "tiff",
        "woff", "woff2", "ttf", "otf", "eot",
        "mp4", "webm", "ogg", "ogv", "oga", "opus", "mp3", "wav", "flac", "aac",
        "m4a", "m4v", "mov", "vtt",
        "webmanifest",
    }
)  # fmt: skip


def canonical_path(path: str) -> str:
    """Return the one spelling the graph uses for a URL path.

    Drops query and fragment, decodes percent-escapes, adds a leading ``/``,
    removes ``.`` and ``..`` segments, and folds a last segment
    ``index.html`` into its directory, because the server answers ``dir/``
    with ``dir/index.html``.

    >>> canonical_path("/docs/index.html?v=2")
    '/docs/'
    >>> canonical_path("img/../my%20pic.png")
    '/my pic.png'
    """
    path = path.split("#", 1)[0].split("?", 1)[0]
    path = unquote(path)
    if not path.startswith("/"):
        path = "/" + path
    if "/." in path:
        path = _remove_dot_segments(path)
    if path.endswith("/index.html"):
        path = path[: -len("index.html")]
    return path


def page_key(url_path: str) -> str:
    """The one key a page goes by for tabs, plans and the graph, from a decoded URL path.

    A folder and its ``index.html`` are one page; characters that a URL would
    escape are kept as they are.

    >>> page_key("/docs/index.html"), page_key("/docs/"), page_key("/100%25 real.html")
    ('/docs/', '/docs/', '/100%25 real.html')
    """
    return canonical_path(url_spelling(url_path))


def url_spelling(url_path: str) -> str:
    """A decoded URL path escaped as in a URL, which is what the graph's methods take.

    >>> url_spelling("/my pic.png")
    '/my%20pic.png'
    """
    return quote(url_path, safe="/")


def _remove_dot_segments(path: str) -> str:
    segments = path.split("/")[1:]
    kept: list[str] = []
    for position, segment in enumerate(segments):
        is_last = position == len(segments) - 1
        if segment in (".", ".."):
            if segment == ".." and kept:
                kept.pop()
            if is_last:
                kept.append("")  # "/a/b/.." names the directory "/a/"
        else:
            kept.append(segment)
    return "/" + "/".join(kept)


def _extension(path: str) -> str:
    last_segment = path.rsplit("/", 1)[-1]
    if path.endswith("/"):
        return "html"  # a directory URL is answered with its index page
    if "." not in last_segment:
        return ""
    return last_segment.rsplit(".", 1)[-1].lower()


# --- resolving references ---------------------------------------------------------------------

_HTML_WHITESPACE = " \t\n\r\f"


class _Resolver:
    """Turns a reference written in a page or sheet into a canonical site path, or None."""

    def __init__(self, origins: Iterable[str]) -> None:
        self._site_origins = {_SITE_ORIGIN} | {o.rstrip("/").lower() for o in origins}

    def url_of(self, path: str) -> str:
        """The absolute URL of a site path, as the resolution base for what it references."""
        path = path.split("#", 1)[0].split("?", 1)[0]
        return _SITE_ORIGIN + (path if path.startswith("/") else "/" + path)

    def absolute(self, reference: str, base_url: str) -> str | None:
        """Resolve against ``base_url``; None unless the result is an http(s) URL."""
        reference = reference.strip(_HTML_WHITESPACE)
        if not reference:
            return None
        # Browsers read "\" as "/" in http(s) URLs; urljoin does not.
        reference = reference.replace("\\", "/")
        try:
            joined = urljoin(base_url, reference)
            scheme = urlsplit(joined).scheme
        except ValueError:  # e.g. a malformed IPv6 host
            return None
        return joined if scheme in ("http", "https") else None

    def site_path(self, reference: str, base_url: str) -> str | None:
        """The canonical path ``reference`` names on this site, or None if it is elsewhere."""
        if reference.strip(_HTML_WHITESPACE).startswith("#"):
            return None  # same-document reference, e.g. url(#gradient) or <use href="#icon">
        joined = self.absolute(reference, base_url)
        if joined is None:
            return None
        parts = urlsplit(joined)
        if f"{parts.scheme}://{parts.netloc}".lower() not in self._site_origins:
            return None
        return canonical_path(parts.path or "/")


# --- references in CSS ------------------------------------------------------------------------

_URL_FUNCTIONS = frozenset({"url", "src"})
_IMAGE_SET_FUNCTIONS = frozenset({"image-set", "-webkit-image-set"})
_BLOCK_TYPES = frozenset({"() block", "[] block", "{} block"})

# A tinycss2 rule or component value; tinycss2 ships without type hints.
CssNode = Any


def _urls_in_tokens(tokens: Iterable[CssNode]) -> Iterator[str]:
    """Every URL in a list of component values, at any nesting depth (in document order)."""
    pending = list(tokens)
    pending.reverse()
    # An explicit stack rather than recursion: deeply nested input must not blow the call stack.
    while pending:
        token = pending.pop()
        kind = getattr(token, "type", None)
        if kind == "url":
            yield token.value
        elif kind == "function":
            name = token.lower_name
            arguments = list(token.arguments)
            if name in _URL_FUNCTIONS or name in _IMAGE_SET_FUNCTIONS:
                # url("a.png") and image-set("a.png" 1x) take plain strings as URLs.
                for argument in arguments:
                    if argument.type == "string":
                        yield argument.value
                        if name in _URL_FUNCTIONS:
                            break
            pending.extend(reversed([a for a in arguments if a.type != "string"]))
        elif kind in _BLOCK_TYPES:
            pending.extend(reversed(token.content))


def _import_target(prelude: list[CssNode]) -> str | None:
    for token in prelude:
        kind = getattr(token, "type", None)
        if kind in ("whitespace", "comment"):
            continue
        if kind in ("string", "url"):
            return str(token.value)
        if kind == "function" and token.lower_name in _URL_FUNCTIONS:
            return next(_urls_in_tokens([token]), None)
        return None
    return None


def _stylesheet_references(rules: Iterable[CssNode]) -> Iterator[tuple[str, str]]:
    """(reference, kind) for each @import and url() of a parsed stylesheet."""
    for rule in rules:
        kind = getattr(rule, "type", None)
        if kind == "at-rule":
            keyword = rule.lower_at_keyword
            if keyword == "import":
                target = _import_target(rule.prelude)
                if target is not None:
                    yield target, "import"
                continue
            if keyword == "namespace":
                continue  # a namespace URL names a vocabulary, not a file to load
        elif kind != "qualified-rule":
            continue
        for url in _urls_in_tokens(rule.prelude):
            yield url, "url"
        for url in _urls_in_tokens(rule.content or ()):
            yield url, "url"


def _css_text_references(css: str) -> Iterator[tuple[str, str]]:
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    return _stylesheet_references(rules)


def _css_value_references(value: str) -> Iterator[tuple[str, str]]:
    tokens = tinycss2.parse_component_value_list(value, skip_comments=True)
    return ((url, "url") for url in _urls_in_tokens(tokens))


# --- references in inline scripts -------------------------------------------------------------

_IMPORT_QUERY = """
(import_statement source: (string) @specifier)
(export_statement source: (string) @specifier)
(call_expression function: (import) arguments: (arguments . [(string) (template_string)] @specifier))
"""


@functools.cache
def _javascript_import_finder() -> tuple[Parser, Query]:
    # Imported lazily: only pages with inline scripts need a JavaScript parser.
    import tree_sitter_javascript
    from tree_sitter import Language, Parser, Query

    language = Language(tree_sitter_javascript.language())
    return Parser(language), Query(language, _IMPORT_QUERY)


def _inline_script_imports(source: str) -> list[str]:
    """Literal module specifiers an inline script imports, statically or with import("...")."""
    from tree_sitter import QueryCursor

    parser, query = _javascript_import_finder()
    tree = parser.parse(source.encode("utf-8", "replace"))
    captures = QueryCursor(query).captures(tree.root_node)
    specifiers: list[str] = []
    for node in sorted(captures.get("specifier", ()), key=lambda n: n.start_byte):
        parts = [child for child in node.children if child.type not in ('"', "'", "`")]
        # Escapes and ${...} substitutions make the specifier something we cannot read off.
        if all(child.type == "string_fragment" for child in parts):
            specifiers.append("".join((child.text or b"").decode("utf-8", "replace") for child in parts))
    return specifiers


# --- references in HTML -----------------------------------------------------------------------


def parse_srcset(srcset: str) -> list[str]:
    """The URLs of a ``srcset`` attribute, following the HTML candidate-list grammar.

    A URL runs to the next whitespace, so commas inside it are kept; a comma
    right after it (no descriptors) or after its descriptors ends the candidate.

    >>> parse_srcset("a.png 1x, image,2.png 2x,c.png")
    ['a.png', 'image,2.png', 'c.png']
    """
    urls: list[str] = []
    position, length = 0, len(srcset)
    while position < length:
        while position < length and (srcset[position] in _HTML_WHITESPACE or srcset[position] == ","):
            position += 1
        start = position
        while position < length and srcset[position] not in _HTML_WHITESPACE:
            position += 1
        url = srcset[start:position]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            in_parentheses = False
            while position < length:
                character = srcset[position]
                position += 1
                if character == "(":
                    in_parentheses = True
                elif character == ")":
                    in_parentheses = False
                elif character == "," and not in_parentheses:
                    break
        if url:
            urls.append(url)
    return urls


# https://mimesniff.spec.whatwg.org/#javascript-mime-type
_JAVASCRIPT_MIME_TYPES = frozenset(
    {
        "", "application/ecmascript", "application/javascript", "application/x-ecmascript",
        "application/x-javascript", "text/ecmascript", "text/javascript", "text/javascript1.0",
        "text/javascript1.1", "text/javascript1.2", "text/javascript1.3", "text/javascript1.4",
        "text/javascript1.5", "text/jscript", "text/livescript", "text/x-ecmascript",
        "text/x-javascript",
    }
)  # fmt: skip

_LINK_KINDS = {
    "stylesheet": "stylesheet",
    "icon": "icon",
    "apple-touch-icon": "icon",
    "apple-touch-icon-precomposed": "icon",
    "mask-icon": "icon",
    "manifest": "manifest",
    "preload": "preload",
    "modulepreload": "modulepreload",
}

# Element → (attribute, kind) pairs whose value is a single URL.
_URL_ATTRIBUTES: dict[str, tuple[tuple[str, str], ...]] = {
    "img": (("src", "image"),),
    "video": (("src", "media"), ("poster", "image")),
    "audio": (("src", "media"),),
    "source": (("src", "media"),),
    "track": (("src", "media"),),
    "iframe": (("src", "frame"),),
    "frame": (("src", "frame"),),
    "embed": (("src", "frame"),),
    "object": (("data", "frame"),),
    "image": (("href", "image"), ("xlink:href", "image")),
    "use": (("href", "image"), ("xlink:href", "image")),
    "feimage": (("href", "image"), ("xlink:href", "image")),
    "body": (("background", "image"),),
    "table": (("background", "image"),),
    "td": (("background", "image"),),
    "th": (("background", "image"),),
}

# SVG presentation attributes that may hold url(): usually "#id", sometimes another file.
_CSS_VALUE_ATTRIBUTES = frozenset(
    {"style", "fill", "stroke", "filter", "mask", "clip-path", "marker-start", "marker-mid", "marker-end"}
)

_MAX_SRCDOC_DEPTH = 3


def _script_kind(type_attribute: str | None) -> str | None:
    """'script' (classic), 'module', or None for data blocks the browser does not run."""
    essence = (type_attribute or "").split(";", 1)[0].strip(_HTML_WHITESPACE).lower()
    if essence == "module":
        return "module"
    return "script" if essence in _JAVASCRIPT_MIME_TYPES else None


class _ReferenceCollector(HTMLParser):
    """Collects (reference, kind) pairs of one HTML document, unresolved, plus its first <base href>."""

    def __init__(self, depth: int = 0) -> None:
        super().__init__(convert_charrefs=True)
        self.references: list[tuple[str, str]] = []
        self.base_href: str | None = None
        self._depth = depth
        self._raw_text_element: str | None = None  # "style" or "script" being captured
        self._raw_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value for name, value in reversed(attrs) if value is not None}
        add = self.references.append

        if tag == "base":
            if self.base_href is None and "href" in attributes:
                self.base_href = attributes["href"]
        elif tag == "link":
            rels = attributes.get("rel", "").lower().split()
            for rel in rels:
                kind = _LINK_KINDS.get(rel)
                if kind is not None and "href" in attributes:
                    add((attributes["href"], kind))
            if "preload" in rels and "imagesrcset" in attributes:
                self.references.extend((url, "image") for url in parse_srcset(attributes["imagesrcset"]))
        elif tag == "script":
            kind = _script_kind(attributes.get("type"))
            if kind is not None:
                if "src" in attributes:
                    add((attributes["src"], kind))
                else:
                    self._start_raw_text("script")
        elif tag == "style":
            self._start_raw_text("style")
        elif tag == "input":
            if attributes.get("type", "").strip(_HTML_WHITESPACE).lower() == "image" and "src" in attributes:
                add((attributes["src"], "image"))
        elif tag == "iframe" and "srcdoc" in attributes and self._depth < _MAX_SRCDOC_DEPTH:
            # A srcdoc document resolves its URLs against this document's base.
            nested = _ReferenceCollector(self._depth + 1)
            nested.feed(attributes["srcdoc"])
            nested.close()
            self.references.extend(nested.references)

        for attribute, kind in _URL_ATTRIBUTES.get(tag, ()):
            if attribute in attributes:
                add((attributes[attribute], kind))
        if tag in ("img", "source") and "srcset" in attributes:
            self.references.extend((url, "image") for url in parse_srcset(attributes["srcset"]))
        for attribute in _CSS_VALUE_ATTRIBUTES.intersection(attributes):
            self.references.extend(_css_value_references(attributes[attribute]))

    def handle_data(self, data: str) -> None:
        if self._raw_text_element is not None:
            self._raw_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == self._raw_text_element:
            self._finish_raw_text()

    def close(self) -> None:
        super().close()
        if self._raw_text_element is not None:
            # html.parser keeps the text of an unclosed <style> or <script> unconsumed at the
            # end of input, where a browser would still apply or run it.
            self._raw_text.append(self.rawdata)
            self.rawdata = ""
        self._finish_raw_text()

    def _start_raw_text(self, element: str) -> None:
        self._finish_raw_text()
        self._raw_text_element = element
        self._raw_text = []

    def _finish_raw_text(self) -> None:
        element, text = self._raw_text_element, "".join(self._raw_text)
        self._raw_text_element, self._raw_text = None, []
        if element == "style":
            self.references.extend(_css_text_references(text))
        elif element == "script" and text.strip():
            self.references.extend(
                (specifier, "module") for specifier in _inline_script_imports(text) if _names_a_url(specifier)
            )


def _names_a_url(specifier: str) -> bool:
    """Whether a module specifier is a URL; bare names ("lodash") go through an import map."""
    if specifier.startswith(("/", "./", "../")):
        return True
    try:
        return bool(urlsplit(specifier).scheme)
    except ValueError:
        return False


# --- the graph --------------------------------------------------------------------------------

Kinds = frozenset[str]


class PageGraph:
    """For each served page, the files it depends on, directly or transitively.

    ``origins`` lists absolute origins that mean this site (for example
    ``"http://127.0.0.1:8000"``), so that absolute links to the site itself
    count; every other origin is ignored.

    >>> graph = PageGraph()
    >>> graph.record_html("/docs/", b'<link rel="stylesheet" href="site.css">')
    >>> graph.record_css("/docs/site.css", b'@font-face { src: url(fonts/a.woff2) }')
    >>> graph.place("/docs/fonts/a.woff2")
    Placement(pages=frozenset({'/docs/'}), certain=True, reason='used by 1 page')
    """

    def __init__(self, origins: Iterable[str] = ()) -> None:
        self._resolver = _Resolver(origins)
        # canonical page path → the spelling the server used when recording it
        self._page_names: dict[str, str] = {}
        # page or sheet → what its own text references; replaced whenever it is recorded again
        self._declared: dict[str, dict[str, Kinds]] = {}
        # referrer → paths requested on its behalf, oldest first
        self._fetched: dict[str, dict[str, None]] = {}
        # path → the nodes referencing it, counting the records (declared, fetched) behind each edge
        self._referrers: dict[str, dict[str, int]] = {}

    def record_html(self, page: str, html: bytes, encoding: str = "utf-8") -> None:
        """Record what the HTML served at URL path ``page`` references, replacing any earlier record.

        >>> graph = PageGraph()
        >>> graph.record_html("/blog/post.html", b'<img srcset="a.png 1x, b.png 2x">')
        >>> sorted(graph.references("/blog/post.html"))
        ['/blog/a.png', '/blog/b.png']
        """
        self.record(self.read_html(page, html, encoding))

    def record_css(self, sheet: str, css: bytes) -> None:
        """Record the ``@import``s and ``url()``s of the stylesheet served at ``sheet``.

        References resolve against the sheet's own URL; ``@charset`` and a BOM are honoured.

        >>> graph = PageGraph()
        >>> graph.record_css("/css/main.css", b'@import "../base.css"; a { background: url(i.png) }')
        >>> sorted(graph.references("/css/main.css"))
        ['/base.css', '/css/i.png']
        """
        self.record(self.read_css(sheet, css))

    def read_html(self, page: str, html: bytes, encoding: str = "utf-8") -> Declaration:
        """What the HTML served at ``page`` references, without recording it.

        Reading leaves the graph untouched, so it may run on another thread
        while the graph is in use; :meth:`record` applies the result.

        >>> graph = PageGraph()
        >>> declaration = graph.read_html("/a.html", b'<link rel="stylesheet" href="a.css">')
        >>> graph.place("/a.css").pages, dict(declaration.references)
        (frozenset(), {'/a.css': frozenset({'stylesheet'})})
        """
        try:
            text = html.decode(encoding, "replace")
        except LookupError:
            text = html.decode("utf-8", "replace")
        collector = _ReferenceCollector()
        collector.feed(text)
        collector.close()

        page_url = self._resolver.url_of(page)
        base_url = page_url
        if collector.base_href is not None:
            base_url = self._resolver.absolute(collector.base_href, page_url) or page_url
        key = canonical_path(page)
        return Declaration(key, page, self._resolve_all(collector.references, base_url, key))

    def read_css(self, sheet: str, css: bytes) -> Declaration:
        """What the stylesheet served at ``sheet`` references, without recording it (see :meth:`read_html`).

        >>> PageGraph().read_css("/a.css", b"@import 'b.css';").references
        {'/b.css': frozenset({'import'})}
        """
        rules, _encoding = tinycss2.parse_stylesheet_bytes(css, skip_comments=True, skip_whitespace=True)
        key = canonical_path(sheet)
        references = _stylesheet_references(rules)
        return Declaration(key, None, self._resolve_all(references, self._resolver.url_of(sheet), key))

    def record(self, declaration: Declaration) -> None:
        """Apply what :meth:`read_html` or :meth:`read_css` read, replacing the source's earlier record.

        >>> graph = PageGraph()
        >>> graph.record(graph.read_html("/", b'<img src="a.png">'))
        >>> graph.place("/a.png").pages
        frozenset({'/'})
        """
        if declaration.page is not None:
            self._page_names[declaration.source] = declaration.page
        self._declare(declaration.source, dict(declaration.references))

    def record_fetch(self, path: str, referrer: str) -> None:
        """Record that ``path`` was requested on behalf of ``referrer`` (a page, sheet or script).

        This is how files that scripts load at run time (JSON, WebAssembly,
        ...) become placeable. It survives re-recording the referrer's HTML,
        since the HTML does not mention it; :meth:`forget_page` drops it.

        >>> graph = PageGraph()
        >>> graph.record_fetch("/data/items.json", "/")
        >>> graph.place("/data/items.json").pages
        frozenset()
        >>> graph.record_html("/", b"")
        >>> graph.place("/data/items.json").pages
        frozenset({'/'})
        """
        source, target = canonical_path(referrer), canonical_path(path)
        if source == target:
            return
        fetched = self._fetched.setdefault(source, {})
        if target in fetched:
            del fetched[target]  # re-insert below: most recently seen goes last
            fetched[target] = None
            return
        fetched[target] = None
        self._link(source, target)
        if len(fetched) > MAX_FETCHES_PER_REFERRER:
            oldest = next(iter(fetched))
            del fetched[oldest]
            self._unlink(source, oldest)

    def forget_page(self, page: str) -> None:
        """Drop a page (either spelling) and everything recorded on its behalf.

        >>> graph = PageGraph()
        >>> graph.record_html("/a.html", b'<img src="x.png">')
        >>> graph.forget_page("/a.html")
        >>> graph.pages(), graph.place("/x.png").pages
        (set(), frozenset())
        """
        key = canonical_path(page)
        self._page_names.pop(key, None)
        self._declare(key, {})
        for target in self._fetched.pop(key, {}):
            self._unlink(key, target)

    def place(self, path: str) -> Placement:
        """The recorded pages that depend on ``path``, directly or through sheets, frames and fetches.

        A page places itself. A file nothing references is placed nowhere with
        certainty if pages load its kind from markup or CSS (stylesheets,
        scripts, images, fonts, media, pages); otherwise the graph cannot know
        whether a script loads it and says so with ``certain=False``.

        >>> PageGraph().place("/config.json")
        Placement(pages=frozenset(), certain=False, reason='unknown: .json fetched by script?')
        """
        key = canonical_path(path)
        reached = {key}
        frontier = [key]
        while frontier:
            for referrer in self._referrers.get(frontier.pop(), ()):
                if referrer not in reached:
                    reached.add(referrer)
                    frontier.append(referrer)
        pages = frozenset(self._page_names[node] for node in reached if node in self._page_names)

        if pages:
            if key in self._page_names:
                others = len(pages) - 1
                reason = "the page itself" + (f" and {others} {_plural(others, 'page')} using it" if others else "")
            else:
                reason = f"used by {len(pages)} {_plural(len(pages), 'page')}"
            return Placement(pages, True, reason)
        extension = _extension(key)
        if extension in _STATICALLY_REFERENCED:
            reason = "referenced by no recorded page" if len(reached) > 1 else "referenced by nothing"
            return Placement(frozenset(), True, reason)
        described = f".{extension}" if extension else "file without extension,"
        return Placement(frozenset(), False, f"unknown: {described} fetched by script?")

    def pages(self) -> set[str]:
        """The recorded pages, spelled as they were recorded."""
        return set(self._page_names.values())

    def references(self, source: str) -> dict[str, Kinds]:
        """What a page, sheet or referrer references directly, with how (see the module docs).

        >>> graph = PageGraph()
        >>> graph.record_html("/", b'<script type="module" src="/main.js"></script>')
        >>> graph.references("/index.html")
        {'/main.js': frozenset({'module'})}
        """
        key = canonical_path(source)
        found = dict(self._declared.get(key, {}))
        for target in self._fetched.get(key, {}):
            found[target] = found.get(target, frozenset()) | {"fetch"}
        return found

    def _resolve_all(self, references: Iterable[tuple[str, str]], base_url: str, source: str) -> dict[str, Kinds]:
        resolved: dict[str, Kinds] = {}
        for reference, kind in references:
            target = self._resolver.site_path(reference, base_url)
            if target is not None and target != source:
                resolved[target] = resolved.get(target, frozenset()) | {kind}
        return resolved

    def _declare(self, source: str, references: dict[str, Kinds]) -> None:
        for target in self._declared.pop(source, {}):
            self._unlink(source, target)
        if references:
            self._declared[source] = references
            for target in references:
                self._link(source, target)

    def _link(self, source: str, target: str) -> None:
        referrers = self._referrers.setdefault(target, {})
        referrers[source] = referrers.get(source, 0) + 1

    def _unlink(self, source: str, target: str) -> None:
        referrers = self._referrers.get(target)
        if referrers is None or source not in referrers:
            return
        referrers[source] -= 1
        if referrers[source] == 0:
            del referrers[source]
            if not referrers:
                del self._referrers[target]


def _plural(count: int, noun: str) -> str:
    return noun if count == 1 else noun + "s"
