"""Updating an edited page in place (morph) against reloading it, in headless Chromium.

Two `hotreload serve` processes run side by side on copies of one site: one as
usual (pages are morphed), one with --reload-html (pages reload). Each edit is
made in turn on both, and timed from the file write (the moment before the
write call) to the first frame in which the edited text is on screen:

- long page: 5,000 paragraphs; the tab is scrolled to paragraph 2,500 and its
  text is edited (a reload must parse down to it and restore the scroll);
- short page: the example site's home page; its heading is edited. For
  scale, a stylesheet edit on the same page (swapped in place, no fetch of the
  page) is timed in the same run.

"In view" is when the edited text is in the DOM and in the viewport (what
benchmarks/latency.py measures too); "next frame" is the start of the first
animation frame after that, at most one frame (16.7 ms) later.

Usage: python benchmarks/morph.py [--edits 20]
Prints median and p90 per case and the ratio reload / morph.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from common import CHROMIUM_ARGS, REPO, start_server  # noqa: E402 (benchmarks/ is on sys.path when run)
PARAGRAPHS = 5000
EDITED = 2500
SHORT_TARGET_MS = 30

# Installed in every document. `__benchWatch()` polls, on a MessageChannel loop
# (sub-millisecond, unlike requestAnimationFrame), until the wanted text is in
# the element and the element is in the viewport, then stamps that time and the
# time of the next frame. A document that loads while a watch is pending (a
# reload) starts watching at once, before the parser has produced anything.
INIT_SCRIPT = """
window.__benchWatch = () => {
  window.__benchSeen = null;
  window.__benchPainted = null;
  const want = JSON.parse(sessionStorage.getItem('bench:want') || 'null');
  if (!want) return;
  const until = performance.now() + 20000;
  const shown = () => {
    const el = document.querySelector(want.selector);
    if (!el) return false;
    if (want.colour !== undefined) return getComputedStyle(el).color === want.colour;
    if (el.textContent !== want.text) return false;
    const box = el.getBoundingClientRect();
    return box.bottom > 0 && box.top < innerHeight;
  };
  const channel = new MessageChannel();
  channel.port1.onmessage = () => {
    if (shown()) {
      window.__benchSeen = performance.timeOrigin + performance.now();
      sessionStorage.removeItem('bench:want');
      requestAnimationFrame(() => { window.__benchPainted = performance.timeOrigin + performance.now(); });
      return;
    }
    if (performance.now() < until) channel.port2.postMessage(0);
  };
  channel.port2.postMessage(0);
};
if (sessionStorage.getItem('bench:want')) window.__benchWatch();
"""


def long_page(version: int) -> str:
    paragraphs = "\n".join(
        f'<p id="p{n}">Paragraph {n}{f" v{version}" if n == EDITED else ""}: lorem ipsum dolor sit amet, '
        f"consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.</p>"
        for n in range(PARAGRAPHS)
    )
    return (
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8><title>Long</title>"
        '<link rel="stylesheet" href="css/site.css"></head>\n<body><main>\n'
        f"{paragraphs}\n</main></body></html>\n"
    )


def write_in_place(path: Path, text: str) -> None:
    with open(path, "r+b") as fh:
        fh.write(text.encode())
        fh.truncate()


def measure(
    tab, selector: str, text: str, path: Path, content: str, *, colour: str | None = None
) -> tuple[float, float]:
    """Edit ``path`` and return (ms until the text, or colour, is in view; ms until the next frame)."""
    # A tab in the background gets no animation frames: measure the one in front.
    tab.bring_to_front()
    tab.evaluate(
        "([selector, text, colour]) => {"
        " sessionStorage.setItem('bench:want', JSON.stringify({selector, text, colour: colour ?? undefined}));"
        " window.__benchWatch(); }",
        [selector, text, colour],
    )
    start = time.time() * 1000
    write_in_place(path, content)
    tab.wait_for_function("() => window.__benchPainted != null", timeout=30000)
    seen, painted = tab.evaluate("[window.__benchSeen, window.__benchPainted]")
    # A reloaded tab is measured once its client is back, ready for the next edit.
    tab.wait_for_function("() => window.__hotreload && window.__hotreload.ready", timeout=30000)
    return seen - start, painted - start


def summary(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return f"  {name:<20} median {statistics.median(ordered):7.1f} ms   p90 {p90:7.1f} ms   (n={len(ordered)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edits", type=int, default=20, help="edits per case and mode (default 20, at least 15)")
    args = parser.parse_args()
    edits = max(15, args.edits)
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="hotreload-bench-morph-"))
    roots = {"morph": work / "morph", "reload": work / "reload"}
    for root in roots.values():
        shutil.copytree(REPO / "examples" / "site", root)
        (root / "long.html").write_text(long_page(0))
    servers = {"morph": start_server(roots["morph"]), "reload": start_server(roots["reload"], "--reload-html")}
    # case -> mode -> [(in view, next frame)]
    results: dict[str, dict[str, list[tuple[float, float]]]] = {
        "long": {"morph": [], "reload": []}, "short": {"morph": [], "reload": [], "css swap": []},
    }
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                str(work / "profile"), executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 800},
            )
            context.add_init_script(INIT_SCRIPT)
            tabs = {}
            for mode, (_, url) in servers.items():
                tab = context.new_page()
                tab.goto(url + "long.html")
                tab.wait_for_function("() => window.__hotreload && window.__hotreload.ready")
                tab.evaluate(f"document.getElementById('p{EDITED}').scrollIntoView({{block: 'center'}})")
                tabs[mode] = tab
            for i in range(1, edits + 1):
                for mode, tab in tabs.items():
                    results["long"][mode].append(measure(
                        tab, f"#p{EDITED}", f"Paragraph {EDITED} v{i}: lorem ipsum dolor sit amet, consectetur "
                        "adipiscing elit, sed do eiusmod tempor incididunt ut labore.",
                        roots[mode] / "long.html", long_page(i),
                    ))
            home = (REPO / "examples" / "site" / "index.html").read_text()
            for mode, tab in tabs.items():
                tab.goto(servers[mode][1])
                tab.wait_for_function("() => window.__hotreload && window.__hotreload.ready")
            sheet = roots["morph"] / "css" / "site.css"
            styles = sheet.read_text()
            for i in range(1, edits + 1):
                for mode, tab in tabs.items():
                    results["short"][mode].append(measure(
                        tab, "h1", f"Hello, edit {i}", roots[mode] / "index.html",
                        home.replace("Hello from hotreload", f"Hello, edit {i}"),
                    ))
                results["short"]["css swap"].append(measure(
                    tabs["morph"], "h1", "", sheet, styles + f"\nh1 {{ color: rgb({i}, 0, 0); }}\n",
                    colour=f"rgb({i}, 0, 0)",
                ))
            context.close()
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(work, ignore_errors=True)

    print("hotreload: an edited page, morphed in place vs reloaded (headless Chromium, this machine)")
    print("time from the file write to the edited text on screen: in view / next frame")
    for case, title in (("long", f"long page ({PARAGRAPHS:,} paragraphs, edit at {EDITED:,}, in view)"),
                        ("short", "short page (examples/site/index.html, heading)")):
        print(title)
        medians = {}
        for mode in results[case]:
            seen = [s for s, _ in results[case][mode]]
            painted = [f for _, f in results[case][mode]]
            print(summary(f"{mode} in view", seen))
            print(summary(f"{mode} next frame", painted))
            medians[mode] = statistics.median(painted)
        print(f"  reload / morph (next frame, medians): {medians['reload'] / medians['morph']:.1f}x")
    short = statistics.median(s for s, _ in results["short"]["morph"])
    verdict = "met" if short <= SHORT_TARGET_MS else "MISSED"
    print(f"target: a short page's edit in view <= {SHORT_TARGET_MS} ms: {verdict} (median {short:.1f} ms)")


if __name__ == "__main__":
    main()
