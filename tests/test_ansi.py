"""Specification of hotreload.ansi: terminal escape codes removed, text kept exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotreload.ansi import strip_ansi


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\x1b[31mred\x1b[0m plain", "red plain"),
        ("\x1b[38;2;255;0;0mtruecolor\x1b[m", "truecolor"),
        ("\x1b[?25lhidden cursor\x1b[?25h", "hidden cursor"),
        ("50%\x1b[2K\x1b[1G100%", "50%100%"),
        ("\x1b]8;;https://example.org\x07link\x1b]8;;\x07", "link"),
        ("\x1b]8;id=1;https://example.org\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("\x1b]0;window title\x07text", "text"),
        ("\x1bPdevice control\x1b\\text", "text"),
        ("\x1b7saved\x1b8", "saved"),
        ("\x1b(Bcharset\x1b=keypad\x1bcreset", "charsetkeypadreset"),
        ("\x9b1mC1 CSI\x9b0m", "C1 CSI"),
        ("cut short \x1b[1;3", "cut short "),
        ("unterminated \x1b]8;;https://example.org", "unterminated "),
        ("lone escape at the end \x1b", "lone escape at the end "),
        ("tabs\tand\r\ncarriage returns stay", "tabs\tand\r\ncarriage returns stay"),
        ("ünïcödé ✓", "ünïcödé ✓"),
    ],
)
def test_strip_ansi_removes_escape_codes_and_keeps_text(text: str, expected: str) -> None:
    assert strip_ansi(text) == expected


_ESCAPE_FREE = st.text(st.characters(blacklist_characters="\x1b", blacklist_categories=("Cc", "Cs")))


@given(_ESCAPE_FREE)
def test_strip_ansi_leaves_text_without_escape_codes_alone(text: str) -> None:
    assert strip_ansi(text) == text


@given(st.lists(st.one_of(_ESCAPE_FREE, st.sampled_from(["\x1b[1;32m", "\x1b[0m", "\x1b]8;;u\x07", "\x1b]8;;\x1b\\", "\x1bc"]))))
def test_strip_ansi_keeps_exactly_the_text_between_escape_codes(parts: list[str]) -> None:
    expected = "".join(part for part in parts if "\x1b" not in part)
    assert strip_ansi("".join(parts)) == expected


@given(st.text())
def test_strip_ansi_output_has_no_escape_character_and_is_stable(text: str) -> None:
    stripped = strip_ansi(text)
    assert "\x1b" not in stripped
    assert strip_ansi(stripped) == stripped
