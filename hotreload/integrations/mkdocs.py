"""MkDocs builds through MkDocs' own Python API, in the server's process.

``mkdocs serve`` rebuilds the whole site after every change. :class:`MkDocsBuilder`
does the same full build, so navigation and the search index are always right,
but stays warm between builds: compiled templates and the converted Markdown
of unchanged pages are reused (see :mod:`hotreload.integrations.mkdocs_cache`).
With ``dirty=True`` it uses MkDocs' dirty builds for edits of existing pages
(faster still, with MkDocs' caveats: other pages' navigation goes stale).

Example::

    build = MkDocsBuilder("mkdocs.yml")
    build([])                          # first build, into build.site_dir
    build([Path("docs/index.md")])     # after an edit
    build.close()
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from .. import BuildFailed
from .capture import LogCapture
from .locations import display, inside, installed_package_dirs
from .mirror import mirror

__all__ = ["MkDocsBuilder"]

# MkDocs warns about every dirty build; that is not a problem of the site.
_DIRTY_NOTICE = "A 'dirty' build is being performed"


@contextlib.contextmanager
def _fixed_build_date(epoch: int) -> Iterator[None]:
    """Pin the build date MkDocs prints into pages and the sitemap, so that a
    rebuild leaves unchanged pages byte for byte the same (and their tabs alone)."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        yield
        return
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        yield
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)




