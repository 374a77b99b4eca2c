"""Which files travel inside their update (`hotreload/inline.py`)."""

from __future__ import annotations

import codecs
import os

import pytest

import base64

from hotreload.inline import MAX_INLINE_IMAGE_BYTES, MAX_INLINE_SHEET_BYTES, inline_content, sheet_text


def test_a_small_utf8_sheet_is_sent_as_text() -> None:
    assert sheet_text(b".a { color: red }\n") == ".a { color: red }\n"
    assert sheet_text('.a::after { content: "\u2192" }'.encode()) == '.a::after { content: "\u2192" }'


def test_a_byte_order_mark_is_dropped_and_a_utf8_charset_is_kept() -> None:
    assert sheet_text(codecs.BOM_UTF8 + b".a{}") == ".a{}"
    assert sheet_text(b'@charset "UTF-8";\n.a{}') == '@charset "UTF-8";\n.a{}'


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
        b"." + b"a" * MAX_INLINE_SHEET_BYTES + b"{}",  # too big for every tab's queue
    ],
)
def test_sheets_a_tab_could_not_apply_exactly_are_left_to_a_fetch(data: bytes) -> None:
    assert sheet_text(data) is None


def test_the_size_limit_is_inclusive() -> None:
    data = b"." + b"a" * (MAX_INLINE_SHEET_BYTES - 3) + b"{}"
    assert len(data) == MAX_INLINE_SHEET_BYTES
    assert sheet_text(data) is not None


def test_a_small_image_travels_as_base64_with_its_type() -> None:
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    inline = inline_content("image", data, "image/png")
    assert inline is not None
    assert base64.b64decode(inline.data or "") == data
    assert (inline.text, inline.content_type) == (None, "image/png")


@pytest.mark.parametrize(
    ("kind", "data", "content_type"),
    [
        ("image", b"x" * (MAX_INLINE_IMAGE_BYTES + 1), "image/png"),  # a photo: fetched
        ("image", b"", "image/png"),  # an empty file mid-save is never shown
        ("image", b"<html>", "text/html"),  # not something a browser decodes as an image
        ("asset", b"{}", "application/json"),  # other files are reloaded, never sent
        ("css", b'@import "x.css";', "text/css"),
    ],
)
def test_what_is_not_sent_inline(kind: str, data: bytes, content_type: str) -> None:
    assert inline_content(kind, data, content_type) is None


def test_one_update_carries_at_most_its_budget_and_never_a_file_the_server_would_not_serve(tmp_path) -> None:
    from conftest import run_async
    from hotreload import DevServer
    from hotreload.inline import MAX_INLINE_BATCH_BYTES

    sheet = b".a { color: red }" + b" " * (100 * 1024)
    for name in ("one.css", "two.css", "three.css", ".hidden.css"):
        (tmp_path / name).write_bytes(sheet)
    (tmp_path / "small.css").write_bytes(b".b { color: blue }")
    os.mkfifo(tmp_path / "pipe.css")  # opening it would wait for a writer, forever

    async def plan_one_update() -> dict[str, bool]:
        server = DevServer(root=tmp_path)
        content_of = server._inline_contents()
        sent = {name: content_of("css", "/" + name) is not None
                for name in ("one.css", "two.css", "three.css", "small.css", ".hidden.css", "pipe.css")}
        await server.pages.close()
        return sent

    sent = run_async(plan_one_update())
    assert 2 * len(sheet) <= MAX_INLINE_BATCH_BYTES < 3 * len(sheet)
    assert sent == {
        "one.css": True, "two.css": True, "three.css": False, "small.css": True, ".hidden.css": False, "pipe.css": False,
    }
