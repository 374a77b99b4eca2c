"""What the error overlay says about a failed build, and which error is up."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from hotreload.build import BuildResult
from hotreload.failures import ErrorBoard, Location, error_for_result, find_location, reason, tail
from hotreload.protocol import BuildError


def failed(output: str = "", **fields: object) -> BuildResult:
    values: dict[str, object] = {"ok": False, "exit_code": 1, "output": output, "duration": 0.5, "command": "make html"}
    values.update(fields)
    return BuildResult(**values)  # type: ignore[arg-type]


def test_a_non_zero_exit_names_the_command_and_its_status() -> None:
    error = error_for_result(failed("oops\n", exit_code=2))
    assert (error.title, error.message, error.output) == ("Build failed", "make html exited with status 2", "oops\n")
    assert reason(failed(exit_code=2)) == "exit status 2"


def test_a_timeout_and_a_signal_say_so() -> None:
    timed_out = failed(exit_code=-15, timed_out=True, error="timed out after 5 s")
    assert error_for_result(timed_out).message == "make html timed out after 5 s (its processes were stopped)"
    assert reason(timed_out) == "timed out after 5 s, stopped"
    killed = failed(exit_code=-9)
    assert error_for_result(killed).message == "make html was killed by SIGKILL"
    assert reason(killed) == "killed by SIGKILL"


def test_a_callable_that_raised_or_a_command_that_could_not_start_shows_why() -> None:
    raised = failed("Traceback ...\nValueError: bad\n", exit_code=None, error="ValueError: bad", command="build()")
    assert error_for_result(raised).message == "ValueError: bad"
    missing = failed(exit_code=None, error="command not found: sphinx-biuld")
    assert error_for_result(missing).message == "command not found: sphinx-biuld"


def test_escape_codes_are_removed_and_a_long_output_keeps_its_end() -> None:
    lines = [f"\x1b[2mline {i}\x1b[0m" for i in range(1000)]
    error = error_for_result(failed("\n".join(lines) + "\n"))
    shown = error.output.splitlines()
    assert shown[0] == "[800 earlier lines not shown]"
    assert shown[1] == "line 800" and shown[-1] == "line 999"
    assert "\x1b" not in error.output


@given(st.text(), st.integers(min_value=1, max_value=50), st.integers(min_value=1, max_value=500))
def test_a_tail_is_bounded_and_is_the_end_of_the_text(text: str, lines: int, chars: int) -> None:
    kept = tail(text, max_lines=lines, max_chars=chars)
    body = kept.split("\n", 1)[1] if kept.startswith("[") and " not shown]\n" in kept else kept
    assert len(body.splitlines()) <= lines
    original = "".join(line + "\n" for line in text.splitlines())
    assert original.endswith(body.removeprefix("…")) or body == ""


def test_the_first_existing_file_and_line_in_the_output_is_the_location(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.rst").write_text("x")
    output = (
        "Running Sphinx\n"
        "missing.rst:3: not a file here\n"
        "\x1b[31mdocs/index.rst:12:4: ERROR: Unknown directive\x1b[0m\n"
        "docs/index.rst:30: WARNING: later\n"
    )
    assert find_location(output, tmp_path) == Location("docs/index.rst", 12, 4)
    assert error_for_result(failed(output), tmp_path).file == "docs/index.rst"


def test_a_terminal_hyperlink_around_the_location_is_read_as_plain_text(tmp_path: Path) -> None:
    source = tmp_path / "page.md"
    source.write_text("x")
    output = f"error: \x1b]8;;file://{source}\x07{source}:7\x1b]8;;\x07: bad front matter\n"
    assert find_location(output, tmp_path) == Location(str(source), 7, None)


def test_without_file_line_mentions_the_innermost_own_python_frame_is_used(tmp_path: Path) -> None:
    build = tmp_path / "build.py"
    build.write_text("x")
    library = Path(sys.modules["json"].__file__ or "")
    output = (
        "Traceback (most recent call last):\n"
        f'  File "{build}", line 9, in build\n'
        f'  File "{library}", line 100, in loads\n'
        "ValueError: bad\n"
    )
    assert find_location(output, tmp_path) == Location(str(build), 9)


def test_a_location_given_by_the_build_wins() -> None:
    result = failed("see docs/x.rst:1\n", file="conf.py", line=4, column=2)
    error = error_for_result(result)
    assert (error.file, error.line, error.column) == ("conf.py", 4, 2)


def test_the_board_shows_the_latest_error_and_the_previous_one_when_it_goes() -> None:
    shown: list[BuildError | None] = []
    board = ErrorBoard(shown.append)
    docs, theme = BuildError("Build failed", "docs"), BuildError("Build failed", "theme")
    board.set("docs", docs)
    board.set("theme", theme)
    assert board.current is theme
    board.clear("theme")
    assert shown[-1] is docs and board.current is docs
    board.clear("theme")  # nothing up for it: nothing happens
    assert len(shown) == 3
    board.clear_all()
    assert shown[-1] is None and board.current is None and board.ever_shown
