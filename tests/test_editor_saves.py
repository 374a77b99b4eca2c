"""Every way editors save a file gives exactly one update, with the final content."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Callable

import pytest

from conftest import write_atomic, write_in_place


def truncate_then_write(path: Path, text: str) -> None:
    with open(path, "w") as fh:  # open("w") truncates first
        fh.write(text[: len(text) // 2])
        fh.flush()
        time.sleep(0.02)  # an editor writing in two chunks
        fh.write(text[len(text) // 2 :])


def vim_backup_dance(path: Path, text: str) -> None:
    """vim's default: probe-write 4913, rename the file to a backup, write anew, drop the backup."""
    probe = path.with_name("4913")
    probe.write_text("")
    probe.unlink()
    backup = path.with_name(path.name + "~")
    os.replace(path, backup)
    path.write_text(text)
    backup.unlink()


def jetbrains_safe_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + "___jb_tmp___")
    old = path.with_name(path.name + "___jb_old___")
    tmp.write_text(text)
    os.replace(path, old)
    os.replace(tmp, path)
    old.unlink()


def delete_then_create(path: Path, text: str) -> None:
    path.unlink()
    path.write_text(text)


def sed_in_place(path: Path, text: str) -> None:
    # Real sed: it writes a temporary sedXXXXXX file and renames it over the original.
    old = path.read_text()
    subprocess.run(["sed", "-i", f"s/{old.split('color: ')[1].split(';')[0]}/{text.split('color: ')[1].split(';')[0]}/", str(path)], check=True)


SAVES: dict[str, Callable[[Path, str], None]] = {
    "in place": write_in_place,
    "truncate then write": truncate_then_write,
    "temp file and rename (VS Code)": write_atomic,
    "vim backup dance": vim_backup_dance,
    "JetBrains safe write": jetbrains_safe_write,
    "delete then create": delete_then_create,
    "sed -i": sed_in_place,
}


@pytest.mark.parametrize("style", list(SAVES))
def test_each_save_style_gives_one_update_with_the_final_content(serve, site: Path, new_page, style: str) -> None:
    probe = site / "css" / "probe.css"
    probe.write_text(".cards { color: rgb(0, 0, 1); }\n")
    index = site / "index.html"
    index.write_text(index.read_text().replace("</head>", '<link rel="stylesheet" href="css/probe.css"></head>'))
    server = serve(str(site))
    page = new_page(server.url)
    page.evaluate("window.__notReloaded = true")
    SAVES[style](probe, ".cards { color: rgb(0, 0, 2); }\n")
    page.wait_for_function("() => getComputedStyle(document.querySelector('.cards')).color === 'rgb(0, 0, 2)'")
    # A later save of another file is printed after any duplicate of this one.
    theme = site / "css" / "theme.css"
    write_in_place(theme, theme.read_text() + "\n")
    server.wait_for_line(r"css\s+/css/theme.css\s+hot")
    updates = [line for line in server.lines if "/css/probe.css" in line]
    assert len(updates) == 1, updates
    assert "hot" in updates[0]
    assert not any("4913" in line or "~" in line or "___jb_" in line or "/sed" in line for line in server.lines)
    assert page.evaluate("window.__notReloaded === true")
