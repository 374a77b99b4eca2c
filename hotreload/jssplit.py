"""Where an ES module can be cut into pieces that tree-sitter parses on their own.

Parsing is most of the cost of analysing a large module, and py-tree-sitter
holds the GIL while it parses, so a second core can only help if another
process parses another piece of the module. A cut is only kept where the
pieces' own parse trees show that parsing them apart means what parsing the
whole would: :func:`ends_cleanly` for the piece before the cut and
:func:`starts_cleanly` for the piece after it.

>>> from hotreload.jsparse import parse
>>> source = b'import a from "./a.js";\\nlet n = a();\\nexport const b = n;\\n'
>>> cut = choose_split(source, min_size=0)
>>> source[:cut], source[cut:]
(b'import a from "./a.js";\\n', b'let n = a();\\nexport const b = n;\\n')
>>> ends_cleanly(source[:cut], parse(source[:cut])), starts_cleanly(parse(source[cut:]))
(True, True)

Why a cut that passes both checks is safe. Let ``A`` end with a newline and
``B`` follow it, both parse without an ERROR or MISSING node, ``A``'s last
token (comments aside) be ``;`` or ``}``, and ``B``'s first statement be a
declaration or block that begins with one of the keywords in
``_STARTING_TOKENS``. Then parsing ``A + B`` gives ``A``'s statements followed by
``B``'s, so every ``import``/``export`` keyword means in the whole what it means
in its piece:

- No token crosses the cut. Only comments, strings, templates and regular
  expressions can hold a newline or stop at one; had ``A`` ended inside one of
  them, its parse would have an error (an unterminated comment, string, template
  or regex is an ERROR or MISSING node in tree-sitter), and ``A`` ends with the
  newline that closes a ``//`` comment. So ``A + B`` is lexed as ``A``'s tokens,
  then ``B``'s.
- ``A``'s last statement ends at the cut. A statement ending in ``;`` cannot be
  continued at all (a ``for (;;`` head would leave ``A`` broken); one ending in
  ``}`` can be continued only by ``else``, ``catch``, ``finally``, ``while``, an
  operator, ``(``, ``[``, ``.``, ``?.``, a template or a comma, never by ``export``,
  ``import``, ``function``, ``async``, ``class``, ``const``, ``let``, ``var`` or a
  block's ``{``. tree-sitter's automatic-semicolon scanner, which keeps no state,
  answers before a newline and one of those keywords as it does at the end of
  the file. Requiring ``;`` or ``}`` keeps this argument short: it leaves out
  pieces ending in a bare expression, or in a word tree-sitter also accepts as
  an identifier (``async``, ``let``, ``await``, ``yield``), where whether the
  next line joins the statement would rest on the automatic-semicolon and
  no-line-break rules of each case (``x = async`` then ``function f() {}``).
- ``B`` is then parsed from a top-level statement start, the state a file
  starts in (a program is a plain list of statements; only a leading ``#!``
  line is special, and ``B`` starts with a keyword), so its statements come out
  as when ``B`` is parsed alone. Only ``//`` and ``/* */`` comments may come
  before ``B``'s first statement: tree-sitter reads them the same after any
  token, while it takes ``<!--`` and ``-->`` for comments only where no
  operator may come (after ``export default function () {}``, ``<`` is one).

A cut inside a function, a class or any other block leaves ``A`` with an
unclosed bracket, which is an error, so such a cut is refused, not trusted.
"""

from __future__ import annotations

import tree_sitter

__all__ = ["MIN_SIZE", "choose_split", "ends_cleanly", "starts_cleanly"]

# Below this size a module parses in a few milliseconds; handing half of it to
# another process saves less than it costs.
MIN_SIZE = 32 * 1024

# Cut points are looked for at the beginning of lines that start, at column 0,
# with one of these.
_CUTS = (
    b"export ",
    b"export{",
    b"export*",
    b"import ",
    b"import{",
    b"import*",
    b"function ",
    b"function*",
    b"async function",
    b"class ",
    b"const ",
    b"let ",
    b"var ",
    b"{\n",
    b"{\r\n",
)
# `export` and `import` declarations are only allowed at the top level.
_SURE_CUTS = _CUTS[:6]
# What is searched for, then checked against _CUTS: each search reads the window.
_NEEDLES = (b"\nexport", b"\nimport", b"\nfunction", b"\nasync ", b"\nclass ", b"\nconst ", b"\nlet ", b"\nvar ", b"\n{")

# The statements B may begin with, and the keyword (or block brace) each begins with.
_STARTING_STATEMENTS = frozenset(
    {
        "export_statement",
        "import_statement",
        "function_declaration",
        "generator_function_declaration",
        "class_declaration",
        "lexical_declaration",
        "variable_declaration",
        "statement_block",
    }
)
_STARTING_TOKENS = frozenset({"export", "import", "function", "async", "class", "const", "let", "var", "{"})
_COMMENTS = frozenset({"comment", "html_comment"})


