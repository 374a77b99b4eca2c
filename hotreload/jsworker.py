"""A helper process that analyses one piece of a large module while this process analyses the other.

py-tree-sitter holds the GIL while it parses, so a thread cannot parse one
piece of a module while another thread parses the next; another process can.
One helper is started the first time a large module is analysed and serves one
piece at a time. While it is starting, busy or broken, callers get None and
parse the whole module themselves, so the helper only ever makes analysis
faster, never a condition for it.

The helper is a plain ``python -c`` subprocess that speaks length-prefixed
frames on its stdin and stdout, not a :mod:`multiprocessing` child: that would
re-run the parent's ``__main__`` script in the helper and start a resource
tracker process besides.

>>> wait_ready()  # the first submit() would start it and return None
True
>>> submit(b'export * from "./a.js";\\n').result()
(True, True, [(0, (('./a.js', 15, 21, 'export'),), 0)])
"""

from __future__ import annotations

import atexit
import marshal
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

import tree_sitter

if TYPE_CHECKING:
    from hotreload.jsscan import Finding

__all__ = ["Balance", "Pending", "PieceFacts", "analyse_piece", "balance", "serve", "submit", "wait_ready"]

# What the helper answers for a piece: whether it starts and ends cleanly (see
# hotreload.jssplit) and its findings (see hotreload.jsscan), offsets in the piece.
PieceFacts = tuple[bool, bool, list["Finding"]]

# How long the helper may take to start, or to take a piece in.
_TIMEOUT = 10.0
# How long an answer may take: the helper parses at several megabytes a second,
# and whoever waits for it (the server's event loop, serving a module) stands
# still meanwhile, so a helper that hangs is given up on within about a second.
_ANSWER_GRACE = 1.0
_ANSWER_SECONDS_PER_BYTE = 1e-6
# A helper that keeps failing (it cannot import tree-sitter, say) is given up on.
_MAX_FAILURES = 3
_READY = b"ready"
_BOOT = "from hotreload.jsworker import serve; serve()"


class Pending:
    """A piece the helper is analysing; :meth:`result` must be called once to free the helper."""

    def __init__(self, helper: _Helper, size: int) -> None:
        self._helper = helper
        self._deadline = time.monotonic() + _ANSWER_GRACE + size * _ANSWER_SECONDS_PER_BYTE
        self._done = False
        self.seconds: float | None = None  # how long the helper worked on it, once answered
        self.waited = 0.0  # how long result() waited for the answer to come

    def result(self) -> PieceFacts | None:
        """What :func:`analyse_piece` returned for the piece, or None if the helper failed."""
        if self._done:
            raise RuntimeError("the result of a piece is taken once")
        self._done = True
        helper = self._helper
        try:
            started = time.perf_counter()
            select.select([helper.from_helper], [], [], max(self._deadline - time.monotonic(), 0))
            self.waited = time.perf_counter() - started
            facts, self.seconds = marshal.loads(helper.receive(self._deadline))
            return facts  # type: ignore[no-any-return]
        except (OSError, EOFError, ValueError, TypeError):  # a timeout is an OSError too
            _give_up(helper)
            return None
        finally:
            helper.busy.release()


def submit(piece: bytes, key: int = 0) -> Pending | None:
    """Hand ``piece`` to the helper; None if no helper is free (then parse it yourself).

    With a ``key`` (a positive number), the helper keeps the piece's parse
    tree, so that the next piece sent under that key, an edited version of
    it, is re-parsed incrementally (see :func:`analyse_piece`).

    The first call starts the helper and returns None: it takes a moment to
    import tree-sitter, and nobody should wait for that.
    """
    helper = _ready_helper()
    if helper is None or not helper.busy.acquire(blocking=False):
        return None
    try:
        helper.send(key.to_bytes(8, "big") + piece)
    except OSError:  # a timeout too
        helper.busy.release()
        _give_up(helper)
        return None
    return Pending(helper, len(piece))


