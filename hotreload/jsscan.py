"""What the ``import`` and ``export`` keywords in an ES module's parse tree contribute.

Every construct the dev server cares about starts with one of those keyword
tokens: ``import ... from``, ``export ... from``, ``import("...")`` and
``import.meta.hot``. :func:`scan` finds each byte occurrence of the two words
and asks the tree-sitter tree what token is there, so text inside strings,
comments, templates and regexes, which is a different token, never counts.

>>> from hotreload.jsparse import parse
>>> source = b'import a from "./a.js"; // import "./no.js"\\nconst b = import(`./b.js`);'
>>> scan(source, parse(source).root_node, [(0, len(source))])
[(0, (('./a.js', 15, 21, 'static'),), 0), (54, (('./b.js', 62, 68, 'dynamic'),), 0)]
"""

from __future__ import annotations

from typing import Literal

import tree_sitter
import tree_sitter_javascript

__all__ = [
    "ACCEPTS_SELF",
    "DECLINES",
    "Finding",
    "ImportKind",
    "LANGUAGE",
    "RawRef",
    "USES_HOT",
    "scan",
    "shifted",
]

LANGUAGE = tree_sitter.Language(tree_sitter_javascript.language())

ImportKind = Literal["static", "export", "dynamic", "accept"]

# A specifier as found: (specifier, start, end, kind), offsets of the text inside
# the quotes. Plain tuples, so that the helper process can send them back and a
# piece's findings move cheaply; ImportRefs are made once, for ModuleInfo.
RawRef = tuple[str, int, int, ImportKind]

# What one `import`/`export` keyword token contributes: (its position, the
# specifiers it brings, USES_HOT and the like). A plain tuple too.
Finding = tuple[int, tuple[RawRef, ...], int]

USES_HOT, ACCEPTS_SELF, DECLINES = 1, 2, 4


def shifted(finding: Finding, delta: int) -> Finding:
    """``finding`` moved by ``delta`` bytes.

    >>> shifted((4, (("./a.js", 12, 18, "static"),), 0), 10)
    (14, (('./a.js', 22, 28, 'static'),), 0)
    """
    position, refs, flags = finding
    return position + delta, tuple((spec, start + delta, end + delta, kind) for spec, start, end, kind in refs), flags


def _kind_ids(name: str, named: bool = True) -> frozenset[int]:
    """Every symbol id tree-sitter reports as ``name`` (an alias gives a name several ids)."""
    return frozenset(
        kind
        for kind in range(LANGUAGE.node_kind_count)
        if LANGUAGE.node_kind_for_id(kind) == name and LANGUAGE.node_kind_is_named(kind) == named
    )


# Kinds compared by id: the scan visits thousands of tokens in a large module,
# and a node's type string is built anew on every access.
_KEYWORD_TOKENS = _kind_ids("import", named=False) | _kind_ids("export", named=False)
_IMPORT_STATEMENT = _kind_ids("import_statement")
_EXPORT_STATEMENT = _kind_ids("export_statement")
_DYNAMIC_IMPORT = _kind_ids("import")  # the callee of import("...")
_META_PROPERTY = _kind_ids("meta_property")
_CALL = _kind_ids("call_expression")
_STRING = _kind_ids("string")
_TEMPLATE = _kind_ids("template_string")
_SUBSTITUTION = _kind_ids("template_substitution")
_MEMBER = _kind_ids("member_expression")
_COMMENT_KINDS = _kind_ids("comment") | _kind_ids("html_comment")
_ARRAY = _kind_ids("array")
_OBJECT_FIELD = LANGUAGE.field_id_for_name("object")
_PROPERTY_FIELD = LANGUAGE.field_id_for_name("property")
_FUNCTION_FIELD = LANGUAGE.field_id_for_name("function")
_SOURCE_FIELD = LANGUAGE.field_id_for_name("source")
_ARGUMENTS_FIELD = LANGUAGE.field_id_for_name("arguments")
_NAME_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")


