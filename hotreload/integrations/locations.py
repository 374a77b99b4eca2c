"""Where things are: path helpers shared by the generator integrations."""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

__all__ = ["display", "inside", "installed_package_dirs"]


def inside(path: Path, folder: Path) -> bool:
    """True if ``path`` is ``folder`` or lies under it (no file system access).

    >>> inside(Path("/docs/_build/html"), Path("/docs"))
    True
    """
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def installed_package_dirs() -> list[Path]:
    """Where installed packages live: a theme found there is not the user's to edit."""
    names = ("purelib", "platlib", "stdlib")
    return [Path(path).resolve() for name, path in sysconfig.get_paths().items() if name in names]


def display(path: Path) -> str:
    """``path`` relative to the working folder when it is under it, for messages.

    >>> display(Path.cwd() / "docs")
    'docs'
    """
    try:
        return os.path.relpath(path) if inside(Path(path).resolve(), Path.cwd().resolve()) else str(path)
    except ValueError:  # another drive on Windows
        return str(path)
