"""Map a raw request path to a file under the served root, or refuse it.

The dev server runs next to a browser that visits arbitrary websites, so every
request path is treated as hostile until proven otherwise. One function,
:func:`resolve_request_path`, does the whole job and never returns a path
outside the root:

    resolve_request_path(Path("site"), "/css/app.css?v=3")
    # Resolved(path=PosixPath('/home/me/site/css/app.css'), is_dir=False)
    resolve_request_path(Path("site"), "/%2e%2e/etc/passwd")
    # Refused(status=400, reason="segment '..' is not allowed")

Status codes are chosen so that a probe learns nothing it should not:

* **400** – the path is malformed or ambiguous: bad or invalid percent-encoding,
  a ``.``/``..`` segment, an encoded or raw slash/backslash, control characters,
  a colon (drive letters, NTFS streams), a trailing dot or space, a name too
  long for a file system, a request target that is not an absolute path.
  These say nothing about the files on disk.
* **404** – everything else that is not served: missing files, names matched by
  the deny list (whether or not they exist, so a secret's existence is never
  revealed), symlinks leading out of the root, and special files such as FIFOs.

403 is never used here: answering "forbidden" would confirm that a denied
file exists. :attr:`Refused.reason` is meant for the server log, not for the
response body.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

__all__ = ["DEFAULT_DENY", "Refused", "Resolved", "resolve_request_path"]

DEFAULT_DENY: tuple[str, ...] = (
    # Every dotfile and dot-folder at any depth: .git, .hg, .svn, .env, .env.*,
    # .ssh, .npmrc, .netrc, .htpasswd, .DS_Store, editor swap files, ...
    ".*",
    # Private keys, certificates and key stores.
    "*.pem",
    "*.key",
    "*.crt",
    "*.cer",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
)
"""Glob patterns that are never served (matched case-insensitively).

