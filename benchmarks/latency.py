"""Save-to-screen latency of `hotreload serve`, measured in headless Chromium.

For each kind of edit, the time from the file write (the moment before the
editor's write call) to the change being visible in the page:

- CSS: a colour in a linked stylesheet changes the computed style;
- CSS @import: the same through a sheet reached by @import (one more request);
- image: a PNG's pixels change in an <img>;
- HTML: a page's text changes (the tab morphs it in place);
- burst: 300 files written at once (the open page among them) -> page loads
  and in-place updates.

Usage: python benchmarks/latency.py [--edits 20]
Prints median and p90 per kind, and the burst's page-load count.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import struct
import tempfile
import time
import zlib
from pathlib import Path

from common import CHROMIUM_ARGS, WATCH, start_server  # noqa: E402 (benchmarks/ is on sys.path when run)


def png(rgb: tuple[int, int, int], size: int = 64) -> bytes:
    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def make_site(root: Path) -> None:
    (root / "css").mkdir(parents=True)
    (root / "css" / "theme.css").write_text(".deep { color: rgb(0, 0, 0); }\n")
    (root / "css" / "site.css").write_text('@import url("theme.css");\nbody { margin: 0; }\n')
    (root / "css" / "probe.css").write_text(".probe { color: rgb(0, 0, 0); }\n")
    (root / "logo.png").write_bytes(png((0, 0, 0)))
    (root / "index.html").write_text(
        "<!doctype html><html><head><meta charset=utf-8><link rel=stylesheet href=css/site.css>"
        "<link rel=stylesheet href=css/probe.css></head>"
        "<body><p class=probe>probe</p><p class=deep>deep</p><img id=logo src=logo.png width=64 height=64>"
        "<h1 id=title>v0</h1></body></html>\n"
    )


# Pause between edits, as between a person's saves: the server finishes the
# previous update's follow-up work (re-reading the sheet a tab fetched).
BETWEEN_EDITS = 0.15


def measure(page, check: str, edit) -> float:
    time.sleep(BETWEEN_EDITS)
    page.evaluate(WATCH, [check, 5000])
    start = time.time() * 1000
    edit()
    page.wait_for_function("() => window.__seenAt !== null", timeout=10000)
    return page.evaluate("window.__seenAt") - start


def summary(name: str, values: list[float]) -> str:
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(round(0.9 * (len(values) - 1))))]
    return f"{name:<6} median {statistics.median(values):6.1f} ms   p90 {p90:6.1f} ms   (n={len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edits", type=int, default=20, help="edits per kind (default 20)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="hotreload-bench-"))
    root = work / "site"
    make_site(root)
    server, url = start_server(root)
    results: dict[str, list[float]] = {"css": [], "import": [], "image": [], "html": []}
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                str(work / "profile"), executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS
            )
            page = context.new_page()
            page.goto(url)
            page.wait_for_function("() => window.__hotreload && window.__hotreload.ready")
            for name, sheet, selector in (("css", "probe.css", ".probe"), ("import", "theme.css", ".deep")):
                path = root / "css" / sheet
                for i in range(args.edits):
                    colour = f"rgb({i + 1}, 0, 0)"

                    def edit_css(colour: str = colour, path: Path = path, selector: str = selector) -> None:
                        path.write_text(f"{selector} {{ color: {colour}; }}\n")

                    check = f"() => getComputedStyle(document.querySelector('{selector}')).color === '{colour}'"
                    results[name].append(measure(page, check, edit_css))
            logo = root / "logo.png"
            for i in range(args.edits):
                shade = 10 + i * 10

                def edit_image(shade: int = shade) -> None:
                    tmp = logo.with_name("logo.png.tmp")
                    tmp.write_bytes(png((shade, 0, 0)))
                    os.replace(tmp, logo)

                check = (
                    "() => { const img = document.getElementById('logo'); if (!img.complete) return false;"
                    " const c = document.createElement('canvas'); c.width = c.height = 1;"
                    " const x = c.getContext('2d'); x.drawImage(img, 0, 0, 1, 1);"
                    f" return x.getImageData(0, 0, 1, 1).data[0] === {shade}; }}"
                )
                results["image"].append(measure(page, check, edit_image))
            index = root / "index.html"
            base = index.read_text()
            for i in range(args.edits):

                def edit_html(i: int = i) -> None:
                    index.write_text(base.replace(">v0<", f">v{i + 1}<"))

                check = f"() => document.getElementById('title').textContent === 'v{i + 1}'"
                results["html"].append(measure(page, check, edit_html))
                page.wait_for_function("() => window.__hotreload && window.__hotreload.ready")
            # A burst: 300 files written at once, the open page among them.
            loads: list[str] = []
            page.on("load", lambda: loads.append(page.url))
            morphs_before = page.evaluate("window.__hotreload.applied.length")
            burst = root / "burst"
            burst.mkdir()
            for n in range(299):
                (burst / f"page{n}.html").write_text(f"<p>{n}</p>\n")
            index.write_text(base.replace(">v0<", ">burst<"))
            page.wait_for_function("() => document.getElementById('title').textContent === 'burst'", timeout=10000)
            page.wait_for_timeout(2000)  # a benchmark may wait: count loads over a fixed window
            morphs = page.evaluate("window.__hotreload.applied.length") - morphs_before if not loads else 0
            context.close()
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    print("hotreload save-to-screen latency (headless Chromium, this machine)")
    for name, values in results.items():
        print(summary(name, values))
    print(f"burst  300 files -> {len(loads)} page load(s), {morphs} in-place update(s)")
    targets = {"css": 10, "image": 10, "html": 70}  # the @import case has no separate target
    for name, target in targets.items():
        median = statistics.median(results[name])
        print(f"  {name:<6} target <= {target} ms: {'met' if median <= target else 'MISSED'} ({median / target:.2f}x of target)")


if __name__ == "__main__":
    main()
