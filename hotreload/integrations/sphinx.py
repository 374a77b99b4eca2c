"""Warm, incremental Sphinx builds inside the server's process.

``sphinx-build`` (and sphinx-autobuild, which runs it once per change) pays
for starting Python, importing Sphinx and its extensions, reading ``conf.py``
and unpickling the environment on every build. :class:`SphinxBuilder` keeps one
:class:`sphinx.application.Sphinx` alive instead, so a rebuild after an edit
only re-reads the changed documents and writes the pages that depend on them.

Example::

    build = SphinxBuilder("docs", "docs/_build/html", fail_on_warning=True)
    build([])                           # the first, full build
    build([Path("docs/index.rst")])     # after an edit: only what changed
    build.close()
"""

from __future__ import annotations

import contextlib
import io
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import BuildFailed
from ..ansi import strip_ansi
from .locations import display

__all__ = ["SphinxBuilder"]

# The levels Sphinx writes its problems with.
_LEVELS = ("WARNING", "ERROR", "CRITICAL", "SEVERE")
# How long close() waits for a build running in another thread.
_CLOSE_WAIT = 60.0


class _WarningStream(io.TextIOBase):
    """Where Sphinx writes its warnings: kept for the build's error message,
    and passed on line by line (e.g. to the terminal)."""

    def __init__(self, echo: Callable[[str], None] | None) -> None:
        super().__init__()
        self._echo = echo
        self._chunks: list[str] = []

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._chunks.append(text)
        if self._echo is not None:
            for line in strip_ansi(text).splitlines():
                if line.strip():
                    try:
                        self._echo(line)
                    except Exception:
                        pass  # a broken printer must not break the build
        return len(text)

    def take(self) -> list[str]:
        """The non-empty warning lines written since the last call, colours removed."""
        text = strip_ansi("".join(self._chunks))
        self._chunks.clear()
        return [line for line in text.splitlines() if line.strip()]


def _split_location(line: str) -> tuple[str | None, int | None, str]:
    """``/docs/a.rst:12: ERROR: text`` -> (``/docs/a.rst``, 12, ``ERROR: text``)."""
    for level in _LEVELS:
        marker = f": {level}: "
        location, found, text = line.partition(marker)
        if not found:
            continue
        path, _, number = location.rpartition(":")
        if path and number.isdigit():
            return path, int(number), f"{level}: {text}"
        return location or None, None, f"{level}: {text}"
    return None, None, line


def _describe(exc: BaseException) -> str:
    """One line naming a build exception the way sphinx-build does."""
    from docutils.utils import SystemMessage
    from sphinx.errors import SphinxError

    if isinstance(exc, SphinxError):
        return f"{exc.category}: {exc}"
    if isinstance(exc, SystemMessage):
        return f"reStructuredText markup error: {exc}"
    return f"{type(exc).__name__}: {exc}"


