"""Build-aware serving: what a build costs before the browser hears of it, and save-to-screen time.

1. Comparing the output folder by content after a build (no browser): a site of
   --files pages, after a build that rewrote one file (incremental generators)
   and after one that rewrote every file with the same bytes but one (most
   generators). Snapshot with reuse (what the server does) against hashing
   everything again.
2. Save-to-screen in headless Chromium, for a 30-page site built by one small
   generator, side by side: run as `--build "python gen.py"` (a new process per
   build) and as a Python callable through `DevServer.watch` (warm, in the
   server's process). A second tab on another page counts reloads it should
   not get.

Usage: python benchmarks/builds.py [--edits 10] [--files 5000]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import CHROMIUM_ARGS, REPO, WATCH  # noqa: E402 (benchmarks/ is on sys.path when run)
sys.path.insert(0, str(REPO))

from hotreload.outputs import OutputSnapshot  # noqa: E402


GENERATOR = '''\
"""src/pageNN.txt (title line, then text) -> out/pageNN.html, every page rewritten each build."""
import html
import sys
from pathlib import Path


def build(src: Path, out: Path) -> None:
    out.mkdir(exist_ok=True)
    sources = sorted(src.glob("*.txt"))
    nav = "".join(f'<a href="{s.stem}.html">{s.stem}</a> ' for s in sources)
    for source in sources:
        title, _, body = source.read_text().partition("\\n")
        (out / f"{source.stem}.html").write_text(
            f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title></head>"
            f"<body><nav>{nav}</nav><h1 id=title>{html.escape(title)}</h1><p>{html.escape(body)}</p></body></html>\\n"
        )


if __name__ == "__main__":
    build(Path(sys.argv[1]), Path(sys.argv[2]))
'''

API_SERVER = '''\
import sys
from pathlib import Path

sys.path.insert(0, {work!r})
import gen
from hotreload import DevServer

src, out = Path({src!r}), Path({out!r})
server = DevServer(out, port=0)
server.watch(src, lambda changed: gen.build(src, out))
server.serve_forever()
'''


def snapshot_costs(files: int, runs: int = 7) -> None:
    work = Path(tempfile.mkdtemp(prefix="hotreload-bench-snap-"))
    try:
        site = work / "site"
        site.mkdir()
        body = "x" * 4000
        for n in range(files):
            (site / f"page{n:05d}.html").write_text(f"<h1>{n}</h1>{body}")
        past = time.time() - 3600
        for path in site.iterdir():
            os.utime(path, (past, past))  # written by an earlier build
        baseline = OutputSnapshot.take(site)
        one, every, full = [], [], []
        for run in range(runs):
            (site / "page00007.html").write_text(f"<h1>edit {run}</h1>{body}")
            started = time.perf_counter()
            after = baseline.retake()
            changed = after.changed_since(baseline)
            one.append(time.perf_counter() - started)
            assert len(changed) == 1
            for n in range(files):  # every output rewritten, one with new bytes
                text = f"<h1>{n}</h1>{body}" if n != 7 else f"<h1>again {run}</h1>{body}"
                (site / f"page{n:05d}.html").write_text(text)
            started = time.perf_counter()
            again = after.retake()
            changed = again.changed_since(after)
            every.append(time.perf_counter() - started)
            assert len(changed) == 1
            started = time.perf_counter()
            OutputSnapshot.take(site)
            full.append(time.perf_counter() - started)
            for path in site.iterdir():
                os.utime(path, (past, past))
            baseline = OutputSnapshot.take(site)
        one_ms, every_ms, full_ms = (statistics.median(v) * 1000 for v in (one, every, full))
        print(f"output comparison, {files} pages of 4 KB (median of {runs}):")
        print(f"  build rewrote 1 file        {one_ms:7.1f} ms   ({full_ms / one_ms:5.1f}x faster than hashing all)")
        print(f"  build rewrote every file    {every_ms:7.1f} ms   ({full_ms / every_ms:5.1f}x of hashing all)")
        print(f"  hashing everything again    {full_ms:7.1f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def start(argv: list[str], cwd: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    url = ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        match = re.search(r"Local:\s+(http://\S+)", line)
        if match:
            url = match.group(1)
        if url and re.search(r"build .* ok ", line):
            break
    if not url:
        proc.kill()
        raise SystemExit("server did not start")
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    return proc, url


def save_to_screen(context, url: str, src: Path, edits: int) -> tuple[list[float], int]:
    page = context.new_page()
    page.add_init_script(
        "document.addEventListener('DOMContentLoaded', () => {"
        " window.__domAt = performance.timeOrigin + performance.now(); });"
    )
    other = context.new_page()
    page.goto(url + "page05.html")
    other.goto(url + "page20.html")
    for tab in (page, other):
        tab.wait_for_function("() => window.__hotreload && window.__hotreload.ready")
    other_loads: list[str] = []
    other.on("load", lambda: other_loads.append(other.url))
    times = []
    source = src / "page05.txt"
    for i in range(edits):
        # The page is morphed in place (a poll in the page sees the new title) or
        # reloaded (its DOMContentLoaded time is recorded): whichever happens.
        page.evaluate("window.__domAt = null")
        page.evaluate(WATCH, [f"() => document.getElementById('title')?.textContent === 'Edit {i}'", 20000])
        started = time.time() * 1000
        tmp = source.with_name("page05.txt.tmp")
        tmp.write_text(f"Edit {i}\nnew text")
        os.replace(tmp, source)
        page.wait_for_function(
            f"() => document.getElementById('title')?.textContent === 'Edit {i}'"
            " && (window.__seenAt || window.__domAt)", timeout=20000,
        )
        times.append(page.evaluate("window.__seenAt || window.__domAt") - started)
        page.wait_for_function("() => window.__hotreload && window.__hotreload.ready")
    page.close()
    other.close()
    return times, len(other_loads)


def make_project(root: Path) -> tuple[Path, Path]:
    src, out = root / "src", root / "out"
    src.mkdir(parents=True)
    for n in range(30):
        (src / f"page{n:02d}.txt").write_text(f"Page {n}\nsome text for page {n}")
    (root / "gen.py").write_text(GENERATOR)
    return src, out


def browser_runs(edits: int) -> None:
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="hotreload-bench-builds-"))
    results: dict[str, tuple[list[float], int]] = {}
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                str(work / "profile"), executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS
            )
            for name in ("--build command", "Python callable"):
                root = work / name.strip("-").replace(" ", "-")
                src, out = make_project(root)
                if name == "--build command":
                    argv = [
                        sys.executable, "-u", "-m", "hotreload", "serve", str(out), "--port", "0",
                        "--watch", str(src), "--build", f"{sys.executable} gen.py {src} {out}",
                    ]
                else:
                    (root / "serve.py").write_text(API_SERVER.format(work=str(root), src=str(src), out=str(out)))
                    argv = [sys.executable, "-u", "serve.py"]
                proc, url = start(argv, root)
                try:
                    results[name] = save_to_screen(context, url, src, edits)
                finally:
                    proc.terminate()
                    proc.wait(10)
            context.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"save -> new text visible, 30-page site (median of {edits}; headless Chromium):")
    for name, (times, other) in results.items():
        print(f"  {name:<17} median {statistics.median(times):6.1f} ms   p90 {sorted(times)[int(0.9 * (len(times) - 1))]:6.1f} ms"
              f"   other tab reloaded {other} time(s)")
    command, callable_ = (statistics.median(results[n][0]) for n in ("--build command", "Python callable"))
    print(f"  the warm callable takes {callable_ / command:.2f}x the command's time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edits", type=int, default=10)
    parser.add_argument("--files", type=int, default=5000)
    args = parser.parse_args()
    snapshot_costs(args.files)
    browser_runs(args.edits)


if __name__ == "__main__":
    main()