def wait_ready(timeout: float = 10.0) -> bool:
    """Start the helper if need be and wait until it serves (for benchmarks and tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _ready_helper() is not None:
            return True
        with _lock:
            if _helper is None and _failures >= _MAX_FAILURES:
                return False
        time.sleep(0.005)
    return False


class Balance:
    """The share of a module this process parses, so that it and the helper finish together.

    The helper's core is not always as fast as this one's (it may be busy with
    other work, or be a hyperthread of the same core), and its answer comes
    later than its work ends (waking up, pipes), so the share follows what
    recent modules took on each side, in seconds per byte, smoothed.

    >>> balance = Balance()
    >>> balance.share()
    0.5
    >>> balance.record(here=(50_000, 0.005), helper=(50_000, 0.006), waited=0.004)
    >>> round(balance.share(), 2)  # the answer came at 9 ms, this side was done at 5
    0.64
    """

    _SMOOTHING = 0.3
    _LOWEST, _HIGHEST = 0.3, 0.7

    def __init__(self) -> None:
        self.here: float | None = None  # seconds per byte, here
        self.helper: float | None = None  # seconds per byte in the helper, until its answer came
        self.delay = 0.0  # seconds from the end of the helper's work to its answer here
        # The last module cut: (bytes here, size, seconds here, seconds until the answer), for benchmarks.
        self.last: tuple[int, int, float, float] | None = None

    def share(self) -> float:
        """The fraction of the next module to parse here, between 0.3 and 0.7."""
        if not self.here or not self.helper:
            return 0.5
        return min(max(self.helper / (self.here + self.helper), self._LOWEST), self._HIGHEST)

    def record(self, here: tuple[int, float], helper: tuple[int, float], waited: float) -> None:
        """How long each side worked on how many bytes, and how long this side then waited."""
        (here_bytes, here_seconds), (helper_bytes, worked) = here, helper
        if waited > 1e-4:  # the answer came then: how late it was is known
            answered = here_seconds + waited
            self.delay += self._SMOOTHING * (answered - worked - self.delay)
        else:  # it was waiting already
            answered = worked + self.delay
        self.last = (here_bytes, here_bytes + helper_bytes, here_seconds, answered)
        here_rate, helper_rate = here_seconds / max(here_bytes, 1), answered / max(helper_bytes, 1)
        if self.here is None or self.helper is None:
            self.here, self.helper = here_rate, helper_rate
        else:
            self.here += self._SMOOTHING * (here_rate - self.here)
            self.helper += self._SMOOTHING * (helper_rate - self.helper)


balance = Balance()


# --------------------------------------------------------------------------- this process's side


class _Helper:
    def __init__(self) -> None:
        # The helper imports this very package, wherever it was imported from here.
        package_root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.to_helper = self.process.stdin.fileno()
        self.from_helper = self.process.stdout.fileno()
        self.owner = os.getpid()
        self.ready = False
        self.busy = threading.Lock()

    def poll_ready(self) -> bool:
        """Whether the helper has said it is ready, without waiting for it."""
        if not self.ready and select.select([self.from_helper], [], [], 0)[0]:
            self.ready = self.receive(time.monotonic() + _TIMEOUT) == _READY
            if not self.ready:
                raise ValueError("the helper did not start as expected")
        return self.ready

    def send(self, payload: bytes) -> None:
        _write_frame(self.to_helper, payload, time.monotonic() + _TIMEOUT)

    def receive(self, deadline: float) -> bytes:
        return _read_frame(self.from_helper, deadline)

    def close(self, *, kill: bool) -> None:
        """Stop the helper: at once if it failed, else by closing its stdin (it then leaves)."""
        if kill:
            self.process.kill()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        try:
            self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_lock = threading.Lock()
_helper: _Helper | None = None
_failures = 0


def _ready_helper() -> _Helper | None:
    global _helper, _failures
    if os.name != "posix" or not sys.executable:
        return None  # select() on pipes is POSIX-only; elsewhere modules are parsed whole
    with _lock:
        helper = _helper
        if helper is not None and helper.owner != os.getpid():
            helper = _helper = None  # a forked child: the pipes belong to its parent
        if helper is None:
            if _failures < _MAX_FAILURES:
                try:
                    _helper = _Helper()
                except OSError:
                    _failures += 1
            return None
        try:
            if helper.poll_ready():
                return helper
            return None
        except (OSError, EOFError, ValueError):
            pass
    _give_up(helper)
    return None


def _give_up(helper: _Helper) -> None:
    global _helper, _failures
    with _lock:
        if _helper is helper:
            _helper = None
            _failures += 1
    helper.close(kill=True)


@atexit.register
def _stop() -> None:
    with _lock:
        helper = _helper
    if helper is not None and helper.owner == os.getpid():
        helper.close(kill=False)


def _write_frame(fd: int, payload: bytes, deadline: float | None) -> None:
    data = memoryview(len(payload).to_bytes(4, "big") + payload)
    while data:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([], [fd], [], wait)[1]:
                raise TimeoutError("the helper did not read in time")
        data = data[os.write(fd, data) :]


def _read_frame(fd: int, deadline: float | None) -> bytes:
    size = int.from_bytes(_read_exactly(fd, 4, deadline), "big")
    return _read_exactly(fd, size, deadline)


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    while size:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise TimeoutError("the helper did not answer in time")
        chunk = os.read(fd, size)
        if not chunk:
            raise EOFError("the helper closed its pipe")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


# --------------------------------------------------------------------------- the helper's side


def analyse_piece(piece: bytes, key: int = 0) -> PieceFacts:
    """What the helper answers for a piece of a module: (starts_cleanly, ends_cleanly, findings).

    With a ``key``, the piece's tree is kept (for the last few keys), and the
    next piece under the same key is taken for an edited version of it: only
    what changed is parsed and scanned again.

    >>> analyse_piece(b'let a = f()\\nexport * from "./a.js";\\n', key=7)
    (True, True, [(12, (('./a.js', 27, 33, 'export'),), 0)])
    >>> analyse_piece(b'let a = f()\\nexport * from "./b.js";\\n', key=7)  # edited
    (True, True, [(12, (('./b.js', 27, 33, 'export'),), 0)])
    """
    from hotreload import jsparse, jssplit  # only the helper parses here

    kept = _kept.pop(key, None) if key else None
    if kept is None:
        tree, findings = jsparse._parse_and_scan(piece)
    else:
        tree, findings = jsparse._rescan_edited(*kept, piece)
    if key:
        _kept[key] = (piece, tree, findings)
        while len(_kept) > _KEPT:
            _kept.popitem(last=False)
    return jssplit.starts_cleanly(tree), jssplit.ends_cleanly(piece, tree), findings


# The pieces whose trees the helper keeps, by key: (source, tree, findings).
_KEPT = 32
_kept: OrderedDict[int, tuple[bytes, tree_sitter.Tree, list[Finding]]] = OrderedDict()


def serve() -> None:
    """The helper's loop: read a piece, answer with :func:`analyse_piece`; leave when stdin closes."""
    # Ctrl-C in a terminal reaches the whole process group: the server stops
    # itself, and this helper with it (its stdin closes), without a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    analyse_piece(b"")  # import and set up before saying it is ready
    # Frames go to a private copy of stdout; anything printed goes to stderr instead.
    answers = os.dup(1)
    os.dup2(2, 1)
    try:
        _write_frame(answers, _READY, None)
        while True:
            request = _read_frame(0, None)
            started = time.perf_counter()
            facts = analyse_piece(request[8:], int.from_bytes(request[:8], "big"))
            _write_frame(answers, marshal.dumps((facts, time.perf_counter() - started)), None)
    except (EOFError, BrokenPipeError):
        # The server closed its end: it is stopping, or it left before this
        # helper was ready (a short-lived script that analysed one module).
        return
