"""Hot module replacement on a generated app of 1,000 ES modules, in headless Chromium.

The app is a tree: /src/main.js imports 9 modules, each of those imports 10,
and each of those imports 10 leaves (1 + 9 + 90 + 900 = 1,000 modules). Every
leaf accepts its own updates; main.js accepts its 9 children.

Measured, side by side in one run:

- save → accept callback run, for an edit of a leaf and of a module near the
  root (a child of main.js, accepted there): from the moment before the file
  write to the callback, median and p90;
- the same edit applied by a full page reload instead (what a tab gets when no
  module accepts), for the ratio;
- the page-load time of the whole app (navigation start → main.js has run),
  cold (new server, new browser profile) and warm (reload), served by
  hotreload and by the plain static server (`--no-reload`).

Usage: python benchmarks/hmr.py [--edits 15] [--cold 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from common import CHROMIUM_ARGS, start_server  # noqa: E402 (benchmarks/ is on sys.path when run)
FANOUT = (9, 10, 10)  # children per module at each depth: 1 + 9 + 90 + 900 = 1,000
STAMP = "performance.timeOrigin + performance.now()"


def make_app(root: Path, accepting: bool = True) -> tuple[Path, Path]:
    """Write the app (without any accept() when not ``accepting``); return a leaf and a near-root module."""
    src = root / "src"
    src.mkdir(parents=True)
    (root / "index.html").write_text(
        "<!doctype html><html><head><meta charset=utf-8><title>1000 modules</title></head>"
        '<body><p id="out">loading</p><script type="module" src="/src/main.js"></script></body></html>\n'
    )
    count = 1

    def write(name: str, depth: int) -> None:
        nonlocal count
        path = src / f"{name}.js"
        if depth == len(FANOUT):
            path.write_text(leaf_source(name, 0, accepting))
            return
        children = [f"{name}_{i}" for i in range(FANOUT[depth])]
        count += len(children)
        imports = "".join(f'import {{ value as v{i} }} from "./{child}.js";\n' for i, child in enumerate(children))
        total = " + ".join(f"v{i}" for i in range(len(children)))
        tail = root_tail(children, accepting) if depth == 0 else ""
        path.write_text(f"{imports}export const value = {total};\n" + tail)
        for child in children:
            write(child, depth + 1)

    write("main", 0)
    assert count == 1000, count
    return src / "main_3_4_2.js", src / "main_3.js"


def leaf_source(name: str, version: int, accepting: bool = True) -> str:
    accept = f"import.meta.hot?.accept(() => {{ window.__acceptedAt = {STAMP}; }});\n" if accepting else ""
    return f"export const value = {version};\n" f'export const name = "{name}";\n' + accept


def root_tail(children: list[str], accepting: bool) -> str:
    deps = ", ".join(f'"./{child}.js"' for child in children)
    accept = f"import.meta.hot?.accept([{deps}], () => {{ window.__acceptedAt = {STAMP}; }});\n" if accepting else ""
    return (
        'document.getElementById("out").textContent = "sum " + value;\n'
        "window.__readyAt = performance.now();\n" + accept
    )


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(10)


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def summary(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return f"  {name:<34} median {statistics.median(ordered):7.1f} ms   p90 {p90:7.1f} ms   (n={len(ordered)})"


def load_time(page: Any, url: str) -> float:
    page.goto(url)
    page.wait_for_function("() => window.__readyAt !== undefined", timeout=60_000)
    return page.evaluate("window.__readyAt")


def open_context(playwright: Any, profile: Path) -> Any:
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS
    )


def hot_edits(page: Any, path: Path, edits: int, source_of: Callable[[int], str]) -> list[float]:
    timings = []
    for version in range(1, edits + 1):
        page.evaluate("window.__acceptedAt = null")
        start = time.time() * 1000
        write_atomic(path, source_of(version))
        page.wait_for_function("() => window.__acceptedAt !== null", timeout=30_000)
        timings.append(page.evaluate("window.__acceptedAt") - start)
    return timings


def reload_edits(page: Any, path: Path, edits: int, source_of: Callable[[int], str]) -> list[float]:
    """The same edit seen through a full reload: save → the reloaded app has run."""
    timings = []
    for version in range(1, edits + 1):
        page.evaluate("window.__readyAt = undefined")
        start = time.time() * 1000
        write_atomic(path, source_of(version))
        page.wait_for_function("() => window.__readyAt !== undefined", timeout=60_000)
        timings.append(page.evaluate("performance.timeOrigin + window.__readyAt") - start)
        page.wait_for_function("() => window.__hotreload && window.__hotreload.ready", timeout=30_000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edits", type=int, default=15, help="edits per measurement (default 15)")
    parser.add_argument("--cold", type=int, default=3, help="cold page loads per server kind (default 3)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="hotreload-hmr-bench-"))
    results: dict[str, list[float]] = {}
    try:
        root = work / "app"
        leaf, near_root = make_app(root)
        leaf_name = leaf.stem
        near_original = near_root.read_text()

        def leaf_version(version: int) -> str:
            return leaf_source(leaf_name, version)

        def near_version(version: int) -> str:
            return near_original.replace("export const value =", f"export const value = {version} +")

        with sync_playwright() as playwright:
            # Page loads: cold (fresh server and profile) and warm, with and without hot reload.
            for label, extra in (("hotreload", ()), ("plain (--no-reload)", ("--no-reload",))):
                cold, warm = [], []
                for attempt in range(args.cold):
                    server, url = start_server(root, *extra)
                    context = open_context(playwright, work / f"profile-{label[:5]}-{attempt}")
                    page = context.new_page()
                    cold.append(load_time(page, url))
                    if attempt == 0:
                        for _ in range(5):
                            warm.append(load_time(page, url))
                    context.close()
                    stop(server)
                results[f"page load, cold: {label}"] = cold
                results[f"page load, warm: {label}"] = warm

            server, url = start_server(root)
            context = open_context(playwright, work / "profile-edits")
            page = context.new_page()
            load_time(page, url)
            page.wait_for_function("() => window.__hotreload && window.__hotreload.ready", timeout=30_000)
            results["leaf edit → accept callback"] = hot_edits(page, leaf, args.edits, leaf_version)
            results["near-root edit → accept callback"] = hot_edits(page, near_root, args.edits, near_version)
            context.close()
            stop(server)

            # The same leaf edit in a copy of the app where no module accepts: the tab reloads it all.
            plain_root = work / "app-without-accept"
            plain_leaf, _ = make_app(plain_root, accepting=False)
            server, url = start_server(plain_root)
            context = open_context(playwright, work / "profile-reloads")
            page = context.new_page()
            load_time(page, url)
            page.wait_for_function("() => window.__hotreload && window.__hotreload.ready", timeout=30_000)
            results["leaf edit → full reload"] = reload_edits(
                page, plain_leaf, args.edits, lambda v: leaf_source(plain_leaf.stem, v, accepting=False)
            )
            context.close()
            stop(server)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("hotreload HMR on 1,000 ES modules (headless Chromium, this machine)")
    for name, values in results.items():
        print(summary(name, values))
    median = {name: statistics.median(values) for name, values in results.items()}
    print("ratios")
    print(f"  full reload / hot leaf update          {median['leaf edit → full reload'] / median['leaf edit → accept callback']:6.1f}x")
    for kind in ("cold", "warm"):
        ratio = median[f"page load, {kind}: hotreload"] / median[f"page load, {kind}: plain (--no-reload)"]
        print(f"  page load {kind}, hotreload / plain       {ratio:6.2f}x")
    for name, target in (("leaf edit → accept callback", 15), ("near-root edit → accept callback", 40)):
        verdict = "met" if median[name] <= target else "MISSED"
        print(f"  {name:<38} target <= {target} ms: {verdict} ({median[name] / target:.2f}x of target)")


if __name__ == "__main__":
    main()