def scan(source: bytes, root: tree_sitter.Node, ranges: list[tuple[int, int]]) -> list[Finding]:
    """What the ``import``/``export`` keywords starting in ``ranges`` contribute, in source order."""
    findings: list[Finding] = []
    descend = root.descendant_for_byte_range
    # Every construct we look for starts with an `import` or `export` keyword
    # token. Finding the candidates with a byte search and asking the parse tree
    # what each one is costs far less than walking the whole tree in Python,
    # and text inside strings, comments or regexes is a different token there.
    for position in _candidates(source, ranges):
        keyword = descend(position, position + 6)
        if keyword.kind_id not in _KEYWORD_TOKENS:
            continue
        context = keyword.parent
        if context is None:
            continue
        kind = context.kind_id
        if kind in _IMPORT_STATEMENT or kind in _EXPORT_STATEMENT:
            literal = context.child_by_field_id(_SOURCE_FIELD)
            if literal is not None and literal.kind_id in _STRING:
                ref_kind: ImportKind = "static" if kind in _IMPORT_STATEMENT else "export"
                findings.append((position, (_raw_ref(source, literal, ref_kind),), 0))
        elif kind in _DYNAMIC_IMPORT:
            call = context.parent
            if call is None or call.kind_id not in _CALL:
                continue
            arguments = call.child_by_field_id(_ARGUMENTS_FIELD)
            argument = _first_argument(arguments) if arguments is not None else None
            if argument is not None and _is_plain_literal(argument):
                findings.append((position, (_raw_ref(source, argument, "dynamic"),), 0))
        elif kind in _META_PROPERTY:
            finding = _hot_finding(source, position, context)
            if finding is not None:
                findings.append(finding)
    return findings


def _candidates(source: bytes, ranges: list[tuple[int, int]]) -> list[int]:
    """Where ``import`` or ``export`` starts in ``ranges``, in order, unless inside a longer ASCII name.

    A keyword never touches a letter, digit, ``_`` or ``$`` (``imports``,
    ``reexport`` are names), so those are left out before asking the tree;
    everything else is the tree's to decide.

    >>> _candidates(b'export const a = 1; export * from "./b.js"; $import; importer', [(0, 62)])
    [0, 20]
    """
    positions: list[int] = []
    size = len(source)
    for low, high in ranges:
        window = source[low : high + 5]
        for keyword in (b"import", b"export"):
            # One split finds every occurrence: cheaper than a find() for each.
            parts = window.split(keyword)
            position = low
            for part in parts[:-1]:
                position += len(part)
                after = position + 6
                if not (position and source[position - 1] in _NAME_BYTES) and not (
                    after < size and source[after] in _NAME_BYTES
                ):
                    positions.append(position)
                position = after
    positions.sort()
    return positions


def _hot_finding(source: bytes, position: int, meta: tree_sitter.Node) -> Finding | None:
    """What an ``import.meta`` contributes: nothing, or a use of ``import.meta.hot`` and how."""
    hot = _import_meta_hot(source, meta)
    if hot is None:
        return None
    flags = USES_HOT
    refs: tuple[RawRef, ...] = ()
    method, arguments = _hot_method_call(source, hot)
    if method == "decline":
        flags |= DECLINES
    elif method == "accept" and arguments is not None:
        deps = _accepted_literals(arguments)
        if deps is None:
            flags |= ACCEPTS_SELF
        else:
            refs = tuple(_raw_ref(source, dep, "accept") for dep in deps)
    return position, refs, flags


def _import_meta_hot(source: bytes, meta: tree_sitter.Node) -> tree_sitter.Node | None:
    """The ``import.meta.hot`` member expression built on this ``import.meta``, if any."""
    member = meta.parent
    if member is None or member.kind_id not in _MEMBER:
        return None
    if member.child_by_field_id(_OBJECT_FIELD) != meta:
        return None
    prop = member.child_by_field_id(_PROPERTY_FIELD)
    if prop is None or source[prop.start_byte : prop.end_byte] != b"hot":
        return None
    return member