class SphinxBuilder:
    """Builds a Sphinx project, keeping the application (extensions, config,
    environment) in memory between builds.

    Call it with the list of changed paths: ``[]`` builds whatever is out of
    date (everything, the first time). A change to ``conf.py`` starts a fresh
    application; a changed Python module is dropped from ``sys.modules`` so
    that autodoc imports its new version. A failed build raises
    :class:`hotreload.build.BuildFailed` whose message is Sphinx's own (the
    exception, or with ``fail_on_warning`` the first warning) and whose output
    holds every warning of that build.

    The arguments mirror ``sphinx-build``: ``builder`` (``-b``), ``confdir``
    (``-c``; None means the source folder), ``doctreedir`` (``-d``, default
    ``OUTDIR/.doctrees``), ``confoverrides`` (``-D``/``-A``), ``tags`` (``-t``),
    ``jobs`` (``-j``, for the first build), ``fail_on_warning`` (``-W``),
    ``fresh_env`` (``-E``, for the first build), ``write_all`` (``-a``, every
    build), ``verbosity`` (``-v``), ``status`` (where progress goes; None for
    quiet) and ``on_warning`` (given each warning line; None for quiet).

    Sphinx keeps its registries in process-wide state: use one builder per
    process, and call it from one thread at a time.

    >>> builder = SphinxBuilder("docs", "_build/html", fail_on_warning=True)
    >>> builder.outdir.name
    'html'
    """

    def __init__(
        self,
        sourcedir: str | Path,
        outdir: str | Path,
        *,
        builder: str = "html",
        confdir: str | Path | None = None,
        doctreedir: str | Path | None = None,
        confoverrides: Mapping[str, Any] | None = None,
        tags: Sequence[str] = (),
        jobs: int = 1,
        fail_on_warning: bool = False,
        fresh_env: bool = False,
        write_all: bool = False,
        verbosity: int = 0,
        show_traceback: bool = False,
        status: io.TextIOBase | Any | None = None,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self.sourcedir = Path(sourcedir).resolve()
        self.outdir = Path(outdir).resolve()
        self.confdir = Path(confdir).resolve() if confdir is not None else self.sourcedir
        self.doctreedir = Path(doctreedir).resolve() if doctreedir is not None else self.outdir / ".doctrees"
        self.builder_name = builder
        self.confoverrides = dict(confoverrides or {})
        self.tags = list(tags)
        self.jobs = jobs
        self.fail_on_warning = fail_on_warning
        self.fresh_env = fresh_env
        self.write_all = write_all
        self.verbosity = verbosity
        self.show_traceback = show_traceback
        self._status = status
        self._warnings = _WarningStream(on_warning)
        self._app: Any = None
        self._contexts: contextlib.ExitStack | None = None
        self._app_builds = 0  # builds run by the current application
        # Held while building: close() from another thread waits for the build.
        self._lock = threading.RLock()
        self.builds = 0  # finished builds, failed or not
        self.app_starts = 0  # times a Sphinx application was created

    def __repr__(self) -> str:
        return f"Sphinx {self.builder_name} build of {display(self.sourcedir)}"

    @property
    def conf_file(self) -> Path:
        return self.confdir / "conf.py"

    def ignored_paths(self) -> list[Path]:
        """Folders the build writes to, which must never count as source changes."""
        return [self.outdir, self.doctreedir]

    def __call__(self, changed: Iterable[Path]) -> None:
        """Build after ``changed`` paths changed (``[]``: whatever is out of date)."""
        changed = [Path(path) for path in changed]
        with self._lock:
            self._build_for(changed)

    def close(self) -> None:
        """Drop the application and leave Sphinx's process-wide registries as they
        were; waits for a build running in another thread to end first."""
        if not self._lock.acquire(timeout=_CLOSE_WAIT):
            return  # a build that does not end: better leave it alone
        try:
            self._app = None
            if self._contexts is not None:
                contexts, self._contexts = self._contexts, None
                contexts.close()
        finally:
            self._lock.release()

    # -- internals ---------------------------------------------------------

    def _build_for(self, changed: list[Path]) -> None:
        try:
            if self._app is not None and self._needs_new_app(changed):
                self.close()
            self._forget_modules(changed)
            if self._app is None:
                self._start_app()
            self._build()
        finally:
            self.builds += 1

    def _needs_new_app(self, changed: list[Path]) -> bool:
        # conf.py is only read when the application starts.
        conf = self.conf_file
        return any(_same_file(path, conf) for path in changed)

    def _forget_modules(self, changed: list[Path]) -> None:
        """Make autodoc see edited Python modules: a warm process still holds the
        old ones in ``sys.modules``. Sphinx notices the documents to re-read on
        its own, from the dependencies autodoc recorded."""
        edited = {path.resolve() for path in changed if path.suffix == ".py" and path != self.conf_file}
        if not edited:
            return
        for name, module in list(sys.modules.items()):
            location = getattr(module, "__file__", None)
            if location and Path(location).resolve() in edited:
                del sys.modules[name]

    def _start_app(self) -> None:
        from sphinx.application import Sphinx
        from sphinx.util.docutils import docutils_namespace, patch_docutils

        self._warnings.take()
        contexts = contextlib.ExitStack()
        # Directives and roles registered by Sphinx live in docutils' module
        # globals; these contexts scope them to this application's whole life.
        contexts.enter_context(patch_docutils(self.confdir))
        contexts.enter_context(docutils_namespace())
        try:
            self._app = Sphinx(
                srcdir=self.sourcedir,
                confdir=self.confdir,
                outdir=self.outdir,
                doctreedir=self.doctreedir,
                buildername=self.builder_name,
                confoverrides=dict(self.confoverrides),
                status=self._status,
                warning=self._warnings,
                freshenv=self.fresh_env and self.app_starts == 0,
                warningiserror=self.fail_on_warning,
                tags=self.tags,
                verbosity=self.verbosity,
                parallel=self.jobs,
            )
        except BaseException as exc:
            contexts.close()
            if not isinstance(exc, Exception):
                raise
            self._fail(exc)
        self._contexts = contexts
        self._app_builds = 0
        self.app_starts += 1

    def _build(self) -> None:
        app = self._app
        # A warm application never resets these: once a warning made a build
        # fail, every later build would fail too, even after the fix.
        app.statuscode = 0
        app._warncount = 0
        if self._app_builds > 0:
            # Parallel workers are forked from the application: in a warm one,
            # a later parallel write renders the previous version of an edited
            # page. The first build (all pages) runs in parallel; rebuilds
            # touch a few pages, where forking would not pay anyway.
            app.parallel = 1
        self._app_builds += 1
        try:
            app.build(force_all=self.write_all)
        except Exception as exc:
            # Sphinx already deleted its pickled environment; the one in memory
            # may be half updated, so the next build starts a new application.
            self.close()
            self._fail(exc)
        warnings = self._warnings.take()
        if app.statuscode != 0:
            self._fail_on_warnings(warnings, getattr(app, "_warncount", 0))

    def _fail(self, exc: Exception) -> None:
        warnings = self._warnings.take()
        message = _describe(exc)
        output = list(warnings)
        if self.show_traceback:
            output.append("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip())
        raise BuildFailed(message, output="".join(line + "\n" for line in output)) from exc

    def _fail_on_warnings(self, warnings: list[str], count: int) -> None:
        problems = [entry for entry in warnings if any(f"{level}:" in entry for level in _LEVELS)] or warnings
        count = count or len(problems)
        first = problems[0] if problems else "the build reported a problem"
        path, lineno, text = _split_location(first)
        where = f"{path}:{lineno}: " if path and lineno else f"{path}: " if path else ""
        summary = f"{count} warning{'s' if count != 1 else ''} treated as errors"
        raise BuildFailed(
            f"{where}{text} ({summary})", output="".join(entry + "\n" for entry in warnings), file=path, line=lineno
        )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False
