"""Edit a page of a ~30-page Sphinx or MkDocs project: how long until a browser
tab shows the new text? hotreload side by side with sphinx-autobuild and
``mkdocs serve``, on the same generated projects, in one run.

For each server: open two tabs (the page being edited and another page), save
the source ``--runs`` times (median and 90th percentile of save → new text
visible), count how often the other tab was reloaded or updated in place, then
break the source so the build fails and time how long until the error is
visible in the tab.

    pip install sphinx-autobuild
    python benchmarks/ssg.py              # both generators, 10 edits each
    python benchmarks/ssg.py --runs 20 --only sphinx
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from common import CHROMIUM_ARGS, REPO  # noqa: E402 (benchmarks/ is on sys.path when run)
PAGES = 30
PROSE = (
    "The keeper climbs the tower at dusk, trims the wick, polishes the lens and writes the weather "
    "in the log. Ships read the light's character from miles away: two flashes, a pause, one flash. "
)
# How long a failed build may take to show before we call it "not shown".
ERROR_WAIT = 5.0
OVERLAY = "hotreload-error-overlay"


# ---------------------------------------------------------------------------
# The projects: the examples, grown to about 30 pages
# ---------------------------------------------------------------------------


def make_sphinx_project(dest: Path) -> Path:
    shutil.copytree(REPO / "examples" / "sphinx", dest, ignore=shutil.ignore_patterns("_build"))
    extra = PAGES - 4
    names = [f"chapter{i:02d}" for i in range(1, extra + 1)]
    for i, name in enumerate(names):
        following = names[(i + 1) % len(names)]
        sections = [f"Chapter {i + 1}\n{'=' * (8 + len(str(i + 1)))}\n"]
        for s in range(5):
            sections.append(
                f"Section {s}\n---------\n\n{PROSE * 4}\n\nNext: :doc:`{following}`.\n\n"
                f".. code-block:: python\n\n   def signal_{s}(ship):\n       return ship.heading + {s}\n"
            )
        (dest / f"{name}.rst").write_text("\n".join(sections))
    index = dest / "index.rst"
    index.write_text(index.read_text() + "".join(f"   {name}\n" for name in names))
    return dest


def make_mkdocs_project(dest: Path) -> Path:
    shutil.copytree(REPO / "examples" / "mkdocs", dest, ignore=shutil.ignore_patterns("site"))
    extra = PAGES - 4
    names = [f"chapter{i:02d}" for i in range(1, extra + 1)]
    for i, name in enumerate(names):
        following = names[(i + 1) % len(names)]
        sections = [f"# Chapter {i + 1}\n"]
        for s in range(5):
            sections.append(
                f"## Section {s}\n\n{PROSE * 4}\n\nNext: [the next chapter]({following}.md).\n\n"
                f"```python\ndef signal_{s}(ship):\n    return ship.heading + {s}\n```\n"
            )
        (dest / "docs" / f"{name}.md").write_text("\n".join(sections))
    config = dest / "mkdocs.yml"
    config.write_text(config.read_text() + "".join(f"  - Chapter {i + 1}: {name}.md\n" for i, name in enumerate(names)))
    return dest


# ---------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Contender:
    name: str
    argv: list[str]
    project: Path
    edited: Path  # the source file saved on every run
    edited_url: str
    other_url: str
    break_file: Path  # saved with an error to make the build fail
    broken_text: str
    shows_errors: bool  # whether the tool claims to show a failed build in the page
    process: subprocess.Popen[bytes] | None = None
    latencies: list[float] = field(default_factory=list)
    cpu_per_edit: float | None = None
    other_reloads: int = 0
    error_visible: float | None = None


def start(contender: Contender, port: int, timeout: float = 120.0) -> None:
    log = open(contender.project.parent / f"{contender.name.replace(' ', '_')}.log", "wb")
    contender.process = subprocess.Popen(
        contender.argv, cwd=contender.project, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}{contender.edited_url}"
    while time.monotonic() < deadline:
        if contender.process.poll() is not None:
            raise RuntimeError(f"{contender.name} exited early; see {log.name}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{contender.name} did not serve {url} within {timeout:.0f} s")


def tree_cpu_seconds(root_pid: int) -> float:
    """CPU time used so far by a process and all its descendants, including
    children they already reaped (Linux /proc). The steadier figure on a busy
    machine, where wall-clock latency also measures the neighbours."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command name: state ppid ... utime(12) stime(13) cutime(14) cstime(15).
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = sum(int(value) for value in fields[11:15]) / ticks
    family = {root_pid}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in family and pid not in family:
                family.add(pid)
                grew = True
    return sum(times.get(pid, 0.0) for pid in family)


