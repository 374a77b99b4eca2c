"""Commands run before and after each build, as sphinx-autobuild's
``--pre-build`` and ``--post-build`` do.

Example::

    build = with_commands(SphinxBuilder("docs", "_build"), pre=["python gen_api.py"],
                          post=["touch _build/.done"])
    build([Path("docs/index.rst")])
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from .. import BuildFailed
from ..ansi import strip_ansi

__all__ = ["run_command", "with_commands"]

Build = Callable[[list[Path]], None]


def run_command(
    command: str, *, stage: str, cwd: Path | None = None, echo: Callable[[str], None] | None = None,
    timeout: float | None = None,
) -> None:
    """Run ``command`` (split like a shell would, run without one); BuildFailed
    naming the ``stage`` and carrying the command's output if it fails.

    >>> run_command("true", stage="pre-build")
    """
    argv = shlex.split(command)
    if not argv:
        return
    try:
        completed = subprocess.run(
            argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=timeout, check=False,
        )
    except FileNotFoundError:
        raise BuildFailed(f"{stage} command not found: {argv[0]}") from None
    except PermissionError:
        raise BuildFailed(f"{stage} command not executable: {argv[0]}") from None
    except subprocess.TimeoutExpired as exc:
        output = strip_ansi((exc.output or b"").decode("utf-8", "replace"))
        raise BuildFailed(f"{stage} command timed out after {timeout:g} s: {command}", output=output) from None
    output = strip_ansi(completed.stdout.decode("utf-8", "replace"))
    if echo is not None:
        for line in output.splitlines():
            echo(line)
    if completed.returncode != 0:
        raise BuildFailed(f"{stage} command exited with status {completed.returncode}: {command}", output=output)


class _BuildWithCommands:
    def __init__(
        self, build: Build, pre: Sequence[str], post: Sequence[str], cwd: Path | None,
        echo: Callable[[str], None] | None, timeout: float | None,
    ) -> None:
        self.build = build
        self.pre = list(pre)
        self.post = list(post)
        self._cwd = cwd
        self._echo = echo
        self._timeout = timeout

    def __call__(self, changed: Iterable[Path]) -> None:
        for command in self.pre:
            run_command(command, stage="pre-build", cwd=self._cwd, echo=self._echo, timeout=self._timeout)
        self.build(list(changed))
        for command in self.post:
            run_command(command, stage="post-build", cwd=self._cwd, echo=self._echo, timeout=self._timeout)

    def __repr__(self) -> str:
        return repr(self.build)


def with_commands(
    build: Build, *, pre: Sequence[str] = (), post: Sequence[str] = (), cwd: Path | None = None,
    echo: Callable[[str], None] | None = None, timeout: float | None = None,
) -> Build:
    """``build`` preceded by the ``pre`` commands and, when it succeeded, followed
    by the ``post`` commands. A failing command fails the build: the steps after
    it do not run. Without commands, ``build`` itself is returned.

    >>> calls = []
    >>> with_commands(calls.append, pre=["true"])([Path("a.rst")]) or calls
    [[PosixPath('a.rst')]]
    """
    if not pre and not post:
        return build
    return _BuildWithCommands(build, pre, post, cwd, echo, timeout)
