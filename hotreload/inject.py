"""Where the client tag goes in an HTML document, and putting it there byte-exact.

The tag is inserted as early in ``<head>`` as the document allows, without
changing how a browser reads anything else in it:

1. right after a ``<meta charset>`` (or ``http-equiv="Content-Type"``) that
   opens the head, so the declaration stays inside the first 1024 bytes where
   browsers look for it;
2. else right after the ``<head>`` start tag;
3. else before the first real content: after any BOM, ``<?xml ...?>``,
   doctype, ``<html>`` start tag, comments, whitespace and whatever else the
   parser drops there (stray end tags such as ``</p>``).  Never before the
   doctype, which would put the page in quirks mode, and never between
   ``<html>`` and a comment or blank that the parser would then move into
   ``<head>``.

The position is found with a tokenizer that follows the HTML Standard's
tokenization rules for everything that can precede the first content (tags
and attributes, comments including ``<!-->`` and ``--!>``, doctypes, bogus
comments such as ``<?xml ?>``), so it agrees with browsers on where a tag or
comment ends.  It reads only up to that first content: whatever follows
(``<script>``, ``<title>``, ``<textarea>``, the body) is never looked at, which
keeps a large page cheap.

ASCII-compatible documents (UTF-8, windows-1252, Shift_JIS, EUC-*, GBK, Big5,
...) are tokenized through a latin-1 view of their bytes: in all of them the
bytes that delimit markup (``< > = " ' / ! - ?`` and whitespace) stand only for
themselves, so character positions are byte positions and the page is never
re-encoded.  UTF-16 and ISO-2022-JP documents are decoded and the position is
mapped back to a byte offset.
"""

from __future__ import annotations

import codecs
import string
from collections.abc import Iterator, Mapping
from enum import Enum
from functools import lru_cache
from types import MappingProxyType
from typing import NamedTuple

__all__ = ["document_encoding", "inject_tag", "insertion_offset", "wants_injection"]


# ---- which responses get the tag ---------------------------------------------

# Destinations that show the HTML as a page of its own, which should update
# itself; everything else (fetch/XHR is "empty") is data for some other page.
_PAGE_DESTINATIONS = frozenset({"document", "iframe", "frame", "fencedframe", "embed", "object"})
_NAVIGATION_MODES = frozenset({"navigate", "nested-navigate"})
# Set by htmx and by jQuery-style XHR, for clients that send no Sec-Fetch-*.
_SCRIPTED_REQUEST_HEADERS = ("hx-request", "x-requested-with")


def wants_injection(headers: Mapping[str, str]) -> bool:
    """Whether a request for an HTML file is a page load that should get the client.

    Browsers say what a request is for in ``Sec-Fetch-Dest`` (or at least
    ``Sec-Fetch-Mode``); those decide when present.  Without them (plain HTTP
    to a non-loopback address, old browsers, scripts) a request counts as a
    page load when its ``Accept`` lists ``text/html``, unless it says it is a
    scripted request (``HX-Request``, ``X-Requested-With``).

    >>> wants_injection({"Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate"})
    True
    >>> wants_injection({"Sec-Fetch-Dest": "empty", "Accept": "text/html"})  # fetch() of a partial
    False
    >>> wants_injection({"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    True
    """
    lowered = {name.lower(): value.strip().lower() for name, value in headers.items()}
    if "sec-fetch-dest" in lowered:
        return lowered["sec-fetch-dest"] in _PAGE_DESTINATIONS
    if "sec-fetch-mode" in lowered:
        return lowered["sec-fetch-mode"] in _NAVIGATION_MODES
    if any(name in lowered for name in _SCRIPTED_REQUEST_HEADERS):
        return False
    return _accepts_html(lowered.get("accept", ""))


def _accepts_html(accept: str) -> bool:
    for media_range in accept.split(","):
        media_type, *parameters = media_range.split(";")
        if media_type.strip() != "text/html":
            continue
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    pass
        if quality > 0:
            return True
    return False


# ---- the document's encoding -------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)

