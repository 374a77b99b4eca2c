"""Removing terminal escape codes (ECMA-48) from a program's output.

Build tools colour their output and print hyperlinks for a terminal; the
browser overlay and the captured build log want the plain text.

Example::

    >>> strip_ansi("\\x1b[31merror\\x1b[0m in docs/index.rst:3")
    'error in docs/index.rst:3'
"""

from __future__ import annotations

__all__ = ["strip_ansi"]

_ESC = "\x1b"
_BEL = "\x07"
_C1_CSI = "\x9b"
_C1_ST = "\x9c"
# C1 controls that open a control string ended by ST: DCS, SOS, OSC, PM, APC.
_C1_STRING_OPENERS = frozenset("\x90\x98\x9d\x9e\x9f")
# The same control strings written as ESC + a final byte: P X ] ^ _.
_ESC_STRING_OPENERS = frozenset("PX]^_")
_INTRODUCERS = frozenset(_ESC + _C1_CSI + _C1_ST) | _C1_STRING_OPENERS


def _end_of_csi(text: str, start: int) -> int:
    """Index just past a control sequence whose parameters begin at ``start``."""
    end = len(text)
    i = start
    while i < end and "\x30" <= text[i] <= "\x3f":  # parameter bytes
        i += 1
    while i < end and "\x20" <= text[i] <= "\x2f":  # intermediate bytes
        i += 1
    if i < end and "\x40" <= text[i] <= "\x7e":  # final byte
        return i + 1
    # Malformed or cut short: drop what was scanned, keep the offending character.
    return i


def _end_of_control_string(text: str, start: int) -> int:
    """Index just past a control string (OSC, DCS, ...) whose body begins at ``start``.

    Terminals end these with ST (``ESC \\`` or U+009C); OSC is also commonly ended
    with BEL, as in ``ESC ] 8 ; ; url BEL`` hyperlinks. An unterminated string runs
    to the end of the text, as it would on a terminal.
    """
    i = start
    end = len(text)
    while i < end:
        char = text[i]
        if char == _BEL or char == _C1_ST:
            return i + 1
        if char == _ESC and i + 1 < end and text[i + 1] == "\\":
            return i + 2
        i += 1
    return end


def _end_of_escape(text: str, start: int) -> int:
    """Index just past the escape code whose introducer is at ``start``."""
    char = text[start]
    if char == _C1_CSI:
        return _end_of_csi(text, start + 1)
    if char in _C1_STRING_OPENERS:
        return _end_of_control_string(text, start + 1)
    if char == _C1_ST:
        return start + 1
    # ESC: look at the byte after it.
    i = start + 1
    if i >= len(text):
        return i
    follower = text[i]
    if follower == "[":
        return _end_of_csi(text, i + 1)
    if follower in _ESC_STRING_OPENERS:
        return _end_of_control_string(text, i + 1)
    # Any other escape: intermediates 0x20-0x2F, then one final 0x30-0x7E
    # (ESC 7, ESC = , ESC ( B, ESC c, ...).
    while i < len(text) and "\x20" <= text[i] <= "\x2f":
        i += 1
    if i < len(text) and "\x30" <= text[i] <= "\x7e":
        return i + 1
    return i


def strip_ansi(text: str) -> str:
    """Remove terminal escape codes: CSI (colours, cursor moves), OSC and other
    control strings (hyperlinks, titles) and single escape codes.

    >>> strip_ansi("\\x1b[1;31merror\\x1b[0m: see \\x1b]8;;https://x.org\\x07docs\\x1b]8;;\\x07")
    'error: see docs'
    """
    if not any(char in _INTRODUCERS for char in text):
        return text
    kept: list[str] = []
    i = 0
    end = len(text)
    while i < end:
        j = i
        while j < end and text[j] not in _INTRODUCERS:
            j += 1
        kept.append(text[i:j])
        if j == end:
            break
        i = _end_of_escape(text, j)
    return "".join(kept)
