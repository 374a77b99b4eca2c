"""Command line: parse arguments into a :class:`Config` and run the server."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

from . import __version__
from .config import DEFAULT_HOST, DEFAULT_PORT, Config, Settings, SettingsError, find_settings, header_line
from .integrations import register_commands

SERVE_EXAMPLES = """\
examples:
  hotreload serve                      serve the current folder on http://127.0.0.1:8000/
  hotreload serve ./site --open        serve ./site and open it in the browser
  hotreload serve dist --watch src     also reload when files under src/ change
  hotreload serve . --ignore 'drafts/*' --port 3000 --strict-port
  hotreload serve app --spa            a single-page app: /users/3 is answered with app/index.html
  hotreload serve _site --watch content --build "python build.py"
                                       rebuild on every change under content/, then update the tabs

settings:
  Options can be kept in hotreload.toml, or in pyproject.toml under [tool.hotreload],
  in the folder the command is run from. Keys are the long option names:
    root = "_site"
    watch = ["content"]
    build = "python build.py"
  Options on the command line win; repeatable ones add to the file's lists.
"""


def build_parser(serve_defaults: dict[str, Any] | None = None) -> argparse.ArgumentParser:
    """The command line parser; ``serve_defaults`` (by option dest) come from a settings file."""
    parser = argparse.ArgumentParser(
        prog="hotreload",
        description="A dev server with hot reload for static sites and static-site generators.",
        epilog="Run 'hotreload serve --help' (or sphinx, mkdocs, pelican) for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"hotreload {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="serve a folder with hot reload",
        description="Serve ROOT, inject the hot-reload client into its pages and update open tabs on every change.",
        epilog=SERVE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_serve_arguments(serve)
    if serve_defaults:
        serve.set_defaults(**serve_defaults)
    register_commands(commands)
    return parser


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("root", nargs="?", default=".", metavar="ROOT", help="folder to serve (default: .)")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default: {DEFAULT_HOST})")
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT,
        help=f"port (default: {DEFAULT_PORT}; when busy the next free one is used)",
    )
    parser.add_argument("--strict-port", action="store_true", help="fail if the port is busy instead of moving on")
    parser.add_argument("--open", action="store_true", dest="open_browser", help="open the site in a browser")
    parser.add_argument(
        "--watch", action="append", default=[], type=Path, metavar="PATH",
        help="also watch PATH (repeatable); a change there reloads every tab, or runs --build",
    )
    parser.add_argument(
        "--build", metavar="CMD",
        help="run CMD when a file under a --watch PATH changes (and once at start); ROOT is its output",
    )
    parser.add_argument(
        "--build-shell", action="store_true", help="run --build through the shell (pipes, &&, variables)"
    )
    parser.add_argument(
        "--build-timeout", type=_seconds, metavar="SECONDS",
        help="stop a build (and every process it started) that runs longer than this",
    )
    parser.add_argument(
        "--ignore", action="append", default=[], metavar="GLOB",
        help="ignore changes to files matching GLOB (repeatable; matched against the path and the file name)",
    )
    parser.add_argument("--poll", action="store_true", help="poll the file system instead of using native events")
    parser.add_argument(
        "--reload-html", action="store_true",
        help="reload a page whose HTML changed instead of updating it in place",
    )
    parser.add_argument(
        "--navigate-to-changed", action="store_true",
        help="when a change adds or edits exactly one page, open it in the tabs showing other pages",
    )
    parser.add_argument(
        "--spa", action="store_true",
        help="single-page app: answer page requests for paths with no file and no extension with ROOT/index.html",
    )
    parser.add_argument("--no-reload", action="store_false", dest="reload", help="plain static server: no client, no watching")
    parser.add_argument(
        "--allowed-host", action="append", default=[], dest="allowed_hosts", metavar="NAME",
        help="also accept requests for Host NAME (repeatable; '.example.test' allows subdomains)",
    )
    parser.add_argument("--follow-symlinks", action="store_true", help="serve symlinks that point outside ROOT")
    parser.add_argument(
        "--header", action="append", default=[], dest="headers", type=_header, metavar="'NAME: VALUE'",
        help="add this header to every response (repeatable; e.g. 'Cross-Origin-Embedder-Policy: require-corp')",
    )
    parser.add_argument(
        "--deny", action="append", default=[], type=_deny_glob, metavar="GLOB",
        help="never serve files matching GLOB, on top of dotfiles and keys (repeatable; e.g. 'drafts/*', '*.sqlite')",
    )
    parser.add_argument(
        "--allow", action="append", default=[], type=_allow_glob, metavar="NAME",
        help="serve names that are hidden by default (repeatable; matched against each name in the path, "
        "e.g. '.well-known')",
    )
    parser.add_argument("-q", "--quiet", action="store_const", const=0, dest="verbosity", default=1, help="print errors only")
    parser.add_argument("-v", "--verbose", action="store_const", const=2, dest="verbosity", help="print more detail")
    parser.add_argument(
        "--no-config", action="store_true",
        help="ignore hotreload.toml and pyproject.toml's [tool.hotreload] in this folder",
    )


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 0 and 65535, not {value}")
    return value


def _deny_glob(text: str) -> str:
    if not text.strip("/ "):
        raise argparse.ArgumentTypeError("an empty pattern denies nothing")
    return text


def _allow_glob(text: str) -> str:
    if "/" in text or not text.strip():
        raise argparse.ArgumentTypeError(f"--allow takes a file or folder name pattern without '/', not {text!r}")
    if text.strip(".*?") == "" :
        raise argparse.ArgumentTypeError(f"{text!r} would serve every hidden file; name the ones to serve")
    return text


def _header(text: str) -> str:
    try:
        return header_line(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return value


# Settings-file keys whose option stores under another name.
_DESTS = {"open": "open_browser", "allowed-host": "allowed_hosts", "header": "headers"}
# The checks the command line applies to an option's text, applied to the file's values too.
_CHECKS: dict[str, Any] = {
    "port": _port, "build-timeout": _seconds, "deny": _deny_glob, "allow": _allow_glob, "header": _header,
}


def settings_defaults(settings: Settings) -> dict[str, Any]:
    """The values of a settings file, checked as the command line checks them, by option dest.

    >>> from pathlib import Path
    >>> settings_defaults(Settings(Path("hotreload.toml"), "hotreload.toml", {"open": True, "watch": ["src"]}))
    {'open_browser': True, 'watch': [PosixPath('src')]}
    """
    defaults: dict[str, Any] = {}
    for key, value in settings.values.items():
        check = _CHECKS.get(key, Path if key == "watch" else None)
        try:
            if check is not None and isinstance(value, list):
                value = [check(item) for item in value]
            elif check is not None:
                value = check(str(value))
        except argparse.ArgumentTypeError as exc:
            raise SettingsError(f"{settings.name}: {key}: {exc}") from None
        defaults[_DESTS.get(key, key.replace("-", "_"))] = value
    return defaults


def parse_args(argv: Sequence[str] | None = None, folder: Path | None = None) -> argparse.Namespace:
    """The command line, with ``serve``'s defaults from the settings file in ``folder`` (default: here).

    Raises :class:`SettingsError` when that file cannot be used.
    """
    args = build_parser().parse_args(argv)
    args.settings_file = None
    if args.command == "serve" and not args.no_config:
        settings = find_settings(folder or Path.cwd())
        if settings is not None:
            args = build_parser(settings_defaults(settings)).parse_args(argv)
            args.settings_file = settings.name
    return args


def config_from_args(args: argparse.Namespace) -> Config:
    return Config(
        root=Path(args.root),
        host=args.host,
        port=args.port,
        strict_port=args.strict_port,
        open_browser=args.open_browser,
        watch=list(args.watch),
        ignore=list(args.ignore),
        poll=args.poll,
        reload=args.reload,
        reload_html=args.reload_html,
        spa=args.spa,
        navigate_to_changed=args.navigate_to_changed,
        verbosity=args.verbosity,
        allowed_hosts=list(args.allowed_hosts),
        follow_symlinks=args.follow_symlinks,
        headers=list(args.headers),
        deny=list(args.deny),
        allow=list(args.allow),
        build=args.build,
        build_shell=args.build_shell,
        build_timeout=args.build_timeout,
        settings_file=getattr(args, "settings_file", None),
    )


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parse_args(argv)
    except SettingsError as exc:
        print(f"hotreload: error: {exc}", file=sys.stderr)
        return 2
    if args.command is None:
        build_parser().print_help()
        return 2
    if getattr(args, "run", None) is not None:
        return args.run(args)  # sphinx, mkdocs, pelican: see hotreload.integrations
    from .server import DevServer, ServeError

    try:
        DevServer(config_from_args(args)).serve_forever()
    except ServeError as exc:
        print(f"hotreload: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
