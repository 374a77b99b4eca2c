"""Specification of error positions and code frames."""

from __future__ import annotations

from hotreload.codeframe import code_frame, syntax_error_position


def test_a_frame_shows_two_lines_around_the_error_and_a_caret() -> None:
    text = "\n".join(f"line {n}" for n in range(1, 10))
    assert code_frame(text, 5, 3) == (
        "  3 | line 3\n  4 | line 4\n> 5 | line 5\n    |   ^\n  6 | line 6\n  7 | line 7"
    )


def test_line_numbers_are_padded_to_the_widest() -> None:
    text = "\n".join(f"x{n}" for n in range(1, 12))
    assert code_frame(text, 10, 1, context=1).splitlines() == [
        "   9 | x9",
        "> 10 | x10",
        "     | ^",
        "  11 | x11",
    ]


def test_a_line_outside_the_text_gives_no_frame() -> None:
    assert code_frame("one line", 3, 1) == ""


def test_an_unexpected_token_is_pointed_at() -> None:
    assert syntax_error_position(b"const a = 1;\nconst b = ;\n") == (2, 11)


def test_a_missing_token_is_pointed_at_where_it_should_be() -> None:
    assert syntax_error_position(b"function f() {\n  return 1 +;\n}\n") == (2, 13)


def test_columns_count_characters_not_bytes() -> None:
    assert syntax_error_position('const s = "héllo"; const b = ;'.encode()) == (1, 30)


def test_valid_modules_and_tricky_literals_have_no_syntax_error() -> None:
    source = b"const re = /[/]import(/g; const t = `${`a${1}`}`; export default re;"
    assert syntax_error_position(source) is None