# Labels from the WHATWG Encoding Standard that Python's codec registry lacks.
_LABEL_ALIASES = {
    **dict.fromkeys(("unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8"), "utf-8"),
    **{f"x-cp125{digit}": f"cp125{digit}" for digit in range(9)},
    **dict.fromkeys(("x-sjis", "windows-31j"), "cp932"),
    "x-euc-jp": "euc_jp",
    "x-gbk": "gb18030",
    **dict.fromkeys(("x-x-big5", "cn-big5"), "big5hkscs"),
    "windows-949": "cp949",
    **dict.fromkeys(("unicode", "ucs-2", "unicodefeff", "csunicode", "iso-10646-ucs-2"), "utf-16-le"),
    "unicodefffe": "utf-16-be",
    **dict.fromkeys(("x-mac-roman", "mac", "csmacintosh"), "mac-roman"),
    **dict.fromkeys(("x-mac-cyrillic", "x-mac-ukrainian"), "mac-cyrillic"),
    **dict.fromkeys(("iso-8859-8-i", "csiso88598i", "logical", "visual"), "iso8859-8"),
    **dict.fromkeys(("dos-874", "windows-874"), "cp874"),
}

# Browsers decode these labels with a superset encoding (WHATWG Encoding
# Standard); use the same one so that bytes decode as the browser shows them.
_BROWSER_DECODERS = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "big5": "big5hkscs",
    "utf-16": "utf-16-le",
    "utf-8-sig": "utf-8",
}

_ASCII_WHITESPACE = "\t\n\f\r "
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_PRESCAN_LENGTH = 1024
_ASCII_PROBE = "".join(map(chr, range(0x20, 0x7F))) + _ASCII_WHITESPACE


def document_encoding(body: bytes, content_type: str | None) -> str:
    """The encoding a browser decodes ``body`` with, as a Python codec name.

    In the browser's order: a byte order mark, then the ``charset`` of the
    Content-Type header, then a ``<meta charset>`` / ``http-equiv`` (or an XML
    declaration) in the first 1024 bytes, then UTF-8.  Labels browsers do not
    know are skipped; labels they decode with a superset are reported as that
    superset (``ISO-8859-1`` is read as windows-1252, ``Shift_JIS`` as cp932).

    >>> document_encoding(b'<meta charset="windows-1252"><title>Caf\\xe9</title>', None)
    'cp1252'
    >>> document_encoding(b'\\xff\\xfe<\\x00p\\x00>\\x00', "text/html; charset=utf-8")
    'utf-16-le'
    >>> document_encoding(b"<p>plain</p>", None)
    'utf-8'
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return codec
    if content_type:
        declared = _supported_codec(_content_type_charset(content_type))
        if declared:
            return declared
    head = body[:_PRESCAN_LENGTH]
    return _prescan(head) or _xml_declaration_encoding(head) or "utf-8"


@lru_cache(maxsize=64)
def _supported_codec(label: str | None) -> str | None:
    """The codec for an encoding label, or None when browsers would not use it."""
    if not label:
        return None
    label = label.strip(_ASCII_WHITESPACE).translate(_ASCII_LOWER)
    try:
        codec = codecs.lookup(_LABEL_ALIASES.get(label, label)).name
    except (LookupError, ValueError):  # ValueError: a NUL inside the label
        return None
    codec = _BROWSER_DECODERS.get(codec, codec)
    if codec in ("utf-16-le", "utf-16-be", "iso2022_jp") or _markup_is_ascii(codec):
        return codec
    return None  # UTF-7, UTF-32, EBCDIC, HZ...: not decoded by browsers


@lru_cache(maxsize=64)
def _markup_is_ascii(codec: str) -> bool:
    """Whether every ASCII character is its own single byte, in any context.

    ISO-2022 encodings pass the encoding test but reuse ASCII bytes for other
    characters after a shift sequence, so they are read decoded instead.
    """
    if codec.startswith("iso2022"):
        return False
    try:
        return _ASCII_PROBE.encode(codec) == _ASCII_PROBE.encode("ascii")
    except (LookupError, UnicodeError):
        return False


def _content_type_charset(content_type: str) -> str | None:
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'")
    return None


def _prescan(head: bytes) -> str | None:
    """The HTML Standard's prescan of the first bytes for a declared encoding."""
    # An XML declaration written in UTF-16 without a BOM.
    if head.startswith(b"<\x00?\x00x\x00"):
        return "utf-16-le"
    if head.startswith(b"\x00<\x00?\x00x"):
        return "utf-16-be"
    for token in _tokens(head.decode("latin-1"), 0):
        if token.kind is _Kind.START_TAG and token.name == "meta":
            declared = _meta_encoding(token.attributes)
            if declared:
                return declared
    return None