def _hot_method_call(
    source: bytes, hot: tree_sitter.Node
) -> tuple[str | None, tree_sitter.Node | None]:
    """For ``import.meta.hot.NAME(args)`` return ``(NAME, args)``; else ``(None, None)``."""
    member = hot.parent
    if member is None or member.kind_id not in _MEMBER:
        return None, None
    if member.child_by_field_id(_OBJECT_FIELD) != hot:
        return None, None
    prop = member.child_by_field_id(_PROPERTY_FIELD)
    call = member.parent
    if prop is None or call is None or call.kind_id not in _CALL:
        return None, None
    if call.child_by_field_id(_FUNCTION_FIELD) != member:
        return None, None
    return source[prop.start_byte : prop.end_byte].decode("utf-8", "replace"), (
        call.child_by_field_id(_ARGUMENTS_FIELD)
    )


def _code_children(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    return [child for child in node.named_children if child.kind_id not in _COMMENT_KINDS]


def _first_argument(arguments: tree_sitter.Node) -> tree_sitter.Node | None:
    argument = arguments.named_child(0) if arguments.named_child_count else None
    while argument is not None and argument.kind_id in _COMMENT_KINDS:
        argument = argument.next_named_sibling
    return argument


def _is_plain_literal(node: tree_sitter.Node) -> bool:
    """A string, or a template literal with no ``${}`` (its value is known statically)."""
    kind = node.kind_id
    if kind in _STRING:
        return True
    return kind in _TEMPLATE and not any(child.kind_id in _SUBSTITUTION for child in node.children)


def _accepted_literals(arguments: tree_sitter.Node) -> list[tree_sitter.Node] | None:
    """The dependency literals of an ``accept(...)`` call; ``None`` means self-accepting."""
    first = _first_argument(arguments)
    if first is None:
        return None
    if _is_plain_literal(first):
        return [first]
    if first.kind_id in _ARRAY:
        return [element for element in _code_children(first) if _is_plain_literal(element)]
    # accept(callback) or accept(someExpression): the module accepts itself.
    return None


def _raw_ref(source: bytes, literal: tree_sitter.Node, kind: ImportKind) -> RawRef:
    return (_literal_value(source, literal), literal.start_byte + 1, literal.end_byte - 1, kind)


def _literal_value(source: bytes, literal: tree_sitter.Node) -> str:
    """The value of a string or plain template literal, escapes decoded."""
    raw = source[literal.start_byte + 1 : literal.end_byte - 1]
    if b"\\" not in raw:
        return raw.decode("utf-8", "replace")  # the common case: nothing to decode
    parts: list[str] = []
    position = literal.start_byte + 1
    for child in literal.children:
        if child.type == "escape_sequence":
            parts.append(source[position : child.start_byte].decode("utf-8", "replace"))
            parts.append(_decode_escape(source[child.start_byte : child.end_byte].decode("utf-8", "replace")))
            position = child.end_byte
    parts.append(source[position : literal.end_byte - 1].decode("utf-8", "replace"))
    return "".join(parts)


_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def _decode_escape(escape: str) -> str:
    """Decode one JavaScript escape sequence such as ``\\n``, ``\\x41`` or ``\\u{1F600}``."""
    body = escape[1:]
    if not body or body[0] in "\r\n\u2028\u2029":
        return ""  # a line continuation contributes nothing
    head = body[0]
    try:
        if head == "x":
            return chr(int(body[1:3], 16))
        if head == "u":
            digits = body[2:-1] if body.startswith("u{") else body[1:5]
            return chr(int(digits, 16))
    except ValueError:
        return body
    return _SIMPLE_ESCAPES.get(head, head)
