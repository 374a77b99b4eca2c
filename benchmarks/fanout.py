"""How the number of open tabs, and a tab that stops reading, affect update delivery.

Starts `hotreload serve` on a copy of the example site, connects N scripted tabs
(the WebSocket protocol spoken from Python) and edits a stylesheet; for each edit,
the time from the write to the update reaching the first tab and the last one.
Then the same with one extra tab that never reads: the others must not notice.

Usage: python benchmarks/fanout.py [--edits 15] [--tabs 1,100,500]
Prints median and p90 per number of tabs, side by side, and the ratio to one tab.
The scripted tabs share one Python process: with hundreds of them, part of the
time measured is their own.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from wsclient import client_params, open_tab  # noqa: E402


def start_server(site: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "hotreload", "serve", str(site), "--port", "0"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    url = ""
    for line in proc.stdout:
        if "Local:" in line:
            url = line.split("Local:", 1)[1].strip()
        if "watching" in line:
            break
    if not url:
        proc.kill()
        raise RuntimeError("server did not start")
    # Keep reading its output so that a full pipe never blocks it.
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    return proc, url


def stuck_tab(url: str, params: dict[str, str]) -> socket.socket:
    host, port = url.split("//", 1)[1].strip("/").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.sendall(
        f"GET /__hotreload/ws?token={params['token']} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Origin: http://{host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: hotreload\r\n\r\n".encode()
    )
    return sock


async def measure(url: str, site: Path, tabs: int, edits: int, with_stuck: bool) -> tuple[list[float], list[float]]:
    params = client_params(url)
    css = site / "css" / "site.css"
    base = css.read_text()
    stuck = stuck_tab(url, params) if with_stuck else None
    first, last = [], []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        open_tabs = []
        for start in range(0, tabs, 50):
            open_tabs += await asyncio.gather(*(open_tab(session, url, params) for _ in range(min(50, tabs - start))))
        for n in range(edits):
            counts = [len(t.of_type("update")) for t in open_tabs]
            waiting = [t.wait_for(lambda tab, c=c: len(tab.of_type("update")) > c, timeout=30) for t, c in zip(open_tabs, counts)]
            done_at: list[float] = []

            async def timed(waiter) -> None:
                await waiter
                done_at.append(time.perf_counter())

            began = time.perf_counter()
            css.write_text(base + f"\nbody {{ color: rgb({n % 256}, 1, 2); }}\n")
            await asyncio.gather(*(timed(w) for w in waiting))
            first.append(min(done_at) - began)
            last.append(max(done_at) - began)
            await asyncio.sleep(0.05)
        await asyncio.gather(*(t.close() for t in open_tabs))
    if stuck is not None:
        stuck.close()
    return first, last


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return f"{statistics.median(ordered) * 1000:6.1f} / {p90 * 1000:6.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=15)
    parser.add_argument("--tabs", default="1,100,500")
    args = parser.parse_args()
    counts = [int(n) for n in args.tabs.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        shutil.copytree(REPO / "examples" / "site", site)
        proc, url = start_server(site)
        try:
            rows = []
            for tabs in counts:
                for stuck in (False, True):
                    first, last = asyncio.run(measure(url, site, tabs, args.edits, stuck))
                    rows.append((tabs, stuck, first, last))
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"update delivery after a stylesheet save ({args.edits} edits each; ms, median / p90)")
    print(f"{'tabs':>6} {'+ stuck tab':>12} {'first tab':>16} {'last tab':>16} {'last vs 1 tab':>14}")
    reference = statistics.median(rows[0][3])
    for tabs, stuck, first, last in rows:
        ratio = statistics.median(last) / reference
        print(f"{tabs:>6} {'yes' if stuck else 'no':>12} {summary(first):>16} {summary(last):>16} {ratio:>13.1f}x")


if __name__ == "__main__":
    main()
