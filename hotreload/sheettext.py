"""Sending a stylesheet's new text inside its update, so that tabs need not fetch it.

A tab that is told "``/css/site.css`` changed" has to fetch the new version
before it can show it: a round trip through the browser's network stack that
costs more than everything else in a CSS edit put together. For a small sheet
the server sends the text along with the update instead, and the tab
replaces the rules of the sheet it already has (see ``client_js/swap.js``):
same element, same place in the cascade, relative ``url()``\\ s still resolved
against the sheet's own URL.

Only text a tab can apply exactly as it would have loaded it goes inline.
Anything else is left to the fetch, which handles every case:

- a big sheet (the frame would go to every tab using it);
- a sheet that may hold ``@import`` rules: rules applied from text cannot load
  imports. A byte search is enough here because it only ever errs towards
  fetching: no ``@import`` bytes (nor an escaped at-keyword) means no import rule;
- a sheet that is not UTF-8. Without a byte order mark or ``@charset`` a
  browser decodes a sheet in its page's encoding, so the client applies
  non-ASCII text only in UTF-8 pages.

    >>> inline_text(b".a { color: red }")
    '.a { color: red }'
    >>> inline_text(b'@import "b.css";') is None
    True
"""

from __future__ import annotations

import codecs

__all__ = ["MAX_INLINE_BYTES", "MAX_INLINE_BATCH_BYTES", "inline_text"]

MAX_INLINE_BYTES = 128 * 1024
"""The biggest sheet sent inside an update."""

MAX_INLINE_BATCH_BYTES = 256 * 1024
"""The most sheet text one update carries; sheets past it are fetched."""

_CHARSET_PREFIX = b'@charset "'


def inline_text(data: bytes) -> str | None:
    """The text of the stylesheet ``data`` if a tab can apply it from the update itself, else None.

        >>> inline_text(b'@charset "utf-8";\\n.a::after { content: "\\xe2\\x86\\x92" }')
        '@charset "utf-8";\\n.a::after { content: "→" }'
        >>> inline_text(b'@charset "iso-8859-1";\\n.a { }') is None
        True
    """
    if len(data) > MAX_INLINE_BYTES:
        return None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    if data.startswith(_CHARSET_PREFIX):
        end = data.find(b'";', len(_CHARSET_PREFIX))
        label = data[len(_CHARSET_PREFIX):end].strip().lower() if end > 0 else b""
        if label not in (b"utf-8", b"utf8", b"unicode-1-1-utf-8"):
            return None
    lowered = data.lower()
    if b"@import" in lowered or b"@\\" in lowered:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
