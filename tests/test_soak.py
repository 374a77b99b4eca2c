"""Soak: minutes of random edits with three tabs open; every edit shows in every tab
that shows it, none is missed, and the server's memory stays flat.

Not part of the default run: `pytest -m soak -s` (it prints its figures). The
length is HOTRELOAD_SOAK_SECONDS (default 240, at most 540, so the whole test
stays within 10 minutes); HOTRELOAD_SOAK_SEED picks the sequence of edits.
"""

from __future__ import annotations

import os
import random
import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from conftest import wait_connected, write_atomic, write_in_place
from test_browser_updates import png

pytestmark = [pytest.mark.soak, pytest.mark.timeout(600)]

SECONDS = min(float(os.environ.get("HOTRELOAD_SOAK_SECONDS", "240")), 540.0)
SEED = int(os.environ.get("HOTRELOAD_SOAK_SEED", "5"))
OBSERVE_TIMEOUT = 30_000  # ms; an edit not seen within this is counted as missed
WARM_UP_EDITS = 40
MEMORY_GROWTH_LIMIT_KB = 20 * 1024

PIXEL = """(rgb) => {
    const img = document.getElementById('logo');
    if (!img || !img.complete || !img.naturalWidth) return false;
    const c = document.createElement('canvas'); c.width = c.height = 4;
    const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0, 4, 4);
    const [r, g, b] = ctx.getImageData(1, 1, 1, 1).data;
    return Math.abs(r - rgb[0]) < 8 && Math.abs(g - rgb[1]) < 8 && Math.abs(b - rgb[2]) < 8;
}"""


@dataclass
class Kind:
    """One kind of edit: the file it touches, how, and how a tab shows it."""

    name: str
    file: str
    tabs: tuple[str, ...]  # the pages that show its effect
    check: str  # a JS predicate taking the expected value
    apply: Callable[[Path, int], object]  # writes edit number n, returns the expected value
    count: int = 0
    latencies: list[float] = field(default_factory=list)


def rgb(n: int) -> tuple[int, int, int]:
    return (n * 37) % 256, (n * 91) % 256, (n * 53 + 7) % 256


def css_colour(n: int) -> str:
    r, g, b = rgb(n)
    return f"rgb({r}, {g}, {b})"


def replace_marked(text: str, marker: str, line: str) -> str:
    """Replace the line ending in ``marker`` (or add it at the end)."""
    kept = [existing for existing in text.splitlines() if not existing.endswith(marker)]
    return "\n".join(kept) + f"\n{line} {marker}\n"


def saved(path: Path, text: str | bytes, rnd: random.Random) -> None:
    (write_atomic if rnd.random() < 0.5 else write_in_place)(path, text)


