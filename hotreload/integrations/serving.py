"""What the three generator commands share: the server's options, and serving
a builder's output with hot reload until Ctrl+C.

Example::

    add_server_arguments(parser)                 # --host, --port, --watch, --pre-build...
    args = parser.parse_args()
    serve_builds(args, builder, root=builder.outdir, sources=[Path("docs")],
                 never_sources=builder.ignored_paths(), printer=Printer(), verbosity=1)
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import DEFAULT_HOST, DEFAULT_PORT

__all__ = [
    "Printer", "add_server_arguments", "ignore_rules", "name_value", "port_number", "serve_builds", "tee",
    "usage_error",
]


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options every generator command takes: where to listen, what
    else to watch or ignore, commands around each build.

    >>> parser = argparse.ArgumentParser()
    >>> add_server_arguments(parser)
    >>> parser.parse_args(["--port", "0", "--re-ignore", "~$"]).port
    0
    """
    group = parser.add_argument_group("server options")
    group.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default: {DEFAULT_HOST})")
    group.add_argument("--port", type=port_number, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})")
    group.add_argument("--strict-port", action="store_true", help="fail if the port is busy instead of moving on")
    group.add_argument(
        "--open", "--open-browser", action="store_true", dest="open_browser", help="open the site in a browser"
    )
    group.add_argument(
        "--watch", action="append", default=[], type=Path, metavar="PATH",
        help="also rebuild when PATH changes (repeatable)",
    )
    group.add_argument(
        "--ignore", action="append", default=[], metavar="GLOB",
        help="ignore source changes to files matching GLOB (repeatable)",
    )
    group.add_argument(
        "--re-ignore", action="append", default=[], type=_regex, metavar="REGEX",
        help="ignore source changes to paths matching the regular expression REGEX (repeatable)",
    )
    group.add_argument(
        "--pre-build", action="append", default=[], metavar="COMMAND",
        help="run COMMAND before each build (repeatable); its failure fails the build",
    )
    group.add_argument(
        "--post-build", action="append", default=[], metavar="COMMAND",
        help="run COMMAND after each successful build (repeatable)",
    )
    group.add_argument(
        "--build-timeout", type=float, default=None, metavar="SECONDS",
        help="count a build that takes longer as failed",
    )
    group.add_argument("--poll", action="store_true", help="poll the file system instead of using native events")
    group.add_argument(
        "--navigate-to-changed", action="store_true",
        help="when a build changes exactly one page, open it in the tabs showing other pages",
    )
    group.add_argument(
        "--allowed-host", action="append", default=[], dest="allowed_hosts", metavar="NAME",
        help="also accept requests for Host NAME (repeatable)",
    )


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 to 65535.

    >>> port_number("8000")
    8000
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 0 and 65535, not {value}")
    return value


def _regex(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"not a regular expression: {text!r} ({exc})") from None


def name_value(text: str) -> tuple[str, str]:
    """An argparse type: ``NAME=VALUE`` split in two (the value may contain ``=``).

    >>> name_value("html_context.edition=2=b")
    ('html_context.edition', '2=b')
    """
    name, found, value = text.partition("=")
    if not found or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, not {text!r}")
    return name, value


class Printer:
    """The generator's warnings, printed in the server's terminal."""

    def __init__(self, verbosity: int = 1) -> None:
        self.verbosity = verbosity
        self.terminal: Any = None

    def line(self, text: str) -> None:
        """Print one line: in the server's terminal once it runs, before that on stdout."""
        if self.terminal is not None:
            self.terminal.info(text)
        elif self.verbosity >= 1:
            print(f"  {text}", flush=True)


def tee(first: Callable[[str], None] | None, stream: Any) -> Callable[[str], None]:
    """A line printer that writes each line to ``stream`` and then hands it to ``first``.

    >>> import io
    >>> log = io.StringIO()
    >>> tee(None, log)("docs/a.rst:3: WARNING: x")
    >>> log.getvalue()
    'docs/a.rst:3: WARNING: x\\n'
    """
    def write(line: str) -> None:
        stream.write(line + "\n")
        stream.flush()
        if first is not None:
            first(line)

    return write


def usage_error(message: str) -> int:
    """Say what is wrong on stderr, as argparse does; the exit status to return."""
    print(f"hotreload: error: {message}", file=sys.stderr)
    return 2


def ignore_rules(args: argparse.Namespace, never_sources: list[Path]) -> list[Any]:
    """What :meth:`DevServer.watch` should ignore: ``--ignore`` globs as given,
    then ``--re-ignore`` patterns and the build's own folders as callables.

    >>> args = argparse.Namespace(ignore=["*.swp"], re_ignore=[re.compile("drafts/")])
    >>> glob, by_pattern, by_folder = ignore_rules(args, [Path("/docs/_build")])
    >>> glob, by_pattern(Path("/docs/drafts/a.rst")), by_folder(Path("/docs/_build/x.html"))
    ('*.swp', True, True)
    """
    rules: list[Any] = list(args.ignore)
    patterns: list[re.Pattern[str]] = list(args.re_ignore)
    if patterns:
        rules.append(lambda path: any(pattern.search(str(path)) for pattern in patterns))
    folders = [Path(folder).resolve() for folder in never_sources]
    if folders:
        from .locations import inside

        rules.append(lambda path: any(inside(Path(path), folder) for folder in folders))
    return rules


def serve_builds(
    args: argparse.Namespace, builder: Any, *, root: Path, sources: list[Path], never_sources: list[Path],
    printer: Printer, verbosity: int, run_at_start: bool = True, serve_url: bool = False,
    unannounced: list[str] | None = None,
) -> int:
    """Serve ``root`` with hot reload, running ``builder`` (wrapped in the
    ``--pre-build``/``--post-build`` commands) when ``sources`` change, until
    Ctrl+C; the exit status. ``serve_url`` tells the builder the server's
    address before each build (MkDocs previews use it as ``site_url``).
    ``unannounced`` are globs (relative to ``root``) of outputs whose changes
    no tab needs to reload for.
    """
    from .. import DevServer
    from ..server import ServeError
    from .hooks import with_commands

    server = DevServer(
        root=root, host=args.host, port=args.port, strict_port=args.strict_port, open_browser=args.open_browser,
        poll=args.poll, allowed_hosts=list(args.allowed_hosts), verbosity=verbosity,
        navigate_to_changed=args.navigate_to_changed,
        ignore=list(unannounced or []),
    )
    printer.terminal = server.terminal
    action = with_commands(
        builder, pre=args.pre_build, post=args.post_build, echo=printer.line, timeout=args.build_timeout,
    )
    missing = [path for path in sources if not path.exists()]
    if missing:
        return usage_error(f"--watch path not found: {missing[0]}")
    server.watch(
        sources, action, ignore=ignore_rules(args, never_sources), timeout=args.build_timeout,
        run_at_start=run_at_start,
    )
    if serve_url:

        @server.on_build_start
        def _point_at_server(changed: list[Path]) -> None:
            # Like mkdocs serve: site_url is the dev server, draft pages are shown.
            builder.serve_url = server.url

    try:
        server.serve_forever()
    except ServeError as exc:
        return usage_error(str(exc))
    except KeyboardInterrupt:
        return 130
    return 0
