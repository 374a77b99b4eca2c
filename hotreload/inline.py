"""File contents that travel inside an update, so that tabs need not fetch them.

A tab told "``/css/site.css`` changed" has to fetch the new version before it
can show it: a round trip through the browser's network stack that costs
more than everything else in the update put together. For small files the
server sends the content along with the update instead:

- a stylesheet's text: the tab replaces the rules that changed in the sheet
  it already has (same element, same place in the cascade, relative
  ``url()``\\ s still resolved against the sheet's own URL);
- an image's bytes: the tab shows them at once from memory, then points the
  references at the new version's URL as soon as the browser has it, so that
  the page ends up exactly as if it had fetched it (see ``client_js/swap.js``).

Only what a tab can apply exactly goes inline; anything else is left to the
fetch, which handles every case:

- a big file (the frame goes to every tab that uses it);
- a sheet that may hold ``@import`` rules: rules applied from text cannot load
  imports. A byte search is enough here because it only ever errs towards
  fetching: no ``@import`` bytes (nor an escaped at-keyword) means no import rule;
- a sheet that is not UTF-8. Without a byte order mark or ``@charset`` a
  browser decodes a sheet in its page's encoding, so the client applies
  non-ASCII text only in UTF-8 pages.

    >>> inline_content("css", b".a { color: red }", "text/css").text
    '.a { color: red }'
    >>> inline_content("css", b'@import "b.css";', "text/css") is None
    True
    >>> inline_content("image", b"GIF89a", "image/gif").data
    'R0lGODlh'
"""

from __future__ import annotations

import base64
import codecs
from typing import NamedTuple

__all__ = [
    "MAX_INLINE_BATCH_BYTES", "MAX_INLINE_BYTES", "MAX_INLINE_IMAGE_BYTES", "MAX_INLINE_SHEET_BYTES", "Inline",
    "inline_content",
]

MAX_INLINE_SHEET_BYTES = 128 * 1024
"""The biggest stylesheet sent inside an update."""

MAX_INLINE_IMAGE_BYTES = 64 * 1024
"""The biggest image sent inside an update (icons, logos, sprites; photos are fetched)."""

MAX_INLINE_BATCH_BYTES = 256 * 1024
"""The most file content one update carries, counted as sent; files past it are fetched."""

MAX_INLINE_BYTES = {"css": MAX_INLINE_SHEET_BYTES, "image": MAX_INLINE_IMAGE_BYTES}
"""The biggest file of each kind that may go inline: a bigger one need not even be read."""

_CHARSET_PREFIX = b'@charset "'
_UTF8_LABELS = (b"utf-8", b"utf8", b"unicode-1-1-utf-8")


class Inline(NamedTuple):
    """What goes into a :class:`~hotreload.protocol.FileUpdate` besides its path."""

    text: str | None = None  # a stylesheet's text
    data: str | None = None  # an image's bytes, base64
    content_type: str | None = None  # the image's type, for the browser to decode it

    @property
    def size(self) -> int:
        """How much it adds to the update (base64 for an image)."""
        return len(self.text or self.data or "")


def inline_content(kind: str, data: bytes, content_type: str) -> Inline | None:
    """What of a changed file of ``kind`` (``css``, ``image``) a tab can apply from the update itself.

    None when the tab should fetch the file instead.

        >>> inline_content("css", b'@charset "utf-8";\\n.a::after { content: "\\xe2\\x86\\x92" }', "text/css")
        Inline(text='@charset "utf-8";\\n.a::after { content: "→" }', data=None, content_type=None)
        >>> inline_content("css", b'@charset "iso-8859-1";\\n.a { }', "text/css") is None
        True
    """
    if kind == "css":
        text = sheet_text(data)
        return None if text is None else Inline(text=text)
    if kind == "image" and 0 < len(data) <= MAX_INLINE_BYTES["image"] and content_type.startswith("image/"):
        return Inline(data=base64.b64encode(data).decode("ascii"), content_type=content_type)
    return None


def sheet_text(data: bytes) -> str | None:
    """The text of the stylesheet ``data`` if a tab can apply it from the update, else None."""
    if len(data) > MAX_INLINE_SHEET_BYTES:
        return None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    if data.startswith(_CHARSET_PREFIX):
        end = data.find(b'";', len(_CHARSET_PREFIX))
        label = data[len(_CHARSET_PREFIX):end].strip().lower() if end > 0 else b""
        if label not in _UTF8_LABELS:
            return None
    lowered = data.lower()
    if b"@import" in lowered or b"@\\" in lowered:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
