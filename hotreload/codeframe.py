"""Pointing at a place in a source file: where a syntax error is, and a code frame around it.

Browsers report a module that fails to parse with a bare ``SyntaxError`` and no
position, so the position comes from the same parse tree the server uses for
imports. Lines and columns here are 1-based; columns count characters.

>>> print(code_frame("let a = 1;\\nlet b = ;\\nlet c = 3;", 2, 9))
  1 | let a = 1;
> 2 | let b = ;
    |         ^
  3 | let c = 3;
"""

from __future__ import annotations

import tree_sitter

from .jsparse import parse

__all__ = ["code_frame", "line_column", "syntax_error_position"]


def code_frame(text: str, line: int, column: int, context: int = 2) -> str:
    """The lines around ``line`` with a caret under ``column``, as build tools print them.

    >>> print(code_frame("a\\nb", 1, 1, context=0))
    > 1 | a
        | ^
    """
    lines = text.splitlines()
    if not lines or not 1 <= line <= len(lines):
        return ""
    first, last = max(1, line - context), min(len(lines), line + context)
    width = len(str(last))
    out: list[str] = []
    for number in range(first, last + 1):
        marker = ">" if number == line else " "
        source_line = lines[number - 1].replace("\t", " ")
        out.append(f"{marker} {number:>{width}} | {source_line}".rstrip())
        if number == line:
            out.append(f"  {'':>{width}} | {' ' * max(0, column - 1)}^")
    return "\n".join(out)


def line_column(source: bytes, offset: int) -> tuple[int, int]:
    """The 1-based line and character column of a byte offset.

    >>> line_column("é = 1;\\nx".encode(), 3)  # the "=" after a two-byte character
    (1, 3)
    """
    line_start = source.rfind(b"\n", 0, offset) + 1
    column = len(source[line_start:offset].decode("utf-8", "replace")) + 1
    return source.count(b"\n", 0, offset) + 1, column


def syntax_error_position(source: bytes) -> tuple[int, int] | None:
    """Where the first syntax error of a JavaScript module is, or None if it parses.

    A missing token is reported where it should be; for an unexpected stretch
    of code, the token right after the part the parser could not place (that
    is where a browser says "Unexpected token").

    >>> syntax_error_position(b"export const a = 1;\\nexport const value = ;\\n")
    (2, 22)
    >>> syntax_error_position(b"export const a = 1;") is None
    True
    """
    tree = parse(source)
    node = _first_error(tree.root_node)
    if node is None:
        return None
    if node.is_missing:
        return line_column(source, node.start_byte)
    after = node.end_byte
    while after < len(source) and source[after : after + 1] in b" \t\r\n":
        after += 1
    return line_column(source, after if after < len(source) else node.start_byte)


def _first_error(root: tree_sitter.Node) -> tree_sitter.Node | None:
    if not root.has_error:
        return None
    # Descend into the first child that holds an error: it is the earliest in the file.
    node = root
    while True:
        if node.is_error or node.is_missing:
            return node
        following = next((child for child in node.children if child.has_error or child.is_missing), None)
        if following is None:
            return node
        node = following
