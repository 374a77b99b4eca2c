"""Specification of the helper process that analyses the tail of large modules."""

from __future__ import annotations

import os
import signal
import time

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hotreload import jsparse, jsworker
from hotreload.jsparse import analyse

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the helper is used on POSIX systems only")

EDITS = ['import "./new.js";\n', "/*", "*/", "`", "{", "}", "(", "\n", 'export * from "./re.js";\n', "import.meta.hot"]
TAIL = b'export * from "./a.js";\nconst b = () => import(`./b.js`); // import "./no.js"\nimport.meta.hot.accept();\n'


@pytest.fixture
def helper(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests that break the helper must not use up its restarts for the rest of the run.
    monkeypatch.setattr(jsworker, "_failures", 0)
    assert jsworker.wait_ready()


def large_module() -> bytes:
    return f"// {time.time_ns()}\n".encode() + b"".join(
        b'import { a%d } from "./m%d.js";\nexport const f%d = () => import("./lazy%d.js");\n' % (i, i, i, i)
        for i in range(1000)
    )


def test_the_helper_answers_what_the_piece_means_here(helper: None) -> None:
    pending = jsworker.submit(TAIL)
    assert pending is not None
    assert pending.result() == jsworker.analyse_piece(TAIL)
    starts_cleanly, ends_cleanly, findings = jsworker.analyse_piece(TAIL)
    assert starts_cleanly and ends_cleanly
    assert findings == [
        (0, (("./a.js", 15, 21, "export"),), 0),
        (40, (("./b.js", 48, 54, "dynamic"),), 0),
        (78, (), jsparse.USES_HOT | jsparse.ACCEPTS_SELF),
    ]


def test_a_busy_helper_is_not_waited_for(helper: None) -> None:
    first = jsworker.submit(large_module())
    assert first is not None
    assert jsworker.submit(TAIL) is None  # the caller parses it itself
    assert first.result() is not None
    second = jsworker.submit(TAIL)
    assert second is not None and second.result() is not None


def test_a_large_module_is_analysed_in_two_pieces_by_the_helper(helper: None) -> None:
    source = large_module()
    name = f"/helped-{time.time_ns()}.js"
    info = analyse(source, name=name)
    pieces = jsparse._versions[name].pieces
    assert len(pieces) == 2 and [piece.tree is None for piece in pieces].count(True) == 1
    assert info == jsparse._analyse_whole(source)
    assert len(info.imports) == 2000
    # Edits in the piece the helper parsed go to the helper, which kept its tree.
    helped = next(piece for piece in pieces if piece.tree is None)
    for edit in (b"/* edit */", b'import "./new.js";\n', b"const x = 1;\n"):
        at = source.find(b"\n", helped.start + 1) + 1  # a line start, in that piece
        source = source[:at] + edit + source[at:]
        assert analyse(source, name=name) == jsparse._analyse_whole(source)
        pieces = jsparse._versions[name].pieces
        assert len(pieces) == 2 and [piece.tree is None for piece in pieces].count(True) == 1


def test_an_edit_to_the_helpers_piece_is_parsed_here_while_the_helper_is_busy(helper: None) -> None:
    source = large_module()
    name = f"/busy-{time.time_ns()}.js"
    analyse(source, name=name)
    helped = next(piece for piece in jsparse._versions[name].pieces if piece.tree is None)
    busy = jsworker.submit(large_module())
    assert busy is not None
    try:
        at = source.find(b"\n", helped.start + 1) + 1
        source = source[:at] + b"/* edit */" + source[at:]
        assert analyse(source, name=name) == jsparse._analyse_whole(source)
        assert all(piece.tree is not None for piece in jsparse._versions[name].pieces)
    finally:
        busy.result()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.integers(0, 30), st.sampled_from(EDITS)), min_size=1, max_size=5))
# An unclosed template, then its closing backtick: re-parsing the broken tree recovered otherwise.
@example([(0.18359375, 0, "`"), (0.46875, 0, "`")])
def test_a_kept_piece_edited_is_analysed_as_if_fresh(edits: list[tuple[float, int, str]]) -> None:
    piece = large_module()[:20_000]
    key = time.time_ns()
    jsworker.analyse_piece(piece, key)
    for where, removed, inserted in edits:
        at = int(where * len(piece))
        piece = piece[:at] + inserted.encode() + piece[at + removed :]
        assert jsworker.analyse_piece(piece, key) == jsworker.analyse_piece(piece)