class MkDocsBuilder:
    """Builds a MkDocs site with MkDocs' Python API, warm between builds.

    Each build reads ``mkdocs.yml`` again (plugins expect a fresh configuration,
    as under ``mkdocs serve``). MkDocs builds into a private folder; after a
    successful build the files whose content changed are copied into
    ``site_dir`` (see :mod:`hotreload.integrations.mirror`), so the served
    folder only sees real changes and keeps the last good site when a build
    fails. ``site_dir`` defaults to a new temporary folder, removed by
    :meth:`close`, so the project's own ``site/`` is left alone.
    ``strict``, ``theme`` and ``use_directory_urls`` override the configuration
    file when given. ``serve_url``, when set, makes the build a preview like
    ``mkdocs serve``'s: ``site_url`` points at the dev server and draft pages
    are included. ``on_warning`` gets each warning or error line as it is logged.

    A failed build raises :class:`hotreload.build.BuildFailed` whose message
    is MkDocs' own (the first error, or with ``strict`` the first warning) and
    whose output holds everything MkDocs warned about in that build.

    >>> builder = MkDocsBuilder("mkdocs.yml", site_dir="/tmp/site")
    >>> builder.site_dir
    PosixPath('/tmp/site')
    """

    def __init__(
        self,
        config_file: str | Path = "mkdocs.yml",
        *,
        site_dir: str | Path | None = None,
        dirty: bool = False,
        strict: bool | None = None,
        theme: str | None = None,
        use_directory_urls: bool | None = None,
        serve_url: str | None = None,
        on_warning: Callable[[str], None] | None = None,
        warm: bool = True,
    ) -> None:
        self.config_file = Path(config_file).resolve()
        self._own_site_dir = site_dir is None
        self.site_dir = Path(site_dir).resolve() if site_dir is not None else Path(
            tempfile.mkdtemp(prefix="hotreload-mkdocs-")
        )
        self.dirty = dirty
        self.strict = strict
        self.theme = theme
        self.use_directory_urls = use_directory_urls
        self.serve_url = serve_url
        self.on_warning = on_warning
        self.warm = warm
        # MkDocs builds here; changed files are then mirrored into site_dir.
        self._build_dir = Path(tempfile.mkdtemp(prefix="hotreload-mkdocs-build-"))
        self.last_published: list[Path] = []  # site files the latest build wrote or deleted
        self.build_epoch = int(time.time())
        self.builds = 0  # finished builds, failed or not
        self.last_build_was_dirty = False
        self._cache: Any = None
        self._started_plugins: Any = None  # the plugins given on_startup
        self._last_ok = False
        self._known_pages: set[Path] = set()
        self._dirty_notice_shown = False
        # Held while building: close() from another thread waits for the build.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MkDocs build of {display(self.config_file)}"

    # -- configuration -----------------------------------------------------

    def load_config(self, log: LogCapture | None = None) -> Any:
        """Read ``mkdocs.yml`` with this builder's overrides; BuildFailed if it is broken."""
        from mkdocs.config import load_config

        overrides: dict[str, Any] = {"site_dir": str(self._build_dir)}
        if self.strict is not None:
            overrides["strict"] = self.strict
        if self.theme is not None:
            overrides["theme"] = self.theme
        if self.use_directory_urls is not None:
            overrides["use_directory_urls"] = self.use_directory_urls
        with contextlib.ExitStack() as stack:
            if log is None:
                log = stack.enter_context(LogCapture("mkdocs", echo=self._echo))
            try:
                config = load_config(config_file=str(self.config_file), **overrides)
            except (Exception, SystemExit) as exc:
                self._fail(exc, log)
        if self.serve_url is not None:
            config.site_url = self.serve_url
        return config

    def watched_paths(self) -> list[Path]:
        """What to watch: the configuration file, ``docs_dir``, the ``watch``
        entries and theme folders that are not part of an installed package."""
        config = self.load_config()
        paths = [self.config_file, Path(config.docs_dir).resolve()]
        paths += [Path(item).resolve() for item in config.watch]
        installed = installed_package_dirs()
        for folder in config.theme.dirs:
            theme_dir = Path(folder).resolve()
            if not any(inside(theme_dir, root) for root in installed):
                paths.append(theme_dir)
        unique: list[Path] = []
        for path in paths:
            if path.exists() and path not in unique and not inside(path, self.site_dir):
                unique.append(path)
        return unique

    # -- building ----------------------------------------------------------

    def __call__(self, changed: Iterable[Path]) -> None:
        """Build after ``changed`` paths changed (``[]``: a full build)."""
        changed = [Path(path).resolve() for path in changed]
        with self._lock:
            self._build_for(changed)

    def _build_for(self, changed: list[Path]) -> None:
        from mkdocs.commands.build import build

        try:
            with LogCapture("mkdocs", echo=self._echo) as log, _fixed_build_date(self.build_epoch):
                config = self.load_config(log)
                strict = bool(config.strict)
                # Strict mode is checked below, without MkDocs' notice about dirty builds.
                config.strict = False
                if self._started_plugins is None:
                    config.plugins.on_startup(command="serve", dirty=self.dirty)
                    self._started_plugins = config.plugins
                if self.warm:
                    config.plugins[self._cache_plugin_name()] = self._warm_cache()
                dirty = self._can_build_dirty(changed, Path(config.docs_dir).resolve())
                self.last_build_was_dirty = dirty
                try:
                    build(config, serve_url=self.serve_url, dirty=dirty)
                except (Exception, SystemExit) as exc:
                    self._fail(exc, log)
                problems = [
                    message for message in log.messages(logging.WARNING) if _DIRTY_NOTICE not in message
                ]
                if strict and problems:
                    count = len(problems)
                    summary = f"aborted with {count} warning{'s' if count != 1 else ''} in strict mode"
                    raise BuildFailed(f"{problems[0]} ({summary})", output="\n".join(problems) + "\n")
            self.last_published = mirror(self._build_dir, self.site_dir)
            self._last_ok = True
            if not dirty:
                self._known_pages = self._list_pages(Path(config.docs_dir).resolve())
        finally:
            self.builds += 1

    def close(self) -> None:
        """Tell the plugins the server stops; remove the temporary folders. Waits
        for a build running in another thread to end first."""
        if not self._lock.acquire(timeout=60):
            return  # a build that does not end: better leave its folders alone
        try:
            self._close()
        finally:
            self._lock.release()

    def _close(self) -> None:
        plugins, self._started_plugins = self._started_plugins, None
        if plugins is not None:
            with contextlib.suppress(Exception):
                plugins.on_shutdown()
        shutil.rmtree(self._build_dir, ignore_errors=True)
        if self._own_site_dir:
            shutil.rmtree(self.site_dir, ignore_errors=True)

    @property
    def reused_pages(self) -> int:
        """Pages whose converted Markdown the latest build took from the previous one."""
        return self._cache.reused_pages if self._cache is not None else 0

    # -- internals ---------------------------------------------------------

    def _echo(self, line: str) -> None:
        if self.on_warning is None:
            return
        if _DIRTY_NOTICE in line:
            # Said once is enough: it is the same for every dirty build.
            if self._dirty_notice_shown:
                return
            self._dirty_notice_shown = True
        self.on_warning(line)

    @staticmethod
    def _cache_plugin_name() -> str:
        from .mkdocs_cache import PLUGIN_NAME

        return PLUGIN_NAME

    def _warm_cache(self) -> Any:
        if self._cache is None:
            from .mkdocs_cache import WarmBuildCache

            self._cache = WarmBuildCache()
        return self._cache

    def _can_build_dirty(self, changed: list[Path], docs_dir: Path) -> bool:
        """A dirty build is only fit for edits of pages that the last full build knew."""
        if not (self.dirty and self._last_ok and changed):
            return False
        return all(path in self._known_pages and path.is_file() for path in changed)

    @staticmethod
    def _list_pages(docs_dir: Path) -> set[Path]:
        pages: set[Path] = set()
        for folder, _, names in os.walk(docs_dir):
            pages.update(Path(folder, name) for name in names)
        return pages

    def _fail(self, exc: BaseException, log: LogCapture) -> None:
        self._last_ok = False
        reported = [message for message in log.messages(logging.WARNING) if _DIRTY_NOTICE not in message]
        errors = log.messages(logging.ERROR)
        described = _describe(exc)
        message = errors[0] if errors else described
        if message.endswith(":"):
            # "Error reading page 'a.md':" - the reason follows: the plugin's
            # error, logged next, or else the exception itself.
            reason = errors[1].partition(": ")[2] if len(errors) > 1 else described
            message = f"{message} {reason}"
        output = list(reported)
        if described != message and described not in output:
            output.append(described)
        if not _is_mkdocs_error(exc):
            output.append("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip())
        raise BuildFailed(message, output="".join(line + "\n" for line in output)) from exc


def _is_mkdocs_error(exc: BaseException) -> bool:
    """MkDocs' own errors carry a message for users; others need their traceback."""
    module = type(exc).__module__ or ""
    return module.startswith("mkdocs.") or module.startswith("click")


def _describe(exc: BaseException) -> str:
    text = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    if not text and isinstance(exc, SystemExit):
        text = f"exit status {exc.code}"
    return text if _is_mkdocs_error(exc) else f"{type(exc).__name__}: {text}"

