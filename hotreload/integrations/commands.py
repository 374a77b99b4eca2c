"""``hotreload sphinx``, ``hotreload mkdocs`` and ``hotreload pelican``.

Each command builds the site with the generator's own Python API, in this
process and warm between builds, serves the output with hot reload, and
rebuilds when a source changes. The options follow the tool each replaces
(sphinx-autobuild, ``mkdocs serve``, ``pelican --autoreload --listen``) so an
existing command line keeps working.

Example::

    commands = parser.add_subparsers(dest="command")
    register_commands(commands)      # adds the three subcommands
    args = parser.parse_args(["sphinx", "docs", "docs/_build/html", "-W"])
    args.run(args)                   # serves until Ctrl+C
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .serving import Printer, add_server_arguments, name_value, port_number, serve_builds, tee, usage_error

__all__ = ["register_commands"]

SPHINX_EXAMPLES = """\
examples:
  hotreload sphinx docs docs/_build/html            like sphinx-autobuild docs docs/_build/html
  hotreload sphinx docs _build/html -W --keep-going  warnings fail the build (shown in the page)
  hotreload sphinx docs _build -M dirhtml --watch src --pre-build "python gen.py"
"""

MKDOCS_EXAMPLES = """\
examples:
  hotreload mkdocs                       serve the MkDocs project in this folder
  hotreload mkdocs -f site/mkdocs.yml --strict
  hotreload mkdocs --dirty               faster rebuilds of edited pages (MkDocs' dirty builds)
"""

PELICAN_EXAMPLES = """\
examples:
  hotreload pelican                      serve the Pelican project in this folder (pelicanconf.py)
  hotreload pelican content -s pelicanconf.py -o output
  hotreload pelican -e SITENAME='"Draft"' --fail-on warnings
"""


def register_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``sphinx``, ``mkdocs`` and ``pelican`` subcommands to ``commands``.

    Each sets ``args.run``, a function taking the parsed arguments and returning
    the exit status. Nothing here imports a generator: that happens when the
    command runs.
    """
    sphinx = commands.add_parser(
        "sphinx",
        help="build a Sphinx project on every change and serve it (replaces sphinx-autobuild)",
        description=(
            "Build SOURCEDIR into OUTPUTDIR with Sphinx, in this process and incrementally, serve OUTPUTDIR "
            "with hot reload and rebuild on every change. Takes sphinx-build's and sphinx-autobuild's options."
        ),
        epilog=SPHINX_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_sphinx_arguments(sphinx)
    sphinx.set_defaults(run=run_sphinx)

    mkdocs = commands.add_parser(
        "mkdocs",
        help="build a MkDocs site on every change and serve it (replaces mkdocs serve)",
        description=(
            "Build a MkDocs project with MkDocs' own API, in this process, serve the site with hot reload "
            "and rebuild on every change. Takes mkdocs serve's options."
        ),
        epilog=MKDOCS_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_mkdocs_arguments(mkdocs)
    mkdocs.set_defaults(run=run_mkdocs)

    pelican = commands.add_parser(
        "pelican",
        help="build a Pelican site on every change and serve it (replaces pelican -r -l)",
        description=(
            "Build a Pelican project with Pelican's own API, in this process, serve the output with hot "
            "reload and rebuild on every change."
        ),
        epilog=PELICAN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_pelican_arguments(pelican)
    pelican.set_defaults(run=run_pelican)


# ---------------------------------------------------------------------------
# sphinx
# ---------------------------------------------------------------------------


def _add_sphinx_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sourcedir", type=Path, metavar="SOURCEDIR", help="the folder holding conf.py and the sources")
    parser.add_argument("outputdir", type=Path, metavar="OUTPUTDIR", help="where the site is built and served from")
    group = parser.add_argument_group("sphinx-build options")
    group.add_argument("-b", "--builder", default="html", metavar="BUILDER", help="builder (default: html)")
    group.add_argument(
        "-M", dest="make_mode", metavar="BUILDER",
        help="make mode, as 'make html': build into OUTPUTDIR/BUILDER, doctrees in OUTPUTDIR/doctrees",
    )
    group.add_argument("-a", "--write-all", action="store_true", help="write all files on every build")
    group.add_argument("-E", "--fresh-env", action="store_true", help="ignore the saved environment at start")
    group.add_argument(
        "-j", "--jobs", type=_jobs, default=1, metavar="N", help="parallel jobs for the first build, or 'auto'"
    )
    group.add_argument(
        "-d", "--doctree-dir", type=Path, metavar="PATH", help="doctree cache (default: OUTPUTDIR/.doctrees)"
    )
    group.add_argument("-c", "--conf-dir", type=Path, metavar="PATH", help="folder of conf.py (default: SOURCEDIR)")
    group.add_argument("-D", "--define", action="append", default=[], type=name_value, metavar="NAME=VALUE",
                       help="override a conf.py setting")
    group.add_argument("-A", "--html-define", action="append", default=[], type=name_value, metavar="NAME=VALUE",
                       help="pass a value into HTML templates")
    group.add_argument("-t", "--tag", action="append", default=[], dest="tags", metavar="TAG", help="define a tag")
    group.add_argument("-n", "--nitpicky", action="store_true", help="warn about all missing references")
    group.add_argument("-v", "--verbose", action="count", default=0, dest="verbosity",
                       help="show Sphinx's progress (repeat for more)")
    group.add_argument("-q", "--quiet", action="store_true", help="no progress output (the default)")
    group.add_argument("-Q", "--silent", action="store_true", help="no warnings in the terminal either")
    group.add_argument("-w", "--warning-file", type=Path, metavar="FILE", help="also write warnings to FILE")
    group.add_argument("-W", "--fail-on-warning", action="store_true",
                       help="a warning fails the build (and shows in the page)")
    group.add_argument("--keep-going", action="store_true", help="accepted for compatibility (always on)")
    group.add_argument("-T", "--show-traceback", action="store_true", help="show the full traceback on an exception")
    group = parser.add_argument_group("sphinx-autobuild options")
    group.add_argument("--no-initial", action="store_true", dest="no_initial_build", help="skip the initial build")
    group.add_argument("--delay", type=float, default=0, help="accepted for compatibility; ignored")
    add_server_arguments(parser)


def _jobs(text: str) -> int:
    if text == "auto":
        import os

        return os.cpu_count() or 1
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'auto', not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("needs at least 1 job")
    return value


def _html_value(value: str) -> Any:
    try:
        return int(value)
    except ValueError:
        return value


def sphinx_builder(args: argparse.Namespace, on_warning: Callable[[str], None] | None = None) -> Any:
    """The :class:`~hotreload.integrations.sphinx.SphinxBuilder` that
    ``sphinx-build`` would run for these options (``-M`` make mode included)."""
    from .sphinx import SphinxBuilder

    outdir: Path = args.outputdir
    builder_name = args.builder
    doctreedir = args.doctree_dir
    if args.make_mode:
        # As 'sphinx-build -M html docs _build': _build/html, doctrees in _build/doctrees.
        builder_name = args.make_mode
        doctreedir = doctreedir or outdir / "doctrees"
        outdir = outdir / args.make_mode
    overrides: dict[str, Any] = dict(args.define)
    overrides.update({f"html_context.{name}": _html_value(value) for name, value in args.html_define})
    if args.nitpicky:
        overrides["nitpicky"] = True
    return SphinxBuilder(
        args.sourcedir, outdir, builder=builder_name, confdir=args.conf_dir, doctreedir=doctreedir,
        confoverrides=overrides, tags=args.tags, jobs=args.jobs, fail_on_warning=args.fail_on_warning,
        fresh_env=args.fresh_env, write_all=args.write_all, verbosity=args.verbosity,
        show_traceback=args.show_traceback, status=sys.stdout if args.verbosity and not args.quiet else None,
        on_warning=None if args.silent else on_warning,
    )


def _inside_as_glob(path: Path, root: Path) -> list[str]:
    """``path`` as a glob anchored at ``root`` (for Sphinx's doctree cache,
    which is never served), or nothing when it is not under ``root``."""
    try:
        return ["/" + path.resolve().relative_to(root.resolve()).as_posix()]
    except ValueError:
        return []


def run_sphinx(args: argparse.Namespace) -> int:
    """Serve a Sphinx project: ``hotreload sphinx SOURCEDIR OUTPUTDIR [options]``."""
    sourcedir: Path = args.sourcedir
    conf_dir: Path = args.conf_dir or sourcedir
    if not (conf_dir / "conf.py").is_file():
        return usage_error(f"no conf.py in {conf_dir} (is it a Sphinx source folder?)")
    printer = Printer()
    warning_file = args.warning_file.open("w", encoding="utf-8") if args.warning_file else None
    on_warning: Callable[[str], None] = printer.line
    if warning_file is not None:
        on_warning = tee(None if args.silent else printer.line, warning_file)
        args.silent = False  # the file still wants every warning
    builder = sphinx_builder(args, on_warning)
    builder.outdir.mkdir(parents=True, exist_ok=True)
    try:
        return serve_builds(
            args, builder, root=builder.outdir, sources=[sourcedir, *args.watch],
            never_sources=[*builder.ignored_paths(), *([args.warning_file] if args.warning_file else [])],
            printer=printer, run_at_start=not args.no_initial_build, verbosity=1,
            unannounced=_inside_as_glob(builder.doctreedir, builder.outdir),
        )
    finally:
        builder.close()
        if warning_file is not None:
            warning_file.close()


# ---------------------------------------------------------------------------
# mkdocs
# ---------------------------------------------------------------------------


def _add_mkdocs_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("mkdocs serve options")
    group.add_argument("-f", "--config-file", type=Path, metavar="FILE",
                       help="the MkDocs configuration (default: mkdocs.yml in this folder)")
    group.add_argument("--dirty", action="store_true",
                       help="rebuild only edited pages (MkDocs' dirty builds: other pages' navigation goes stale)")
    group.add_argument("-s", "--strict", action="store_true", default=None,
                       help="a warning fails the build (and shows in the page)")
    group.add_argument("-t", "--theme", metavar="NAME", help="the theme to build with")
    urls = group.add_mutually_exclusive_group()
    urls.add_argument("--use-directory-urls", action="store_true", default=None, dest="use_directory_urls",
                      help="link to pages as folders (page/)")
    urls.add_argument("--no-directory-urls", action="store_false", dest="use_directory_urls",
                      help="link to pages as files (page.html)")
    group.add_argument("--site-dir", type=Path, metavar="DIR",
                       help="build into DIR (default: a temporary folder, as mkdocs serve does)")
    group.add_argument("-a", "--dev-addr", metavar="IP:PORT", help="address to serve on, as mkdocs serve takes it")
    group.add_argument("-q", "--quiet", action="store_const", const=0, dest="verbosity", default=1,
                       help="print errors only")
    group.add_argument("-v", "--verbose", action="store_const", const=2, dest="verbosity", help="print more detail")
    add_server_arguments(parser)


def _find_mkdocs_config(given: Path | None) -> Path | None:
    if given is not None:
        return given if given.is_file() else None
    for name in ("mkdocs.yml", "mkdocs.yaml"):
        if Path(name).is_file():
            return Path(name)
    return None


def run_mkdocs(args: argparse.Namespace) -> int:
    """Serve a MkDocs project: ``hotreload mkdocs [-f mkdocs.yml] [options]``."""
    from .mkdocs import MkDocsBuilder

    config_file = _find_mkdocs_config(args.config_file)
    if config_file is None:
        return usage_error(f"config file not found: {args.config_file or 'mkdocs.yml'}")
    if args.dev_addr:
        host, _, port = args.dev_addr.rpartition(":")
        try:
            args.port = port_number(port)
        except argparse.ArgumentTypeError as exc:
            return usage_error(f"--dev-addr: {exc}")
        args.host = host.strip("[]") or args.host
    printer = Printer(args.verbosity)
    builder = MkDocsBuilder(
        config_file, site_dir=args.site_dir, dirty=args.dirty, strict=args.strict, theme=args.theme,
        use_directory_urls=args.use_directory_urls, on_warning=printer.line,
    )
    from .. import BuildFailed

    try:
        try:
            sources = builder.watched_paths()
        except BuildFailed as exc:
            # A broken mkdocs.yml at start: serve anyway, show the error, watch for the fix.
            sources = [builder.config_file, builder.config_file.parent / "docs"]
            sources = [path for path in sources if path.exists()]
            printer.line(str(exc))
        builder.site_dir.mkdir(parents=True, exist_ok=True)
        return serve_builds(
            args, builder, root=builder.site_dir, sources=[*sources, *args.watch], never_sources=[builder.site_dir],
            printer=printer, serve_url=True, verbosity=args.verbosity,
            # The search index changes with every edit and search pages fetch
            # it: announcing it would reload every open tab. An open tab's
            # search catches up at its next reload.
            unannounced=["/search/search_index.json"],
        )
    finally:
        builder.close()


# ---------------------------------------------------------------------------
# pelican
# ---------------------------------------------------------------------------


def _add_pelican_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", type=Path, metavar="PATH",
                        help="the content folder (default: PATH in the settings)")
    group = parser.add_argument_group("pelican options")
    group.add_argument("-s", "--settings", type=Path, metavar="FILE",
                       help="the settings file (default: pelicanconf.py in this folder, if any)")
    group.add_argument("-o", "--output", type=Path, metavar="DIR", help="where the site is built and served from")
    group.add_argument("-t", "--theme-path", metavar="THEME", help="the theme (a folder or a theme's name)")
    group.add_argument("-e", "--extra-settings", nargs="+", default=[], type=name_value, metavar="NAME=VALUE",
                       help="override settings; VALUE is read as JSON when it parses as JSON")
    group.add_argument("--relative-urls", action="store_true", help="use document-relative URLs")
    group.add_argument("--fail-on", choices=("errors", "warnings", "never"), default="errors",
                       help="which logged problems fail the build and show in the page (default: errors)")
    group.add_argument("-q", "--quiet", action="store_const", const=0, dest="verbosity", default=1,
                       help="print errors only")
    group.add_argument("-v", "--verbose", action="store_const", const=2, dest="verbosity", help="print more detail")
    add_server_arguments(parser)


def _json_or_text(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def run_pelican(args: argparse.Namespace) -> int:
    """Serve a Pelican project: ``hotreload pelican [PATH] [-s pelicanconf.py] [options]``."""
    from .pelican import PelicanBuilder

    settings = args.settings
    if settings is None and Path("pelicanconf.py").is_file():
        settings = Path("pelicanconf.py")
    if settings is not None and not settings.is_file():
        return usage_error(f"settings file not found: {settings}")
    overrides = {name: _json_or_text(value) for name, value in args.extra_settings}
    if args.relative_urls:
        overrides["RELATIVE_URLS"] = True
    printer = Printer(args.verbosity)
    builder = PelicanBuilder(
        settings, path=args.path, output_path=args.output, theme=args.theme_path, overrides=overrides,
        fail_on=None if args.fail_on == "never" else args.fail_on, on_warning=printer.line,
        quiet=args.verbosity < 2,
    )
    from .. import BuildFailed

    try:
        try:
            output = builder.output_path
            sources = builder.watched_paths()
        except BuildFailed as exc:
            return usage_error(f"cannot read {settings}: {exc}")
        output.mkdir(parents=True, exist_ok=True)
        return serve_builds(
            args, builder, root=output, sources=[*sources, *args.watch], never_sources=[output], printer=printer,
            verbosity=args.verbosity,
        )
    finally:
        builder.close()