def stop(contender: Contender) -> None:
    process = contender.process
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


# ---------------------------------------------------------------------------
# Measuring in the browser
# ---------------------------------------------------------------------------


def save(path: Path, text: str) -> None:
    """Save the way most editors do: write a temporary file, rename it over."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def wait_in_page(page, condition: str, timeout: float) -> float | None:
    """Wall-clock ms (the page's Date.now()) when ``condition`` first held, or None.

    The tab may reload while we wait; its old document's check then fails and
    we look again in the new one.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        remaining_ms = max(1, int((deadline - time.monotonic()) * 1000))
        try:
            handle = page.wait_for_function(f"() => ({condition}) && Date.now()", polling="raf", timeout=remaining_ms)
            return float(handle.json_value())
        except Exception as exc:  # navigation destroyed the context, or the time ran out
            if "Timeout" in type(exc).__name__ or "Timeout" in str(exc)[:80]:
                return None
    return None


def text_shown(token: str) -> str:
    return f"document.body && document.body.innerText.includes({token!r})"


def measure(contender: Contender, context, runs: int, port: int) -> None:
    base = f"http://127.0.0.1:{port}"
    edited = context.new_page()
    other = context.new_page()
    edited.goto(base + contender.edited_url)
    other.goto(base + contender.other_url)
    # A background tab's timers and frames are throttled: watch the edited page in front.
    edited.bring_to_front()
    loads = {"count": 0}
    other.on("load", lambda _page: loads.__setitem__("count", loads["count"] + 1))
    measured_from = 0
    measured_since = 0.0
    cpu_before = 0.0

    original = contender.edited.read_text()
    # One warm-up edit: proves the live reload is connected, and warms the generator.
    for run in range(-1, runs):
        token = f"Beacon check {run + 2} at {time.time():.3f}"
        started = time.time() * 1000
        save(contender.edited, original + f"\n\n{token}\n")
        shown = wait_in_page(edited, text_shown(token), timeout=30)
        if shown is None:
            raise RuntimeError(f"{contender.name}: edit {run + 2} never showed")
        if run >= 0:
            contender.latencies.append(shown - started)
        else:
            wait_in_page(other, "false", timeout=1.0)
            measured_from = loads["count"]
            measured_since = time.time() * 1000
            cpu_before = tree_cpu_seconds(contender.process.pid)
    # Give the other tab the same chance to react as the edited one had, then count.
    wait_in_page(other, "false", timeout=1.0)
    # A hotreload tab may also be updated in place (morphed) without a reload.
    in_place = other.evaluate(
        "(since) => ((window.__hotreload && window.__hotreload.received) || [])"
        ".filter((m) => (m.type === 'update' || m.type === 'reload') && m.at >= since).length",
        measured_since,
    )
    contender.other_reloads = loads["count"] - measured_from + in_place
    contender.cpu_per_edit = (tree_cpu_seconds(contender.process.pid) - cpu_before) / runs

    broken_source = contender.break_file.read_text()
    started = time.time() * 1000
    save(contender.break_file, contender.broken_text)
    condition = (
        f"document.querySelector('{OVERLAY}') && "
        f"document.querySelector('{OVERLAY}').shadowRoot.textContent.length > 0"
        if contender.shows_errors else "false"
    )
    shown = wait_in_page(edited, condition, timeout=ERROR_WAIT)
    contender.error_visible = None if shown is None else shown - started
    save(contender.break_file, broken_source)
    save(contender.edited, original)
    edited.close()
    other.close()


# ---------------------------------------------------------------------------
# Running it all
# ---------------------------------------------------------------------------


def sphinx_contenders(workdir: Path) -> list[tuple[Contender, int]]:
    contenders = []
    for name in ("hotreload sphinx", "sphinx-autobuild"):
        project = make_sphinx_project(workdir / name.replace(" ", "-") / "docs")
        port = free_port()
        common = [".", "_build/html", "-W", "--port", str(port), "--host", "127.0.0.1"]
        argv = (
            [sys.executable, "-m", "hotreload", "sphinx", *common] if name.startswith("hotreload")
            else [sys.executable, "-m", "sphinx_autobuild", *common]
        )
        edited = project / "chapter05.rst"
        contenders.append((Contender(
            name, argv, project, edited, "/chapter05.html", "/chapter12.html", edited,
            edited.read_text() + "\n.. no-such-directive::\n", shows_errors=name.startswith("hotreload"),
        ), port))
    return contenders


def mkdocs_contenders(workdir: Path) -> list[tuple[Contender, int]]:
    contenders = []
    for name in ("hotreload mkdocs", "hotreload --dirty", "mkdocs serve"):
        project = make_mkdocs_project(workdir / name.replace(" ", "-") / "handbook")
        port = free_port()
        if name == "mkdocs serve":
            argv = [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"]
        else:
            argv = [sys.executable, "-m", "hotreload", "mkdocs", "--port", str(port)]
            argv += ["--dirty"] if "dirty" in name else []
        config = project / "mkdocs.yml"
        contenders.append((Contender(
            name, argv, project, project / "docs" / "chapter05.md", "/chapter05/", "/chapter12/", config,
            config.read_text().replace("  - Weather: weather.md", "  - Weather: [weather.md"),
            shows_errors=name.startswith("hotreload"),
        ), port))
    return contenders


def fmt_ms(value: float | None) -> str:
    return "not shown" if value is None else f"{value:,.0f} ms"


def report(title: str, contenders: list[Contender], runs: int) -> None:
    print(f"\n{title}: save a page → new text visible ({runs} edits each)")
    header = (
        f"  {'server':<18} {'median':>9} {'p90':>9} {'min':>9} {'cpu/edit':>9}   {'other tab updated':>17}"
        f"   {'failed build visible':>20}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for contender in contenders:
        samples = sorted(contender.latencies)
        p90 = samples[min(len(samples) - 1, int(round(0.9 * (len(samples) - 1))))]
        error = fmt_ms(contender.error_visible)
        if contender.error_visible is None:
            error += f" ({ERROR_WAIT:g} s)"
        print(
            f"  {contender.name:<18} {statistics.median(samples):>6,.0f} ms {p90:>6,.0f} ms {samples[0]:>6,.0f} ms"
            f" {(contender.cpu_per_edit or 0) * 1000:>6,.0f} ms"
            f"   {contender.other_reloads:>8} of {runs:<6}   {error:>20}"
        )
    *ours, theirs = contenders
    for mine in ours:
        ratio = statistics.median(theirs.latencies) / statistics.median(mine.latencies)
        cpu_ratio = (theirs.cpu_per_edit or 0) / (mine.cpu_per_edit or 1)
        print(f"  → {mine.name} shows an edit {ratio:.1f}× sooner than {theirs.name}, with {cpu_ratio:.1f}× less CPU")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="edits per server (default 10)")
    parser.add_argument("--only", choices=("sphinx", "mkdocs"), help="run one generator only")
    parser.add_argument("--keep", action="store_true", help="keep the projects and the servers' logs")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="hotreload-bench-ssg-"))
    groups = []
    if args.only in (None, "sphinx"):
        groups.append(("Sphinx, 30 pages", sphinx_contenders(workdir)))
    if args.only in (None, "mkdocs"):
        groups.append(("MkDocs, 30 pages", mkdocs_contenders(workdir)))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}; projects in {workdir}")
    user_data = tempfile.mkdtemp(prefix="hotreload-bench-chromium-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                user_data, executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS
            )
            try:
                for title, group in groups:
                    for contender, port in group:
                        try:
                            start(contender, port)
                            measure(contender, context, args.runs, port)
                        finally:
                            stop(contender)
                    report(title, [contender for contender, _ in group], args.runs)
            finally:
                context.close()
    finally:
        for _, group in groups:
            for contender, _ in group:
                stop(contender)
        shutil.rmtree(user_data, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
