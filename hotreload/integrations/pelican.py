"""Pelican builds through Pelican's Python API, in the server's process.

Pelican's own ``--autoreload`` keeps one :class:`pelican.Pelican` and calls
``run()`` after each change; :class:`PelicanBuilder` does the same, with the
content cache on (unchanged sources are not parsed again), a new instance when
the settings file changes, and problems that Pelican only logs (an article
without a title is skipped with an error) turned into a failed build, so that
they show in the browser instead of scrolling by in a terminal.

Example::

    build = PelicanBuilder("pelicanconf.py")
    build([])                                    # first build, into build.output_path
    build([Path("content/first-post.md")])       # after an edit
    build.close()
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .. import BuildFailed
from .capture import LogCapture
from .locations import display, inside, installed_package_dirs

__all__ = ["PelicanBuilder"]

_FATAL_LEVELS = {"errors": logging.ERROR, "warnings": logging.WARNING}



@contextlib.contextmanager
def _console_quiet(quiet: bool) -> Iterator[None]:
    """Pelican prints a "Done: processed N articles" summary after every run."""
    from pelican.log import console

    before = console.quiet
    console.quiet = quiet
    try:
        yield
    finally:
        console.quiet = before


class PelicanBuilder:
    """Builds a Pelican site, keeping the :class:`pelican.Pelican` instance between builds.

    ``settings_file`` is the ``pelicanconf.py`` (None: Pelican's defaults);
    ``path`` (the content folder), ``output_path``, ``theme`` and ``overrides``
    (any setting, as ``pelican -e`` takes) override it. ``fail_on`` is
    ``"errors"`` (default: a build that logs an error fails), ``"warnings"``
    (warnings fail it too) or None (only exceptions fail it). ``on_warning``
    gets each warning or error line as it is logged; ``quiet`` hides Pelican's
    summary line.

    A failed build raises :class:`hotreload.BuildFailed` whose message is
    Pelican's own (the exception, or the first logged error) and whose output
    holds every warning and error of that build.

    Pelican keeps plugins' signal handlers and its logger class process-wide:
    use one builder per process.

    >>> PelicanBuilder("pelicanconf.py", output_path="/tmp/out").fail_on
    'errors'
    """

    def __init__(
        self,
        settings_file: str | Path | None = "pelicanconf.py",
        *,
        path: str | Path | None = None,
        output_path: str | Path | None = None,
        theme: str | None = None,
        overrides: Mapping[str, Any] | None = None,
        fail_on: str | None = "errors",
        on_warning: Callable[[str], None] | None = None,
        quiet: bool = True,
    ) -> None:
        if fail_on is not None and fail_on not in _FATAL_LEVELS:
            raise ValueError(f"fail_on must be 'errors', 'warnings' or None, not {fail_on!r}")
        self.settings_file = Path(settings_file).resolve() if settings_file is not None else None
        self.fail_on = fail_on
        self.on_warning = on_warning
        self.quiet = quiet
        self._overrides: dict[str, Any] = dict(overrides or {})
        if path is not None:
            self._overrides["PATH"] = str(Path(path).resolve())
        if output_path is not None:
            self._overrides["OUTPUT_PATH"] = str(Path(output_path).resolve())
        if theme is not None:
            theme_dir = Path(theme).resolve()
            self._overrides["THEME"] = str(theme_dir) if theme_dir.exists() else theme
        self._cache_dir: Path | None = None
        self._site: Any = None
        self.settings: dict[str, Any] = {}
        self.builds = 0  # finished builds, failed or not
        self.instances = 0  # Pelican instances created
        # Held while building: close() from another thread waits for the build.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Pelican build of {display(self.settings_file) if self.settings_file else 'the current folder'}"

    # -- settings ----------------------------------------------------------

    def read_settings(self, log: LogCapture | None = None) -> dict[str, Any]:
        """Read the settings file with this builder's overrides; BuildFailed if it is broken."""
        from pelican.settings import read_settings

        overrides = dict(self._overrides)
        user = self._user_settings()
        if not user.get("CACHE_CONTENT"):
            # Parse only changed sources on later builds; keep the cache out of the project.
            if self._cache_dir is None:
                self._cache_dir = Path(tempfile.mkdtemp(prefix="hotreload-pelican-cache-"))
            overrides.update(CACHE_CONTENT=True, LOAD_CONTENT_CACHE=True, CACHE_PATH=str(self._cache_dir))
        with contextlib.ExitStack() as stack:
            if log is None:
                # Outside a build: still show what reading the settings warns about.
                stack.enter_context(LogCapture("pelican", logging.WARNING, echo=self.on_warning))
            try:
                return read_settings(str(self.settings_file) if self.settings_file else None, override=overrides)
            except Exception as exc:
                raise BuildFailed(_describe(exc), output=_traceback(exc), **_location(exc)) from exc

    @property
    def output_path(self) -> Path:
        """Where the site is written (read from the settings on first use)."""
        if not self.settings:
            self.settings = self.read_settings()
        return Path(self.settings["OUTPUT_PATH"]).resolve()

    def watched_paths(self) -> list[Path]:
        """What Pelican's own autoreload watches: the settings file, the content
        folder and a theme folder that is not part of an installed package."""
        if not self.settings:
            self.settings = self.read_settings()
        paths = [Path(self.settings["PATH"]).resolve()]
        if self.settings_file is not None:
            paths.insert(0, self.settings_file)
        theme = Path(self.settings["THEME"]).resolve()
        installed = installed_package_dirs()
        if theme.is_dir() and not any(inside(theme, root) for root in installed):
            paths.append(theme)
        output = self.output_path
        return [path for path in dict.fromkeys(paths) if path.exists() and not inside(path, output)]

    # -- building ----------------------------------------------------------

    def __call__(self, changed: Iterable[Path]) -> None:
        """Build after ``changed`` paths changed (``[]``: a full build)."""
        changed = [Path(path) for path in changed]
        with self._lock:
            self._build_for(changed)

    def _build_for(self, changed: list[Path]) -> None:
        level = _FATAL_LEVELS.get(self.fail_on or "", logging.CRITICAL + 1)
        try:
            with LogCapture("pelican", logging.WARNING, echo=self.on_warning) as log:
                if self._site is None or self._settings_changed(changed):
                    self._start_site(log)
                try:
                    with _console_quiet(self.quiet):
                        self._site.run()
                except Exception as exc:
                    problems = log.messages(logging.WARNING)
                    raise BuildFailed(_describe(exc), output=_lines(problems) + _traceback(exc)) from exc
                fatal = log.messages(level)
                if fatal:
                    count = len(fatal)
                    kind = "error" if self.fail_on == "errors" else "problem"
                    summary = f"{count} {kind}{'s' if count != 1 else ''} logged"
                    raise BuildFailed(f"{fatal[0]} ({summary})", output=_lines(log.messages(logging.WARNING)))
        finally:
            self.builds += 1

    def close(self) -> None:
        """Drop the Pelican instance and the content cache this builder made.
        Waits for a build running in another thread to end first."""
        if not self._lock.acquire(timeout=60):
            return  # a build that does not end: better leave its cache alone
        try:
            self._site = None
            if self._cache_dir is not None:
                shutil.rmtree(self._cache_dir, ignore_errors=True)
                self._cache_dir = None
        finally:
            self._lock.release()

    # -- internals ---------------------------------------------------------

    def _user_settings(self) -> dict[str, Any]:
        if self.settings_file is None:
            return {}
        from pelican.settings import get_settings_from_file

        try:
            return dict(get_settings_from_file(str(self.settings_file)))
        except Exception:
            return {}  # reported properly by read_settings()

    def _settings_changed(self, changed: list[Path]) -> bool:
        if self.settings_file is None:
            return False
        return any(path.resolve() == self.settings_file for path in changed)

    def _start_site(self, log: LogCapture) -> None:
        from pelican import Pelican

        self._site = None
        if self._cache_dir is not None:
            # Cached content was parsed with the old settings.
            shutil.rmtree(self._cache_dir, ignore_errors=True)
            self._cache_dir.mkdir(parents=True, exist_ok=True)
        self.settings = self.read_settings(log)
        cls = self.settings.get("PELICAN_CLASS", Pelican)
        if isinstance(cls, str):
            module, _, name = cls.rpartition(".")
            cls = getattr(__import__(module, fromlist=[name]), name)
        try:
            self._site = cls(self.settings)
        except Exception as exc:
            raise BuildFailed(_describe(exc), output=_traceback(exc)) from exc
        self.instances += 1


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _traceback(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        # The settings file's own line, with its caret, says it all.
        return "".join(traceback.format_exception_only(type(exc), exc))
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def _location(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        return {"file": exc.filename, "line": exc.lineno}
    return {}


def _lines(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)