def _meta_encoding(attributes: Mapping[str, str]) -> str | None:
    got_pragma = False
    need_pragma: bool | None = None
    charset: str | None = None
    for name, value in attributes.items():
        if name == "http-equiv":
            got_pragma = value.translate(_ASCII_LOWER) == "content-type"
        elif name == "content" and charset is None:
            extracted = _supported_codec(_charset_in_content(value))
            if extracted:
                charset, need_pragma = extracted, True
        elif name == "charset":
            charset, need_pragma = _supported_codec(value), False
    if charset is None or need_pragma is None or (need_pragma and not got_pragma):
        return None
    # A document that can declare UTF-16 in ASCII bytes is not UTF-16.
    return "utf-8" if charset.startswith("utf-16") else charset


def _charset_in_content(content: str) -> str | None:
    """The ``charset=`` label inside a meta ``content`` value, per the HTML Standard."""
    lowered = content.translate(_ASCII_LOWER)
    position = 0
    while True:
        found = lowered.find("charset", position)
        if found < 0:
            return None
        position = _skip(lowered, found + len("charset"), _ASCII_WHITESPACE)
        if lowered.startswith("=", position):
            break
    position = _skip(content, position + 1, _ASCII_WHITESPACE)
    quote = content[position : position + 1]
    if quote in ('"', "'"):
        close = content.find(quote, position + 1)
        return content[position + 1 : close] if close >= 0 else None
    if not quote:
        return None
    end = _skip_until(content, position, _ASCII_WHITESPACE + ";")
    return content[position:end]


def _xml_declaration_encoding(head: bytes) -> str | None:
    """The ``encoding`` of a leading ``<?xml ...?>``, as browsers honour it in HTML."""
    if not head.startswith(b"<?xml"):
        return None
    declaration_end = head.find(b">")
    if declaration_end < 0:
        return None
    declaration = head[:declaration_end].decode("latin-1")
    position = declaration.find("encoding")
    if position < 0:
        return None
    position = _skip_controls(declaration, position + len("encoding"))
    if not declaration.startswith("=", position):
        return None
    position = _skip_controls(declaration, position + 1)
    quote = declaration[position : position + 1]
    if quote not in ('"', "'"):
        return None
    close = declaration.find(quote, position + 1)
    label = declaration[position + 1 : close] if close >= 0 else ""
    if not label or any(char <= " " for char in label):
        return None
    codec = _supported_codec(label)
    return "utf-8" if codec and codec.startswith("utf-16") else codec


def _skip_controls(text: str, position: int) -> int:
    while position < len(text) and text[position] <= " ":
        position += 1
    return position


# ---- where the tag goes ------------------------------------------------------


def insertion_offset(body: bytes, encoding: str | None = None) -> int:
    """Byte offset in ``body`` where the client tag goes.

    ``encoding`` is the document's encoding (see :func:`document_encoding`,
    which is used when it is None or not one browsers know); a byte order
    mark in ``body`` overrides it, as it does in browsers.

    >>> insertion_offset(b'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Hi</title>')
    49
    >>> insertion_offset(b"<!DOCTYPE html>\\n<p>No head at all</p>")
    16
    """
    return _locate(body, encoding)[0]


def inject_tag(body: bytes, tag: str, encoding: str | None = None) -> bytes:
    """Return ``body`` with ``tag`` inserted at :func:`insertion_offset`.

    The tag is encoded like the document (UTF-16 documents get a UTF-16 tag);
    every other byte of ``body`` is kept as it is.

    >>> inject_tag(b"<html><head><title>Hi</title>", '<script src="/c.js"></script>')
    b'<html><head><script src="/c.js"></script><title>Hi</title>'
    """
    offset, codec = _locate(body, encoding)
    return body[:offset] + tag.encode(codec, "xmlcharrefreplace") + body[offset:]


def _locate(body: bytes, encoding: str | None) -> tuple[int, str]:
    """The insertion offset and the codec the document is written in."""
    codec, start = _document_codec(body, encoding)
    if _markup_is_ascii(codec):
        return _insertion_index(body.decode("latin-1"), start), codec
    content = body[start:]
    index = _insertion_index(content.decode(codec, "replace"), 0)
    return start + _encoded_length(content, codec, index), codec


