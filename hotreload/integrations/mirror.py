"""Copying a freshly built site over the served one, file by file, only where
the content differs.

MkDocs empties its site folder and writes every file again on each full
build. Building into a private folder and mirroring it into the served one
means the served folder only ever sees the files that really changed (no
storm of file events, no moment with the site missing), and a build that fails
half way leaves the last good site in place.

Example::

    changed = mirror(Path("/tmp/build"), Path("/tmp/site"))
    changed   # [PosixPath('/tmp/site/lamp/index.html'), PosixPath('/tmp/site/search/search_index.json')]
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["mirror"]

_CHUNK = 1024 * 1024


def _same_content(a: Path, b: Path) -> bool:
    try:
        if a.stat().st_size != b.stat().st_size:
            return False
        with open(a, "rb") as first, open(b, "rb") as second:
            while True:
                chunk = first.read(_CHUNK)
                if chunk != second.read(_CHUNK):
                    return False
                if not chunk:
                    return True
    except OSError:
        return False


def _files(root: Path) -> set[Path]:
    """Paths of the regular files under ``root``, relative to it."""
    found: set[Path] = set()
    for folder, _, names in os.walk(root):
        base = Path(folder)
        for name in names:
            if (base / name).is_file():
                found.add((base / name).relative_to(root))
    return found


def mirror(source: Path, target: Path) -> list[Path]:
    """Make ``target`` hold exactly the files of ``source``, writing only files
    whose content differs and deleting those ``source`` no longer has; the
    target paths written or deleted, sorted.

    >>> import tempfile
    >>> a, b = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    >>> _ = (a / "index.html").write_text("<h1>Lamp</h1>")
    >>> [path.name for path in mirror(a, b)], mirror(a, b)
    (['index.html'], [])
    """
    target.mkdir(parents=True, exist_ok=True)
    wanted = _files(source)
    present = _files(target)
    touched: list[Path] = []
    for relative in sorted(wanted):
        built, served = source / relative, target / relative
        if relative in present and _same_content(built, served):
            continue
        served.parent.mkdir(parents=True, exist_ok=True)
        # Replace by rename, so a request never reads a half-copied file.
        partial = served.with_name(f".{served.name}.hotreload-partial")
        shutil.copyfile(built, partial)
        os.replace(partial, served)
        touched.append(served)
    for relative in sorted(present - wanted):
        stale = target / relative
        try:
            stale.unlink()
        except OSError:
            continue
        touched.append(stale)
    # Folders left empty by deletions go too, deepest first.
    for folder, _, _ in sorted(os.walk(target), key=lambda entry: -len(entry[0])):
        path = Path(folder)
        if path != target and not any(path.iterdir()):
            path.rmdir()
    return sorted(touched)
