"""The settings one dev server runs with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# How many ports after a busy one are tried before giving up (without --strict-port).
PORT_ATTEMPTS = 50


@dataclass
class Config:
    """Everything `hotreload serve` can be told; the CLI only fills this in.

    >>> Config(root=Path("site"), port=0).host
    '127.0.0.1'
    """

    root: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    strict_port: bool = False
    open_browser: bool = False
    watch: list[Path] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    poll: bool = False
    reload: bool = True  # False: a plain static server, no client, no watching
    verbosity: int = 1  # 0 quiet, 1 normal, 2 verbose
    allowed_hosts: list[str] = field(default_factory=list)
    follow_symlinks: bool = False
    deny: list[str] = field(default_factory=list)  # never served, on top of paths.DEFAULT_DENY
    allow: list[str] = field(default_factory=list)  # names served although DEFAULT_DENY matches them
    reload_html: bool = False  # always reload pages instead of morphing them
    # A command run when a file under ``watch`` changes; its output is ``root``.
    build: str | list[str] | None = None
    build_shell: bool = False  # run ``build`` through the shell (pipes, &&, globs)
    build_timeout: float | None = None  # seconds before the build's processes are stopped

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.watch = [Path(p) for p in self.watch]