def make_kinds(site: Path, rnd: random.Random) -> list[Kind]:
    def outline(root: Path, n: int) -> str:
        css = root / "css" / "site.css"
        saved(css, replace_marked(css.read_text(), "/* soak */", f"html {{ outline-color: {css_colour(n)}; }}"), rnd)
        return css_colour(n)

    def paper(root: Path, n: int) -> str:
        theme = root / "css" / "theme.css"
        saved(theme, re.sub(r"--paper: [^;]+;", f"--paper: {css_colour(n)};", theme.read_text()), rnd)
        return css_colour(n)

    def note(root: Path, n: int) -> str:
        docs = root / "docs" / "docs.css"
        saved(docs, replace_marked(docs.read_text(), "/* soak */", f".note {{ color: {css_colour(n)}; }}"), rnd)
        return css_colour(n)

    def heading(page: str, original: str) -> Callable[[Path, int], str]:
        def edit(root: Path, n: int) -> str:
            path = root / page
            saved(path, re.sub(r"<h1>[^<]*</h1>", f"<h1>{original} {n}</h1>", path.read_text()), rnd)
            return f"{original} {n}"

        return edit

    def module(root: Path, n: int) -> str:
        saved(root / "js" / "greet.js", f"export function greet(name) {{\n  return `${{name}}: soak {n}`;\n}}\n", rnd)
        return f"module: soak {n}"

    def classic(root: Path, n: int) -> str:
        saved(root / "js" / "classic.js", f'document.getElementById("classic").textContent = "classic: soak {n}";\n', rnd)
        return f"classic: soak {n}"

    def logo(root: Path, n: int) -> list[int]:
        saved(root / "img" / "logo.png", png(rgb(n)), rnd)
        return list(rgb(n))

    every = ("/", "/about.html", "/docs/")
    style = "(sel, prop) => (v) => document.querySelector(sel) && getComputedStyle(document.querySelector(sel))[prop] === v"
    text = "(v) => { const e = document.querySelector(%r); return !!e && e.textContent === v; }"
    return [
        Kind("css", "css/site.css", every, f"({style})('html', 'outlineColor')", outline),
        Kind("css @import", "css/theme.css", every, f"({style})('body', 'backgroundColor')", paper),
        Kind("css one page", "docs/docs.css", ("/docs/",), f"({style})('.note', 'color')", note),
        Kind("html home", "index.html", ("/",), text % "h1", heading("index.html", "Hello from hotreload")),
        Kind("html about", "about.html", ("/about.html",), text % "h1", heading("about.html", "About")),
        Kind("html docs", "docs/index.html", ("/docs/",), text % "h1", heading("docs/index.html", "Docs")),
        Kind("js module", "js/greet.js", ("/",), text % "#module", module),
        Kind("js classic", "js/classic.js", ("/",), text % "#classic", classic),
        Kind("image", "img/logo.png", ("/",), PIXEL, logo),
    ]


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_random_edits_for_minutes_are_each_seen_in_every_tab_and_memory_stays_flat(
    serve, site: Path, new_page
) -> None:
    rnd = random.Random(SEED)
    server = serve(str(site))
    pid = server.proc.pid
    tabs = {path: new_page(server.url + path.lstrip("/")) for path in ("/", "/about.html", "/docs/")}
    kinds = make_kinds(site, rnd)
    expected: dict[str, object] = {}
    missed: list[str] = []
    samples: list[tuple[int, int, int]] = []  # (edit number, RSS kB, open files)
    started = time.monotonic()
    n = 0
    while time.monotonic() - started < SECONDS:
        n += 1
        kind = rnd.choice(kinds)
        edit_started = time.monotonic()
        value = kind.apply(site, n)
        expected[kind.name] = value
        kind.count += 1
        for path in kind.tabs:
            try:
                tabs[path].wait_for_function(kind.check, arg=value, timeout=OBSERVE_TIMEOUT, polling=25)
            except Exception as error:  # noqa: BLE001 - counted, reported at the end
                missed.append(f"edit {n} ({kind.name} = {value}) not seen in {path}: {type(error).__name__}")
        kind.latencies.append(time.monotonic() - edit_started)
        if n % 20 == 0:
            samples.append((n, rss_kb(pid), open_files(pid)))
        if rnd.random() < 0.05:
            # Now and then, several edits at once, like a save-all or a build.
            burst = rnd.sample(kinds, 3)
            for extra in burst:
                n += 1
                expected[extra.name] = extra.apply(site, n)
                extra.count += 1
    # Finally every tab shows the newest value of everything it shows.
    for kind in kinds:
        if kind.name in expected:
            for path in kind.tabs:
                try:
                    tabs[path].wait_for_function(kind.check, arg=expected[kind.name], timeout=OBSERVE_TIMEOUT)
                except Exception as error:  # noqa: BLE001
                    missed.append(f"final {kind.name} = {expected[kind.name]} not seen in {path}: {error}")
    for page in tabs.values():
        wait_connected(page, timeout=OBSERVE_TIMEOUT)
    samples.append((n, rss_kb(pid), open_files(pid)))

    warm = [s for s in samples if s[0] >= WARM_UP_EDITS] or samples
    baseline_rss, final_rss = warm[0][1], samples[-1][1]
    print(f"\nsoak: {n} edits in {time.monotonic() - started:.0f} s (seed {SEED}), 3 tabs, missed {len(missed)}")
    for kind in kinds:
        if kind.latencies:
            ordered = sorted(kind.latencies)
            p90 = ordered[int(0.9 * (len(ordered) - 1))]
            print(f"  {kind.name:<13} {kind.count:4d} edits   seen in every tab: median {statistics.median(ordered) * 1000:6.0f} ms"
                  f"   p90 {p90 * 1000:6.0f} ms")
    print(f"  server RSS: {samples[0][1] / 1024:.1f} MB first, {baseline_rss / 1024:.1f} MB after warm-up, "
          f"{final_rss / 1024:.1f} MB at the end ({(final_rss - baseline_rss) / 1024:+.1f} MB); "
          f"open files {warm[0][2]} -> {samples[-1][2]}")
    print("  RSS by edit: " + ", ".join(f"{edit}:{rss / 1024:.1f}" for edit, rss, _ in samples[:: max(1, len(samples) // 12)]))
    assert not missed, "\n".join(missed[:20])
    assert final_rss - baseline_rss < MEMORY_GROWTH_LIMIT_KB
    assert samples[-1][2] <= warm[0][2] + 10
    assert not any("Traceback" in line or "dropping tab" in line for line in server.lines)