def choose_split(source: bytes, *, at: float = 0.5, min_size: int = MIN_SIZE) -> int | None:
    """A line start near ``at`` (a fraction of the length) where ``source`` may be cut, or None.

    Only a guess from the bytes: the pieces' parse trees decide (see the module
    docstring), and a wrong guess costs a parse.

    >>> choose_split(b"let a = 1;\\n" * 10 + b"export const b = 2;\\n" + b"let c = 3;\\n" * 10, min_size=0)
    110
    >>> choose_split(b"f(1);\\n" * 100, min_size=0) is None
    True
    """
    size = len(source)
    if size < max(min_size, 1):
        return None
    target = int(size * at)
    low, high = size // 5, size - size // 5  # nearer an end, a second process is not worth it
    candidates: list[int] = []
    start = stop = min(max(target, low), high)
    # Look close to the target first; a cut further than an eighth of the module away
    # would leave one side with much more to do, and searching further costs time
    # in modules that have no cut at all (one block or function around everything).
    for reach in (size // 32, size // 8):
        wider = max(low, target - reach), min(high, target + reach)
        candidates += _line_starts(source, wider[0], start) + _line_starts(source, stop, wider[1])
        candidates.sort()
        start, stop = wider
        # Cheap hints that the cut will pass the checks, so that a parse is not
        # spent on one that fails. Declarations at column 0 also open lines
        # inside unindented blocks (a wrapper function, a block around
        # concatenated code): as many `{` as `}` before a line hint that it is
        # not nested. And the code before the cut must end in `;` or `}`, which
        # it does not in code written without semicolons. Braces or a `;` in
        # strings, comments or regexes can mislead the hints: that costs time,
        # never correctness.
        depth = source.count(b"{", 0, start) - source.count(b"}", 0, start)
        previous = start
        likely: list[int] = []
        for position in candidates:
            depth += source.count(b"{", previous, position) - source.count(b"}", previous, position)
            previous = position
            if depth == 0 and _ends_statement(source, position):
                likely.append(position)
        if likely:
            return min(likely, key=lambda position: abs(position - target))
    # Misled braces: `export` and `import` lines are at the top level anyway.
    sure = [p for p in candidates if source.startswith(_SURE_CUTS, p) and _ends_statement(source, p)]
    return min(sure, key=lambda position: abs(position - target)) if sure else None


def _ends_statement(source: bytes, position: int) -> bool:
    """Whether the last byte before ``position`` that is not blank is ``;`` or ``}``."""
    while position > 0 and source[position - 1] in b" \t\r\n":
        position -= 1
    return position > 0 and source[position - 1] in b";}"


def _line_starts(source: bytes, start: int, stop: int) -> list[int]:
    """Line starts in ``[start, stop)`` where a line begins with one of ``_CUTS``."""
    found: list[int] = []
    if start >= stop:
        return found
    for needle in _NEEDLES:
        position = source.find(needle, start - 1, stop - 1 + len(needle))
        while position >= 0:
            if source.startswith(_CUTS, position + 1):
                found.append(position + 1)
            position = source.find(needle, position + 1, stop - 1 + len(needle))
    return found


def ends_cleanly(piece: bytes, tree: tree_sitter.Tree) -> bool:
    """Whether a piece can be followed by another: no errors, a final newline, last token ``;`` or ``}``.

    >>> from hotreload.jsparse import parse
    >>> [ends_cleanly(s, parse(s)) for s in (b"f();\\n", b"f()\\n", b"f();", b"if (a) {\\n")]
    [True, False, False, False]
    """
    root = tree.root_node
    if root.has_error or not piece.endswith(b"\n"):
        return False
    last = _last_code_token(root)
    return last is not None and last.type in (";", "}")


def starts_cleanly(tree: tree_sitter.Tree) -> bool:
    """Whether a piece can follow another: no errors, first statement a declaration or block.

    ``//`` and ``/* */`` comments before that statement are fine; an expression
    statement is not (a line starting with ``(`` or ``[`` may continue the
    statement before it), nor an HTML-like ``<!--`` or ``-->`` comment, which
    tree-sitter reads as operators where an operator may come (after
    ``export default function () {}``, say).

    >>> from hotreload.jsparse import parse
    >>> [starts_cleanly(parse(s)) for s in (b"/* c */ export {};", b"(f)();", b"import(a);", b"let a;")]
    [True, False, False, True]
    """
    root = tree.root_node
    if root.has_error:
        return False
    for statement in root.children:
        if statement.type == "comment":
            continue
        first = statement
        while first.child_count:
            first = first.children[0]
        return statement.type in _STARTING_STATEMENTS and first.type in _STARTING_TOKENS
    return False


def _last_code_token(node: tree_sitter.Node) -> tree_sitter.Node | None:
    """The last leaf under ``node`` that is not a comment."""
    while node.child_count:
        for child in reversed(node.children):
            if child.type not in _COMMENTS:
                node = child
                break
        else:
            return None
    return node