A pattern without ``/`` is matched against every segment of the path, so
``.*`` hides ``/.env`` as well as ``/app/.git/config``. A pattern with ``/``
is matched against the whole path relative to the root (``drafts/*`` hides
everything under ``/drafts/``; ``*`` crosses ``/`` there).
"""

# Long enough for any real site; bounds the work spent on a hostile request.
MAX_RAW_PATH_LENGTH = 8192
# The common file-system limit on one name, in bytes.
MAX_SEGMENT_BYTES = 255

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_IS_WINDOWS = os.name == "nt"
# Names that open a device on Windows whatever the folder or extension.
_WINDOWS_DEVICE_NAMES = frozenset(
    ["con", "prn", "aux", "nul", "conin$", "conout$"]
    + [f"{prefix}{digit}" for prefix in ("com", "lpt") for digit in "0123456789¹²³"]
)


@dataclass(frozen=True)
class Resolved:
    """A path that may be served: the real (symlink-free) path and its kind.

    A directory request is answered by the server (index file or redirect to
    the slash-terminated URL); this module only says that it is a directory.
    """

    path: Path
    is_dir: bool


@dataclass(frozen=True)
class Refused:
    """A request path that must not be served, with the HTTP status to answer.

    ``status`` is 400 (malformed) or 404 (not served); ``reason`` is for logs.
    """

    status: int
    reason: str


def resolve_request_path(
    root: Path,
    raw_path: str,
    *,
    deny: Sequence[str] = DEFAULT_DENY,
    allow: Sequence[str] = (),
    follow_symlinks: bool = False,
) -> Resolved | Refused:
    """Turn the raw request target ``raw_path`` into a file or folder under ``root``.

    ``raw_path`` is the path as it arrived on the wire: still percent-encoded,
    possibly followed by ``?query`` or ``#fragment`` (both ignored). It is
    decoded exactly once, so ``%252e`` names a file literally called ``%2e``.

    Symlinks whose target stays inside ``root`` are followed. A symlink (file
    or ancestor folder) whose target leaves ``root`` is refused with 404 unless
    ``follow_symlinks`` is true. The deny list is checked against the requested
    name and again against the real path the symlinks lead to, so a link called
    ``notes.txt`` pointing at ``.env`` is refused too.

    ``allow`` holds name patterns (no ``/``) exempt from the name patterns of
    ``deny``: with ``allow=[".well-known"]`` the folder ``/.well-known/`` is
    served, while ``/.well-known/.env`` still is not. Patterns of ``deny``
    that contain a ``/`` cannot be lifted.

    The check and the later open are separate system calls: someone who can
    rewrite the served folder in between can race them. That person can already
    read the files, so the server does not defend against it.

        match resolve_request_path(Path("site"), "/docs/")
            case Resolved(path, is_dir=True): ...   # serve path / "index.html"
            case Resolved(path): ...                # serve the file
            case Refused(status, reason): ...       # answer status, log reason
    """
    segments_or_refusal = _decode_segments(raw_path)
    if isinstance(segments_or_refusal, Refused):
        return segments_or_refusal
    segments, wants_dir = segments_or_refusal

    # Refuse denied names before touching the disk, so that timing and errors
    # cannot tell a probe whether the denied file exists.
    pattern = _matching_deny_pattern(segments, deny, allow)
    if pattern is not None:
        return Refused(404, f"denied by pattern {pattern!r}")

    try:
        real_root = Path(os.path.realpath(root))
        if not stat.S_ISDIR(os.stat(real_root).st_mode):
            return Refused(404, "root is not a directory")
        real_path = Path(os.path.realpath(real_root.joinpath(*segments)))
        mode = os.stat(real_path).st_mode
    except (OSError, ValueError, RuntimeError):
        # ValueError: a name the platform cannot express; RuntimeError: a
        # symlink loop on Python versions that raise it from realpath.
        return Refused(404, "not found")

    if real_path == real_root or real_path.is_relative_to(real_root):
        # The real path can differ from the requested one through symlinks
        # inside the root (or 8.3 short names on Windows): check it as well.
        real_parts = real_path.relative_to(real_root).parts
    elif follow_symlinks:
        real_parts = (real_path.name,)
    else:
        return Refused(404, "symlink leads outside the root")
    pattern = _matching_deny_pattern(real_parts, deny, allow)
    if pattern is not None:
        return Refused(404, f"denied by pattern {pattern!r} (through a symlink)")

    if stat.S_ISDIR(mode):
        return Resolved(real_path, is_dir=True)
    if not stat.S_ISREG(mode):
        # FIFOs, sockets and devices would hang or leak on open.
        return Refused(404, "not a regular file")
    if wants_dir:
        # "/page.html/" is not a folder; serving it would break relative URLs.
        return Refused(404, "not a directory")
    return Resolved(real_path, is_dir=False)


def _decode_segments(raw_path: str) -> tuple[list[str], bool] | Refused:
    """Split the raw path on ``/``, percent-decode each segment once, validate.

    Returns the non-empty decoded segments and whether the path ended in ``/``.
    Splitting happens before decoding so that ``%2f`` can never become a separator.
    """
    if len(raw_path) > MAX_RAW_PATH_LENGTH:
        return Refused(400, "request path too long")
    path = _strip_query_and_fragment(raw_path)
    if not path.startswith("/"):
        return Refused(400, "request path is not absolute")
    if path.startswith("//"):
        # A browser reads "//host/..." as another host; no same-site link sends it.
        return Refused(400, "request path starts with '//'")

    raw_segments = path.split("/")[1:]
    wants_dir = raw_segments[-1] == ""
    segments: list[str] = []
    for raw_segment in raw_segments:
        # Empty segments ("/a//b", trailing "/") carry no name; drop them.
        if not raw_segment:
            continue
        decoded = _percent_decode(raw_segment)
        if isinstance(decoded, Refused):
            return decoded
        problem = _segment_problem(decoded)
        if problem is not None:
            return Refused(400, problem)
        segments.append(decoded)
    return segments, wants_dir


def _strip_query_and_fragment(raw_path: str) -> str:
    cut = len(raw_path)
    for marker in ("?", "#"):
        index = raw_path.find(marker)
        if index != -1:
            cut = min(cut, index)
    return raw_path[:cut]


def _percent_decode(raw_segment: str) -> str | Refused:
    """Decode ``%XX`` escapes once and the result as strict UTF-8.

    Strict UTF-8 rejects overlong forms (``%c0%ae``), surrogates and stray
    continuation bytes, which some decoders turn into ``.`` or ``/``.
    """
    decoded = bytearray()
    index = 0
    length = len(raw_segment)
    while index < length:
        char = raw_segment[index]
        if char == "%":
            digits = raw_segment[index + 1 : index + 3]
            if len(digits) != 2 or not _HEX_DIGITS.issuperset(digits):
                return Refused(400, "malformed percent-encoding")
            decoded.append(int(digits, 16))
            index += 3
        else:
            try:
                decoded += char.encode("utf-8")
            except UnicodeEncodeError:
                return Refused(400, "request path is not valid Unicode")
            index += 1
    if len(decoded) > MAX_SEGMENT_BYTES:
        return Refused(400, "path segment too long")
    try:
        return decoded.decode("utf-8")
    except UnicodeDecodeError:
        return Refused(400, "request path is not valid UTF-8")


def _segment_problem(segment: str) -> str | None:
    """Why a decoded segment cannot name a file unambiguously, or None."""
    if segment in (".", ".."):
        return f"segment {segment!r} is not allowed"
    if "/" in segment or "\\" in segment:
        return "encoded path separator"
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in segment):
        return "control character in path"
    if ":" in segment:
        # Windows reads "C:" as a drive and "name::$DATA" as a file stream.
        return "colon in path"
    if segment.endswith((".", " ")):
        # Windows drops trailing dots and spaces: "key.pem." opens "key.pem".
        return "trailing dot or space in path segment"
    if _IS_WINDOWS and _is_windows_device_name(segment):
        return "reserved device name"
    return None


def _is_windows_device_name(segment: str) -> bool:
    stem = segment.split(".", 1)[0].rstrip(" ").casefold()
    return stem in _WINDOWS_DEVICE_NAMES


def _matching_deny_pattern(parts: Sequence[str], deny: Sequence[str], allow: Sequence[str] = ()) -> str | None:
    """The first deny pattern matching ``parts`` (case-insensitively), or None.

    Case is folded because macOS and Windows file systems open ``KEY.PEM``
    when asked for ``key.pem``. A name matching an ``allow`` pattern is
    exempt from name patterns (those without ``/``).
    """
    folded_parts = [part.casefold() for part in parts]
    folded_path = "/".join(folded_parts)
    folded_allow = [pattern.casefold() for pattern in allow if "/" not in pattern]
    checked_parts = [part for part in folded_parts if not any(fnmatchcase(part, p) for p in folded_allow)]
    for pattern in deny:
        folded_pattern = pattern.casefold()
        if "/" in folded_pattern:
            if fnmatchcase(folded_path, folded_pattern.lstrip("/")):
                return pattern
        elif any(fnmatchcase(part, folded_pattern) for part in checked_parts):
            return pattern
    return None