def test_the_helper_keeps_the_last_pieces_only() -> None:
    first = time.time_ns()
    for key in range(first, first + jsworker._KEPT + 1):
        jsworker.analyse_piece(b"export const a = 1;\n", key)
    assert first not in jsworker._kept and first + jsworker._KEPT in jsworker._kept


def test_analysis_goes_on_when_the_helper_dies_and_a_new_one_is_started(helper: None) -> None:
    dead = jsworker._helper
    assert dead is not None
    dead.process.kill()
    dead.process.wait()
    source = large_module()
    assert analyse(source) == jsparse._analyse_whole(source)
    assert jsworker.wait_ready()
    assert jsworker._helper is not dead
    pending = jsworker.submit(TAIL)
    assert pending is not None and pending.result() == jsworker.analyse_piece(TAIL)


def test_a_helper_that_stops_answering_is_replaced(helper: None) -> None:
    stuck = jsworker._helper
    assert stuck is not None
    os.kill(stuck.process.pid, signal.SIGSTOP)
    source = large_module()
    started = time.monotonic()
    assert analyse(source) == jsparse._analyse_whole(source)  # after waiting for it a moment
    # The server's loop waits with it: a hung helper must cost a moment, not seconds.
    assert time.monotonic() - started < 5.0
    assert stuck.process.poll() is not None  # killed
    assert jsworker.wait_ready() and jsworker._helper is not stuck


def test_a_helper_that_keeps_failing_is_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsworker, "_helper", None)
    monkeypatch.setattr(jsworker, "_failures", 0)
    monkeypatch.setattr(jsworker, "_BOOT", "raise SystemExit(3)")
    assert not jsworker.wait_ready(timeout=30)
    assert jsworker._failures == jsworker._MAX_FAILURES
    assert jsworker.submit(TAIL) is None
    source = large_module()
    assert analyse(source) == jsparse._analyse_whole(source)


def test_frames_keep_their_bytes_and_a_silent_peer_times_out() -> None:
    read_end, write_end = os.pipe()
    try:
        payload = bytes(range(256)) * 4
        jsworker._write_frame(write_end, payload, time.monotonic() + 5)
        assert jsworker._read_frame(read_end, time.monotonic() + 5) == payload
        with pytest.raises(TimeoutError):
            jsworker._read_frame(read_end, time.monotonic() + 0.05)
        os.close(write_end)
        write_end = -1
        with pytest.raises(EOFError):
            jsworker._read_frame(read_end, time.monotonic() + 5)
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


def test_ctrl_c_in_the_terminal_leaves_the_helper_to_its_server(tmp_path) -> None:
    # Ctrl-C reaches every process of the terminal's group: the helper must not
    # die with a traceback of its own, but leave once its server closes its stdin.
    import subprocess
    import sys

    stderr = (tmp_path / "stderr").open("w+b")
    process = subprocess.Popen([sys.executable, "-c", jsworker._BOOT], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=stderr)
    assert process.stdout is not None and process.stdin is not None
    assert process.stdout.read(1)  # the ready frame has begun: its handlers are in place
    process.send_signal(signal.SIGINT)
    with pytest.raises(subprocess.TimeoutExpired):
        process.wait(0.3)  # a helper that took the signal would be gone by now
    process.stdin.close()
    assert process.wait(10) == 0
    stderr.seek(0)
    assert b"Traceback" not in stderr.read()


def test_a_script_that_leaves_before_the_helper_is_ready_gets_no_traceback_from_it(tmp_path) -> None:
    # The first large module starts the helper; a script that analyses one and
    # exits at once closes the pipes before the helper can say it is ready.
    import subprocess
    import sys

    script = (
        "from hotreload.jsparse import analyse\n"
        "analyse(b''.join(b'export const a%d = %d;\\n' % (i, i) for i in range(3000)))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    # The helper shares the script's stderr, and run() reads it to its end,
    # which comes once the helper has left too: whatever it printed is here.
    assert b"Traceback" not in result.stderr, result.stderr.decode()
