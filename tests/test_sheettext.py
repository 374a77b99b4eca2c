"""Which stylesheets travel inside their update (`hotreload/sheettext.py`)."""

from __future__ import annotations

import codecs

import pytest

from hotreload.sheettext import MAX_INLINE_BYTES, inline_text


def test_a_small_utf8_sheet_is_sent_as_text() -> None:
    assert inline_text(b".a { color: red }\n") == ".a { color: red }\n"
    assert inline_text('.a::after { content: "\u2192" }'.encode()) == '.a::after { content: "\u2192" }'


def test_a_byte_order_mark_is_dropped_and_a_utf8_charset_is_kept() -> None:
    assert inline_text(codecs.BOM_UTF8 + b".a{}") == ".a{}"
    assert inline_text(b'@charset "UTF-8";\n.a{}') == '@charset "UTF-8";\n.a{}'


@pytest.mark.parametrize(
    "data",
    [
        b'@charset "iso-8859-1";\n.a::after { content: "\xe9" }',  # another encoding, declared
        b'.a::after { content: "\xe9" }',  # not UTF-8 at all
        codecs.BOM_UTF16_LE + ".a{}".encode("utf-16-le"),
        b'@import "parts.css";\n.a{}',  # imports cannot be applied from text
        b'@IMPORT url(parts.css);',
        b"@\\69mport 'parts.css';",  # an escaped at-keyword may spell import
        b"/* @import is only mentioned here */ .a{}",  # errs on the side of fetching
        b"." + b"a" * MAX_INLINE_BYTES + b"{}",  # too big for every tab's queue
    ],
)
def test_sheets_a_tab_could_not_apply_exactly_are_left_to_a_fetch(data: bytes) -> None:
    assert inline_text(data) is None


def test_the_size_limit_is_inclusive() -> None:
    data = b"." + b"a" * (MAX_INLINE_BYTES - 3) + b"{}"
    assert len(data) == MAX_INLINE_BYTES
    assert inline_text(data) is not None
