"""What an ES module imports and how it uses ``import.meta.hot``, and how to rewrite it.

The analysis runs on a real JavaScript parse tree (tree-sitter), so strings,
comments, template literals and regular expressions that merely *mention*
``import`` are never mistaken for imports. tree-sitter recovers from syntax
errors, so a half-typed module still yields every import it can see and says
that it is broken.

>>> info = analyse(b'import { n } from "./n.js"; import.meta.hot.accept();')
>>> [ref.specifier for ref in info.imports], info.accepts_self
(['./n.js'], True)

What each ``import``/``export`` keyword in a tree means is :mod:`hotreload.jsscan`'s
business. A large module seen for the first time is parsed in two pieces at
once, one in this process and one in a helper process (:mod:`hotreload.jsworker`),
when :mod:`hotreload.jssplit` finds a cut where that provably means what one
parse of the whole would.

Import maps (``<script type="importmap">``) live here too, because resolving a
bare specifier is the other half of knowing what a module imports.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol
from urllib.parse import urljoin, urlsplit

import tree_sitter

from hotreload import jssplit, jsworker
from hotreload.jsscan import ACCEPTS_SELF, DECLINES, LANGUAGE, USES_HOT, Finding, ImportKind, scan, shifted

__all__ = [
    "Edit",
    "ImportMap",
    "ImportRef",
    "ModuleInfo",
    "analyse",
    "hot_preamble",
    "parse",
    "parse_importmap",
    "rewrite",
    "rewrite_with_edits",
    "source_offset",
]

class ImportRef(NamedTuple):
    """One module specifier written in the source.

    ``start``/``end`` are byte offsets of the specifier's *contents* (inside the
    quotes), so replacing ``source[start:end]`` keeps the quotes. ``kind`` is
    ``"static"`` (``import ... from``), ``"export"`` (``export ... from``),
    ``"dynamic"`` (``import("...")``) or, for
    :attr:`ModuleInfo.accept_refs` only, ``"accept"``.

    A named tuple: a 100 KB module can hold hundreds, made on every cold
    analysis, and a tuple is made three times faster than a frozen dataclass.
    """

    specifier: str
    start: int
    end: int
    kind: ImportKind


@dataclass(frozen=True)
class ModuleInfo:
    """The facts about one module that the dev server needs for HMR.

    ``accepted_deps`` are specifiers as written in ``import.meta.hot.accept(dep)``;
    ``accept_refs`` locates them in the source so :func:`rewrite` can resolve
    them like imports (a bare specifier in ``accept`` then still matches).
    """

    imports: tuple[ImportRef, ...]
    uses_hot: bool
    accepts_self: bool
    accepted_deps: tuple[str, ...]
    declines: bool
    has_syntax_error: bool
    accept_refs: tuple[ImportRef, ...] = ()


# --------------------------------------------------------------------------- analysis

_CACHE_SIZE = 512
_cache: OrderedDict[bytes, ModuleInfo] = OrderedDict()
_cache_lock = threading.Lock()
_parser_local = threading.local()


def _parser() -> tree_sitter.Parser:
    # A Parser is not safe to share between threads; servers analyse in executors.
    parser = getattr(_parser_local, "parser", None)
    if parser is None:
        parser = _parser_local.parser = tree_sitter.Parser(LANGUAGE)
    return parser


def parse(source: bytes) -> tree_sitter.Tree:
    """The tree-sitter parse tree of a JavaScript source (not cached).

    >>> parse(b"let a = ;").root_node.has_error
    True
    """
    return _parser().parse(source)


def analyse(source: bytes, name: str | None = None) -> ModuleInfo:
    """Find the imports and the ``import.meta.hot`` usage of an ES module.

    Results are cached by content hash in a bounded LRU, so analysing the same
    module for every tab that requests it costs one parse. ``name`` (the
    module's URL path) lets the parse trees of the previous version of a large
    module be reused: an edit then costs an incremental re-parse of the
    changed region instead of a parse of the whole file (the first edit to the
    piece the helper process parsed costs a parse of that piece).

    >>> info = analyse(b'export * from "./a.js"; import.meta.hot?.accept("./a.js", f)')
    >>> info.imports[0].kind, info.accepted_deps, info.accepts_self
    ('export', ('./a.js',), False)
    """
    key = hashlib.blake2b(source, digest_size=16).digest()
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    info = _analyse_uncached(source, name)
    with _cache_lock:
        _cache[key] = info
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return info


# The last version of large modules, by name: its parse trees (for incremental
# parsing) and what each keyword in it contributed (so only the statements an
# edit touched are looked at again). Small modules parse in well under a
# millisecond: keeping their trees buys nothing.
_TREE_MIN_SIZE = 16 * 1024
_TREE_CACHE_SIZE = 32


@dataclass
class _Piece:
    """``source[start:end]`` of a module, parsed on its own; ``findings`` are relative to ``start``.

    A module is one piece unless :mod:`hotreload.jssplit` showed it can be cut.
    ``tree`` is None for a piece the helper process parsed: its tree stayed
    there, and an edit to the piece is sent there too (or, if the helper is
    busy or gone, the piece is parsed here).
    """

    start: int
    end: int
    tree: tree_sitter.Tree | None
    has_error: bool
    findings: list[Finding]
    # The helper keeps the tree of the piece it parsed under this key (0: it does not).
    key: int = 0
    # (starts_cleanly, ends_cleanly) as the helper found them, for a piece without a tree here.
    checks: tuple[bool, bool] | None = None
    # What the findings amount to, made once: (imports, accept_refs, flags).
    facts: tuple[list[ImportRef], list[ImportRef], int] | None = None

    @classmethod
    def from_helper(cls, start: int, end: int, answer: jsworker.PieceFacts, key: int) -> _Piece:
        """The piece ``source[start:end]`` as the helper process answered for it, its tree kept there."""
        starts_cleanly, ends_cleanly, findings = answer
        return cls(start, end, None, False, findings, key=key, checks=(starts_cleanly, ends_cleanly))

    def stands_alone(self, source: bytes) -> tuple[bool, bool]:
        """Whether the piece, whose text is ``source``, starts and ends cleanly (see jssplit)."""
        if self.tree is None:
            assert self.checks is not None
            return self.checks
        return jssplit.starts_cleanly(self.tree), jssplit.ends_cleanly(source, self.tree)

    def module_facts(self) -> tuple[list[ImportRef], list[ImportRef], int]:
        """The piece's ImportRefs (offsets in the module) and flags."""
        if self.facts is None:
            imports: list[ImportRef] = []
            accept_refs: list[ImportRef] = []
            flags = 0
            offset = self.start
            for _, refs, finding_flags in self.findings:
                flags |= finding_flags
                for specifier, start, end, kind in refs:
                    ref = ImportRef(specifier, start + offset, end + offset, kind)
                    (accept_refs if kind == "accept" else imports).append(ref)
            self.facts = imports, accept_refs, flags
        return self.facts


@dataclass
class _Version:
    source: bytes
    pieces: list[_Piece]


_versions: OrderedDict[str, _Version] = OrderedDict()


def _analyse_uncached(source: bytes, name: str | None = None) -> ModuleInfo:
    previous = None
    if name is not None:
        with _cache_lock:
            previous = _versions.pop(name, None)
    pieces = _reanalyse(previous, source) if previous is not None else None
    keep = name is not None and len(source) >= _TREE_MIN_SIZE
    if pieces is None:
        pieces = _analyse_fresh(source, keep)
    if keep:
        with _cache_lock:
            _versions[name] = _Version(source, pieces)
            while len(_versions) > _TREE_CACHE_SIZE:
                _versions.popitem(last=False)
    return _module_info(pieces)


def _analyse_whole(source: bytes) -> ModuleInfo:
    """The analysis of one parse of the whole module: what every faster path must agree with."""
    return _module_info([_whole_piece(source)])


def _module_info(pieces: list[_Piece]) -> ModuleInfo:
    imports: list[ImportRef] = []
    accept_refs: list[ImportRef] = []
    flags = 0
    for piece in pieces:
        piece_imports, piece_accept_refs, piece_flags = piece.module_facts()
        imports += piece_imports
        accept_refs += piece_accept_refs
        flags |= piece_flags
    return ModuleInfo(
        imports=tuple(imports),
        uses_hot=bool(flags & USES_HOT),
        accepts_self=bool(flags & ACCEPTS_SELF),
        accepted_deps=tuple(dict.fromkeys(ref.specifier for ref in accept_refs)),
        declines=bool(flags & DECLINES),
        has_syntax_error=any(piece.has_error for piece in pieces),
        accept_refs=tuple(accept_refs),
    )


def _parse_and_scan(source: bytes) -> tuple[tree_sitter.Tree, list[Finding]]:
    """A fresh parse of ``source`` and what every keyword in it contributes."""
    tree = _parser().parse(source)
    return tree, scan(source, tree.root_node, [(0, len(source))])


def _whole_piece(source: bytes) -> _Piece:
    tree, findings = _parse_and_scan(source)
    return _Piece(0, len(source), tree, tree.root_node.has_error, findings)


# --------------------------------------------------------------------------- a module never seen


def _analyse_fresh(source: bytes, keep: bool = False) -> list[_Piece]:
    """Parse a module: in two pieces at once if it is large and can be cut, else whole.

    ``keep``: the module will be edited, so the helper should keep its piece's tree.
    """
    share = jsworker.balance.share()
    # Either piece may stay here: the one nearer the share this process should take.
    options: list[tuple[float, int, bool]] = []
    for here_first, at in ((True, share), (False, 1 - share)):
        cut = jssplit.choose_split(source, at=at)
        if cut is not None:
            options.append((abs((cut if here_first else len(source) - cut) / len(source) - share), cut, here_first))
    if options:
        _, cut, here_first = min(options, key=lambda option: option[0])  # the first on a tie
        started = time.perf_counter()
        key = next(_keys) if keep else 0
        pending = jsworker.submit(source[cut:] if here_first else source[:cut], key)
        if pending is not None:
            return _analyse_split(source, cut, pending, here_first=here_first, started=started, key=key)
    return [_whole_piece(source)]


_keys = itertools.count(1)  # what the helper keeps piece trees under


class _OtherPiece(Protocol):
    seconds: float | None
    waited: float

    def result(self) -> jsworker.PieceFacts | None: ...


def _analyse_split(
    source: bytes,
    cut: int,
    other: _OtherPiece,
    *,
    here_first: bool = True,
    started: float | None = None,
    key: int = 0,
) -> list[_Piece]:
    """Analyse one side of ``cut`` here while ``other`` analyses the other; parse whole if the cut fails.

    This process takes ``source[:cut]`` if ``here_first``, else ``source[cut:]``.
    ``other.result()`` gives :func:`hotreload.jsworker.analyse_piece` of the
    other side (or None); it is always collected, so whoever computes it is
    free again. ``started`` is when the other side was handed over, ``key``
    what the helper keeps its tree under.
    """
    started = time.perf_counter() if started is None else started
    start, end = (0, cut) if here_first else (cut, len(source))
    piece = source[start:end]
    tree = _parser().parse(piece)
    if jssplit.ends_cleanly(piece, tree) if here_first else jssplit.starts_cleanly(tree):
        mine = _Piece(start, end, tree, False, scan(piece, tree.root_node, [(0, len(piece))]))
        mine.module_facts()  # while the helper still works
        here = time.perf_counter() - started
        answer = other.result()
        if answer is not None:
            if other.seconds is not None:
                jsworker.balance.record((len(piece), here), (len(source) - len(piece), other.seconds), other.waited)
            starts_cleanly, ends_cleanly, _ = answer
            if starts_cleanly if here_first else ends_cleanly:
                if here_first:
                    return [mine, _Piece.from_helper(cut, len(source), answer, key)]
                return [_Piece.from_helper(0, cut, answer, key), mine]
        return [_whole_piece(source)]
    # Parse the whole before collecting the (now useless) other side, ready by then.
    # Not incrementally from this side's tree: after an error at its end, that
    # can come out different from a fresh parse (`}` then `<!--` on the next line).
    whole = _whole_piece(source)
    other.result()
    return [whole]


# --------------------------------------------------------------------------- a module edited


def _reanalyse(previous: _Version, source: bytes) -> list[_Piece] | None:
    """Re-parse only the piece an edit touched, incrementally; None if the module must be parsed afresh.

    The other pieces keep their findings (moved by the size of the edit); the
    edited piece must still stand alone where it is cut from its neighbours.
    """
    old_source, pieces = previous.source, previous.pieces
    start, old_end, new_end = _edit_span(old_source, source)
    delta = new_end - old_end
    # Text inserted at a cut goes to the piece after it: it usually starts that line.
    index = next(
        (
            i
            for i, piece in enumerate(pieces)
            if piece.start <= start and old_end <= piece.end and (start < piece.end or i == len(pieces) - 1)
        ),
        None,
    )
    if index is None:
        return None  # the edit spans a cut
    piece = pieces[index]
    piece_source = source[piece.start : piece.end + delta]
    edited = _reanalyse_piece(piece, old_source[piece.start : piece.end], piece_source, start - piece.start)
    if len(pieces) > 1:
        starts_cleanly, ends_cleanly = edited.stands_alone(piece_source)
        if (index < len(pieces) - 1 and not ends_cleanly) or (index > 0 and not starts_cleanly):
            return None
    later = [
        _Piece(p.start + delta, p.end + delta, p.tree, p.has_error, p.findings, p.key, p.checks) if delta else p
        for p in pieces[index + 1 :]
    ]
    return pieces[:index] + [edited] + later


def _reanalyse_piece(piece: _Piece, old_source: bytes, source: bytes, start: int) -> _Piece:
    """``piece`` after its text became ``source``; the edit starts at ``start``, relative to it."""
    end = piece.start + len(source)
    if piece.tree is None:
        # The helper keeps the tree of the piece it parsed: it re-parses incrementally.
        pending = jsworker.submit(source, piece.key) if piece.key else None
        answer = pending.result() if pending is not None else None
        if answer is not None:
            return _Piece.from_helper(piece.start, end, answer, piece.key)
        tree, findings = _parse_and_scan(source)  # the helper is busy or gone: parse it here
    else:
        old_end = len(old_source) - _common_suffix(old_source, source, min(len(old_source), len(source)) - start)
        edit = (start, old_end, old_end + len(source) - len(old_source))
        tree, findings = _rescan(old_source, piece.tree, piece.findings, source, edit)
    return _Piece(piece.start, end, tree, tree.root_node.has_error, findings)


def _edit_span(old: bytes, new: bytes) -> tuple[int, int, int]:
    """Where ``old`` and ``new`` differ: the start, the end in ``old``, the end in ``new``."""
    start = _common_prefix(old, new)
    end_shared = _common_suffix(old, new, min(len(old), len(new)) - start)
    return start, len(old) - end_shared, len(new) - end_shared


def _rescan_edited(
    old_source: bytes, old_tree: tree_sitter.Tree, old_findings: list[Finding], source: bytes
) -> tuple[tree_sitter.Tree, list[Finding]]:
    """:func:`_rescan` for a new version of ``old_source``, wherever they differ."""
    return _rescan(old_source, old_tree, old_findings, source, _edit_span(old_source, source))


def _rescan(
    old_source: bytes,
    old_tree: tree_sitter.Tree,
    old_findings: list[Finding],
    source: bytes,
    edit: tuple[int, int, int],
) -> tuple[tree_sitter.Tree, list[Finding]]:
    """Re-parse incrementally and look again only at the top-level statements the edit touched.

    Every construct we look for lies inside one top-level statement, and a
    statement whose text and structure did not change means what it meant
    before: its findings are kept, moved by the size of the edit.
    """
    if old_tree.root_node.has_error:
        # Re-parsing a tree that holds errors can recover from them otherwise
        # than a parse from scratch does (an unclosed template, then its
        # closing backtick, for instance): a broken version is parsed afresh.
        return _parse_and_scan(source)
    start, old_end, new_end = edit
    old_tree.edit(
        start_byte=start,
        old_end_byte=old_end,
        new_end_byte=new_end,
        start_point=_point(old_source, start),
        old_end_point=_point(old_source, old_end),
        new_end_point=_point(source, new_end),
    )
    tree = _parser().parse(source, old_tree)
    root = tree.root_node
    touched = [(start, new_end)] + [(r.start_byte, r.end_byte) for r in old_tree.changed_ranges(tree)]
    dirty = _merge([_statement_span(root, low, high) for low, high in touched])
    delta = new_end - old_end
    kept: list[Finding] = []
    for finding in old_findings:
        if finding[0] < start:
            moved = finding
        elif finding[0] >= old_end:
            moved = shifted(finding, delta) if delta else finding
        else:
            continue
        if not any(low <= moved[0] < high for low, high in dirty):
            kept.append(moved)
    findings = kept + scan(source, root, dirty)
    findings.sort(key=lambda finding: finding[0])
    return tree, findings


def _statement_span(root: tree_sitter.Node, low: int, high: int) -> tuple[int, int]:
    """``[low, high)`` widened to the top-level statements it overlaps."""
    first = _top_level_at(root, low)
    if first is not None and first.start_byte < low:
        low = first.start_byte
    last = _top_level_at(root, max(low, high - 1))
    if last is not None and last.start_byte < high:
        high = max(high, last.end_byte)
    return low, high


def _top_level_at(root: tree_sitter.Node, offset: int) -> tree_sitter.Node | None:
    """The top-level node holding ``offset``, or the first one after it; None past the last."""
    count = root.child_count
    # Past the last child the binding hands back an invalid node: never ask it there.
    if count == 0 or offset >= root.child(count - 1).end_byte:
        return None
    return root.first_child_for_byte(offset)


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _common_prefix(a: bytes, b: bytes) -> int:
    # Binary search that only ever compares the undecided window, in C.
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a.startswith(b[low:middle], low):
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if a.startswith(b[len(b) - middle : len(b) - low], len(a) - middle):
            low = middle
        else:
            high = middle - 1
    return low


def _point(source: bytes, offset: int) -> tuple[int, int]:
    row = source.count(b"\n", 0, offset)
    return row, offset - (source.rfind(b"\n", 0, offset) + 1)


# --------------------------------------------------------------------------- rewriting


@dataclass(frozen=True)
class Edit:
    """One change :func:`rewrite_with_edits` made: ``source[source_start:source_end]``
    became ``output[output_start:output_end]`` (byte offsets)."""

    source_start: int
    source_end: int
    output_start: int
    output_end: int


def rewrite(
    source: bytes,
    info: ModuleInfo,
    resolve: Callable[[str], str | None],
    hot_preamble: str | None,
) -> bytes:
    """Replace import specifiers with what ``resolve`` returns and prepend the HMR preamble.

    ``resolve`` gets each specifier as written and returns its replacement, or
    ``None`` to leave it untouched. ``import.meta.hot.accept`` dependencies are
    resolved the same way, so the runtime can compare them with update paths.
    The preamble goes on the first line without a newline, so stack traces and
    source lines keep their numbers (after a ``#!`` line, if there is one).

    >>> src = b'import "./a.js";\\nx();'
    >>> rewrite(src, analyse(src), lambda s: "/a.js?t=1", "import.meta.hot = h;")
    b'import.meta.hot = h;import "/a.js?t=1";\\nx();'
    """
    return rewrite_with_edits(source, info, resolve, hot_preamble)[0]


def rewrite_with_edits(
    source: bytes,
    info: ModuleInfo,
    resolve: Callable[[str], str | None],
    hot_preamble: str | None,
) -> tuple[bytes, list[Edit]]:
    """:func:`rewrite`, also returning where the output differs from the source.

    Lines never move, but columns after an edit on the same line do; the edits
    map a position the browser reports (in an error's stack) back to the file.

    >>> out, edits = rewrite_with_edits(b'import "./a.js";', analyse(b'import "./a.js";'), lambda s: "/a.js", None)
    >>> out, edits
    (b'import "/a.js";', [Edit(source_start=8, source_end=14, output_start=8, output_end=13)])
    """
    if hot_preamble is not None and ("\n" in hot_preamble or "\r" in hot_preamble):
        raise ValueError("the HMR preamble must fit on one line so line numbers do not move")
    replacements: list[tuple[int, int, bytes]] = []
    if hot_preamble:
        at = _preamble_offset(source)
        replacements.append((at, at, hot_preamble.encode("utf-8")))
    for ref in info.imports + info.accept_refs:
        replacement = resolve(ref.specifier)
        if replacement is not None:
            quote = source[ref.start - 1 : ref.start]
            replacements.append((ref.start, ref.end, _escape_for_literal(replacement, quote).encode("utf-8")))
    # Stable sort: the preamble goes before a specifier that starts at the same place.
    replacements.sort(key=lambda item: item[0])
    pieces: list[bytes] = []
    edits: list[Edit] = []
    position = written = 0
    for start, end, text in replacements:
        pieces.append(source[position:start])
        written += start - position
        edits.append(Edit(start, end, written, written + len(text)))
        pieces.append(text)
        written += len(text)
        position = end
    pieces.append(source[position:])
    return b"".join(pieces), edits


def source_offset(edits: list[Edit], output_offset: int) -> int:
    """The source byte offset of a byte offset in the rewritten output.

    A position inside a replaced specifier or the preamble maps to where
    that replacement starts in the source.

    >>> source_offset([Edit(0, 0, 0, 10)], 14)
    4
    """
    shift_from = 0
    shift_to = 0
    for edit in edits:
        if output_offset < edit.output_start:
            break
        if output_offset < edit.output_end:
            return edit.source_start
        shift_from, shift_to = edit.output_end, edit.source_end
    return shift_to + (output_offset - shift_from)


def hot_preamble(runtime_url: str) -> str:
    """The one-line preamble that gives a module its ``import.meta.hot``.

    ``runtime_url`` is where the server serves ``client_js/hmr.js``; every
    module must import it from the same URL so they share one runtime.

    >>> hot_preamble("/__hotreload/hmr.js")  # doctest: +NORMALIZE_WHITESPACE
    'import { createHotContext as __hotreload_createHotContext } from "/__hotreload/hmr.js";
     import.meta.hot = __hotreload_createHotContext(import.meta.url);'
    """
    return (
        f"import {{ createHotContext as __hotreload_createHotContext }} from {json.dumps(runtime_url)};"
        " import.meta.hot = __hotreload_createHotContext(import.meta.url);"
    )


def _escape_for_literal(value: str, quote: bytes) -> str:
    escaped = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    if quote == b"`":
        return escaped.replace("`", "\\`").replace("${", "\\${")
    return escaped.replace(quote.decode("ascii", "replace"), "\\" + quote.decode("ascii", "replace"))


def _preamble_offset(source: bytes) -> int:
    offset = 3 if source.startswith(b"\xef\xbb\xbf") else 0
    if source.startswith(b"#!", offset):
        # A hashbang must stay first; the preamble starts line 2 instead.
        newline = source.find(b"\n", offset)
        return len(source) if newline < 0 else newline + 1
    return offset


# --------------------------------------------------------------------------- import maps

_SPECIAL_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp", "file"})


@dataclass(frozen=True)
class ImportMap:
    """A parsed import map, ready to resolve specifiers the way browsers do.

    Keys are normalised and sorted longest-first as the HTML spec requires; an
    address of ``None`` records an invalid entry, which blocks resolution.

    >>> m = parse_importmap('{"imports": {"lit/": "/vendor/lit/"}}', "http://h/")
    >>> m.resolve("lit/index.js", "http://h/src/app.js")
    'http://h/vendor/lit/index.js'
    """

    imports: tuple[tuple[str, str | None], ...] = ()
    scopes: tuple[tuple[str, tuple[tuple[str, str | None], ...]], ...] = field(default=())

    def resolve(self, specifier: str, referrer_url: str) -> str | None:
        """Resolve ``specifier`` imported by ``referrer_url`` to an absolute URL, or ``None``.

        ``None`` means the browser would fail too: a bare specifier the map does
        not cover, or an entry the map blocks or makes escape its prefix.

        >>> ImportMap().resolve("./b.js", "http://h/src/a.js")
        'http://h/src/b.js'
        """
        as_url = _url_like(specifier, referrer_url)
        normalized = as_url if as_url is not None else specifier
        for prefix, scope_imports in self.scopes:
            if prefix == referrer_url or (prefix.endswith("/") and referrer_url.startswith(prefix)):
                found = _match_imports(normalized, as_url, scope_imports)
                if found is not _NO_MATCH:
                    return found
        found = _match_imports(normalized, as_url, self.imports)
        if found is not _NO_MATCH:
            return found
        return as_url


class _NoMatch:
    pass


_NO_MATCH = _NoMatch()


def _match_imports(
    normalized: str, as_url: str | None, imports: tuple[tuple[str, str | None], ...]
) -> str | None | _NoMatch:
    for key, address in imports:
        if key == normalized:
            return address
        if key.endswith("/") and normalized.startswith(key) and (as_url is None or _is_special(as_url)):
            if address is None:
                return None
            resolved = urljoin(address, normalized[len(key) :])
            # "../" in the rest of the specifier must not climb out of the mapped prefix.
            return resolved if resolved.startswith(address) else None
    return _NO_MATCH


def _is_special(url: str) -> bool:
    return urlsplit(url).scheme in _SPECIAL_SCHEMES


def _absolute_url(text: str) -> str | None:
    """``text`` as an absolute URL if it has a scheme (``https:``, ``node:``...), else ``None``."""
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    return parts.geturl() if parts.scheme else None


def _url_like(specifier: str, base_url: str) -> str | None:
    """Resolve a specifier that is a URL or starts with ``/``, ``./`` or ``../``."""
    if specifier.startswith(("/", "./", "../")):
        return urljoin(base_url, specifier)
    return _absolute_url(specifier)


def _normalise_map(
    raw: object, base_url: str, where: str
) -> tuple[tuple[str, str | None], ...]:
    if not isinstance(raw, Mapping):
        raise ValueError(f"import map: {where} must be a JSON object")
    entries: dict[str, str | None] = {}
    for key, value in raw.items():
        if not key:
            continue
        normalized_key = _url_like(key, base_url) or key
        address = _url_like(value, base_url) if isinstance(value, str) else None
        if address is not None and key.endswith("/") and not address.endswith("/"):
            address = None  # a prefix must map to a prefix
        entries[normalized_key] = address
    # Descending code-unit order puts "a/b/" before "a/", so the longest prefix wins.
    return tuple(sorted(entries.items(), key=lambda item: item[0], reverse=True))


def parse_importmap(json_text: str, base_url: str) -> ImportMap:
    """Parse the text of a ``<script type="importmap">`` found at ``base_url``.

    Raises :class:`ValueError` when the text is not a JSON object or its
    ``imports``/``scopes`` have the wrong shape, as browsers reject such maps.

    >>> m = parse_importmap('{"imports": {"app": "./src/app.js"}}', "http://h/index.html")
    >>> m.resolve("app", "http://h/index.html")
    'http://h/src/app.js'
    """
    try:
        document = json.loads(json_text)
    except json.JSONDecodeError as error:
        raise ValueError(f"import map is not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise ValueError("import map must be a JSON object")
    imports = _normalise_map(document.get("imports", {}), base_url, '"imports"')
    raw_scopes = document.get("scopes", {})
    if not isinstance(raw_scopes, dict):
        raise ValueError('import map: "scopes" must be a JSON object')
    scopes = tuple(
        sorted(
            (
                (urljoin(base_url, prefix), _normalise_map(scope, base_url, f'scope "{prefix}"'))
                for prefix, scope in raw_scopes.items()
            ),
            key=lambda item: item[0],
            reverse=True,
        )
    )
    return ImportMap(imports=imports, scopes=scopes)
