"""hotreload: a dev server with hot module replacement for static sites.

The Python API for site generators and scripts::

    from hotreload import DevServer

    server = DevServer("_site", port=8000)
    server.watch("content", build_site)   # build_site(changed: list[Path]) -> None
    server.serve_forever()

See ``docs/api.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["BuildFailed", "BuildResult", "Config", "DevServer", "ServeError", "SourceWatch", "__version__"]

if TYPE_CHECKING:
    from .build import BuildFailed, BuildResult
    from .config import Config
    from .server import DevServer, ServeError
    from .sources import SourceWatch

# Imported on first use, so that `hotreload --version` and the CLI's help stay quick.
_LAZY = {
    "BuildFailed": "build",
    "BuildResult": "build",
    "Config": "config",
    "DevServer": "server",
    "ServeError": "server",
    "SourceWatch": "sources",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hotreload' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
