"""The system's limit on file watches: noticing it was reached, and saying how to raise it.

On Linux every watched folder costs one inotify watch, and a user has a fixed
budget of them (``fs.inotify.max_user_watches``), shared by every editor,
language server and file watcher they run. When the budget is spent the
kernel refuses new watches with ``ENOSPC``; watchdog raises that for the
folder it was asked to watch but passes over the sub-folders it adds on its
own, so a folder can end up silently unwatched. :func:`watched_folders` reads
back from the kernel which folders this process really watches, so that the
watcher can compare it with the folders it needs, and :func:`limit_advice`
words the message the user gets when it falls back to polling.

    watched = watched_folders()
    if watched is not None and folder_id(os.stat("site")) not in watched:
        problem, remedy = limit_advice(errno.ENOSPC)
        print(f"{problem}: polling site instead. {remedy}")
"""

from __future__ import annotations

import errno
import os
import sys

__all__ = ["FolderId", "folder_id", "limit_advice", "watched_folders"]

FolderId = tuple[int, int, int]
"""A folder as the kernel knows it: device major, device minor, inode number."""

_WATCHES_SETTING = "fs.inotify.max_user_watches"
_INSTANCES_SETTING = "fs.inotify.max_user_instances"
# A common, comfortable value: each watch costs about 1 KiB of kernel memory.
_SUGGESTED_WATCHES = 524288
_SUGGESTED_INSTANCES = 1024
# The kernel's dev_t keeps the minor number in its low 20 bits (MINORBITS).
_KERNEL_MINOR_BITS = 20


def folder_id(stat_result: os.stat_result) -> FolderId:
    """The identity of a folder, comparable with :func:`watched_folders`.

        >>> folder_id(os.stat("/")) == folder_id(os.stat("/."))
        True
    """
    dev = stat_result.st_dev
    return os.major(dev), os.minor(dev), stat_result.st_ino


def watched_folders() -> set[FolderId] | None:
    """The folders (and files) this process holds inotify watches on.

    Read from ``/proc/self/fdinfo``; None where that is not available (not
    Linux, ``/proc`` not mounted), meaning "unknown", never "nothing".

        watched = watched_folders()   # {(254, 0, 1507087), ...}
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        descriptors = os.listdir("/proc/self/fd")
    except OSError:
        return None
    found: set[FolderId] = set()
    for fd in descriptors:
        try:
            if os.readlink(f"/proc/self/fd/{fd}") != "anon_inode:inotify":
                continue
            with open(f"/proc/self/fdinfo/{fd}", encoding="ascii") as info:
                lines = info.read().splitlines()
        except (OSError, ValueError):
            continue  # closed meanwhile, or not an inotify descriptor after all
        for line in lines:
            if line.startswith("inotify wd:"):
                watched = _parse_watch(line)
                if watched is not None:
                    found.add(watched)
    return found


def _parse_watch(line: str) -> FolderId | None:
    """``inotify wd:3 ino:170312 sdev:fe00000 mask:...`` (hexadecimal fields)."""
    fields = dict(part.split(":", 1) for part in line.split()[1:] if ":" in part)
    try:
        inode = int(fields["ino"], 16)
        kernel_dev = int(fields["sdev"], 16)
    except (KeyError, ValueError):
        return None
    return kernel_dev >> _KERNEL_MINOR_BITS, kernel_dev & ((1 << _KERNEL_MINOR_BITS) - 1), inode


def _read_setting(name: str) -> str | None:
    try:
        with open("/proc/sys/" + name.replace(".", "/"), encoding="ascii") as setting:
            return setting.read().strip()
    except OSError:
        return None


def limit_advice(error_number: int) -> tuple[str, str]:
    """What went wrong when a watch limit forced polling, and how to raise the limit.

        >>> problem, remedy = limit_advice(errno.ENOSPC)
        >>> "limit" in problem and "sysctl" in remedy
        True
    """
    if error_number == errno.EMFILE:
        setting, suggested, what = _INSTANCES_SETTING, _SUGGESTED_INSTANCES, "file watchers"
    else:
        setting, suggested, what = _WATCHES_SETTING, _SUGGESTED_WATCHES, "watched folders"
    current = _read_setting(setting) if sys.platform.startswith("linux") else None
    problem = f"the system's limit on {what} is reached" + (f" ({setting} = {current})" if current else "")
    if not sys.platform.startswith("linux"):
        return problem, "close other programs that watch files, or pass --poll"
    remedy = (
        f"To raise the limit: sudo sysctl {setting}={suggested} "
        f"(and add '{setting}={suggested}' to /etc/sysctl.conf to keep it)"
    )
    return problem, remedy