def _document_codec(body: bytes, encoding: str | None) -> tuple[str, int]:
    """The codec of ``body`` and the offset where its text starts (after a BOM)."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return codec, len(bom)
    return _supported_codec(encoding) or document_encoding(body, None), 0


def _encoded_length(data: bytes, codec: str, characters: int) -> int:
    """How many bytes of ``data`` hold its first ``characters`` decoded characters.

    Found by decoding prefixes (galloping, then bisecting) because stateful
    encodings give no direct character-to-byte mapping.
    """
    if characters == 0:
        return 0

    def decoded_length(size: int) -> int:
        decoder = codecs.getincrementaldecoder(codec)("replace")
        return len(decoder.decode(data[:size], False))

    short, enough = 0, min(characters, len(data))  # a character takes at least one byte
    while decoded_length(enough) < characters:
        if enough == len(data):
            return len(data)
        short, enough = enough, min(2 * enough, len(data))
    while enough - short > 1:
        middle = (short + enough) // 2
        if decoded_length(middle) >= characters:
            enough = middle
        else:
            short = middle
    return enough


def _insertion_index(text: str, start: int) -> int:
    """Index in ``text`` where the tag goes; ``text[start:]`` is the document."""
    after_head: int | None = None
    for token in _tokens(text, start):
        if token.kind in (_Kind.COMMENT, _Kind.DOCTYPE) or _is_blank(text, token) or _is_dropped(token):
            continue
        if after_head is not None:
            return token.end if _declares_charset(token) else after_head
        if token.kind is _Kind.START_TAG:
            if token.name == "html":
                continue
            if token.name == "head":
                after_head = token.end
                continue
            if _declares_charset(token):  # the first tag of a head left implicit
                return token.end
        if token.kind is _Kind.TEXT:
            run = text[token.start : token.end]
            return token.start + len(run) - len(run.lstrip(_IGNORED_TEXT))
        # Any other tag, or markup cut off by the end of the document: the tag
        # goes before it (after it would be inside it).
        return token.start
    return len(text) if after_head is None else after_head


# Text the parser ignores before the head: whitespace, and NUL characters,
# which Chromium drops there (a NUL ahead of a doctype must not put the tag
# ahead of the doctype).
_IGNORED_TEXT = _ASCII_WHITESPACE + "\x00"


def _is_blank(text: str, token: _Token) -> bool:
    return token.kind is _Kind.TEXT and not text[token.start : token.end].strip(_IGNORED_TEXT)


# Before the body, the parser drops end tags for anything but these.
_END_TAGS_BEFORE_BODY = frozenset({"head", "body", "html", "br"})


def _is_dropped(token: _Token) -> bool:
    return token.kind is _Kind.END_TAG and token.name not in _END_TAGS_BEFORE_BODY


def _declares_charset(token: _Token) -> bool:
    if token.kind is not _Kind.START_TAG or token.name != "meta":
        return False
    attributes = token.attributes
    return "charset" in attributes or attributes.get("http-equiv", "").translate(_ASCII_LOWER) == "content-type"


# ---- tokenizer ---------------------------------------------------------------


class _Kind(Enum):
    TEXT = "text"
    # Comments, bogus comments (<?xml ?>, <!x>, </ x>) and the dropped </>.
    COMMENT = "comment"
    DOCTYPE = "doctype"
    START_TAG = "start tag"
    END_TAG = "end tag"
    # A tag, comment or doctype that the end of the input cuts off.
    UNFINISHED = "unfinished"


_NO_ATTRIBUTES: Mapping[str, str] = MappingProxyType({})


class _Token(NamedTuple):
    kind: _Kind
    start: int
    end: int
    name: str = ""
    attributes: Mapping[str, str] = _NO_ATTRIBUTES


_TAG_NAME_END = _ASCII_WHITESPACE + "/>"
_ATTRIBUTE_NAME_END = _ASCII_WHITESPACE + "/>="
_UNQUOTED_VALUE_END = _ASCII_WHITESPACE + ">"


def _tokens(text: str, position: int) -> Iterator[_Token]:
    """Tokens of ``text[position:]`` as the HTML Standard's tokenizer cuts them.

    There is no raw-text state: callers stop before ``<script>``, ``<style>``,
    ``<title>`` or ``<textarea>`` would need one.  Character references are
    left as written.
    """
    end = len(text)
    while position < end:
        less_than = text.find("<", position)
        if less_than < 0:
            yield _Token(_Kind.TEXT, position, end)
            return
        if less_than > position:
            yield _Token(_Kind.TEXT, position, less_than)
        token = _markup(text, less_than)
        yield token
        position = token.end


def _markup(text: str, start: int) -> _Token:
    """The token that begins with the ``<`` at ``start``."""
    following = text[start + 1 : start + 2]
    if following.isascii() and following.isalpha():
        return _tag(text, start, start + 1, _Kind.START_TAG)
    if following == "/":
        third = text[start + 2 : start + 3]
        if third.isascii() and third.isalpha():
            return _tag(text, start, start + 2, _Kind.END_TAG)
        if third == ">":
            return _Token(_Kind.COMMENT, start, start + 3)
        if not third:
            return _Token(_Kind.TEXT, start, start + 2)
        return _through_greater_than(text, start, _Kind.COMMENT)
    if following == "!":
        if text.startswith("--", start + 2):
            return _comment(text, start)
        if text[start + 2 : start + 9].translate(_ASCII_LOWER) == "doctype":
            # Even a '>' inside a quoted public identifier ends a doctype.
            return _through_greater_than(text, start, _Kind.DOCTYPE)
        return _through_greater_than(text, start, _Kind.COMMENT)
    if following == "?":
        return _through_greater_than(text, start, _Kind.COMMENT)
    return _Token(_Kind.TEXT, start, start + 1)


def _comment(text: str, start: int) -> _Token:
    # "-->" may reuse the dashes of "<!--" ("<!-->" and "<!--->" are whole
    # comments); "--!>" may not ("<!--!>" only opens one).
    close = text.find("-->", start + 2)
    limit = close if close >= 0 else len(text)
    bang_close = text.find("--!>", start + 4, limit + 3)
    if bang_close >= 0:
        return _Token(_Kind.COMMENT, start, bang_close + 4)
    if close >= 0:
        return _Token(_Kind.COMMENT, start, close + 3)
    return _Token(_Kind.UNFINISHED, start, len(text))


def _through_greater_than(text: str, start: int, kind: _Kind) -> _Token:
    greater_than = text.find(">", start + 2)
    if greater_than < 0:
        return _Token(_Kind.UNFINISHED, start, len(text))
    return _Token(kind, start, greater_than + 1)


def _tag(text: str, start: int, name_start: int, kind: _Kind) -> _Token:
    end = len(text)
    position = _skip_until(text, name_start, _TAG_NAME_END)
    name = text[name_start:position].translate(_ASCII_LOWER)
    attributes: dict[str, str] = {}
    while True:
        position = _skip(text, position, _ASCII_WHITESPACE)
        if position >= end:
            break
        char = text[position]
        if char == ">":
            return _Token(kind, start, position + 1, name, attributes)
        if char == "/":  # self-closing before '>', else ignored
            position += 1
            continue
        # The first character of a name may be '=' (parse error, but a name).
        name_end = _skip_until(text, position + 1, _ATTRIBUTE_NAME_END)
        attribute = text[position:name_end].translate(_ASCII_LOWER)
        position = _skip(text, name_end, _ASCII_WHITESPACE)
        value = ""
        if text.startswith("=", position):
            position = _skip(text, position + 1, _ASCII_WHITESPACE)
            quote = text[position : position + 1]
            if quote in ('"', "'"):
                close = text.find(quote, position + 1)
                if close < 0:
                    break
                value, position = text[position + 1 : close], close + 1
            elif quote != ">":  # '>' right after '=' ends the tag, value empty
                value_end = _skip_until(text, position, _UNQUOTED_VALUE_END)
                value, position = text[position:value_end], value_end
        attributes.setdefault(attribute, value)  # the first of a repeated name wins
    return _Token(_Kind.UNFINISHED, start, end)


def _skip(text: str, position: int, characters: str) -> int:
    while position < len(text) and text[position] in characters:
        position += 1
    return position


def _skip_until(text: str, position: int, stops: str) -> int:
    while position < len(text) and text[position] not in stops:
        position += 1
    return position
