"""What every benchmark script shares: the Chromium flags, a sub-millisecond
condition poller, and starting a `hotreload serve` process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

# Polls a condition on a MessageChannel loop (sub-millisecond resolution,
# unlike requestAnimationFrame's 16 ms) and records the wall-clock time it held.
WATCH = """
([check, limitMs]) => {
  window.__seenAt = null;
  const test = new Function('return (' + check + ')()');
  const until = performance.now() + limitMs;
  const channel = new MessageChannel();
  channel.port1.onmessage = () => {
    let ok = false;
    try { ok = test(); } catch {}
    if (ok) { window.__seenAt = performance.timeOrigin + performance.now(); return; }
    if (performance.now() < until) channel.port2.postMessage(0);
  };
  channel.port2.postMessage(0);
}
"""


def start_server(root: Path, *options: str, timeout: float = 20) -> tuple[subprocess.Popen[str], str]:
    """Start `hotreload serve ROOT --port 0 OPTIONS`; return the process and its URL once it is ready."""
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "hotreload", "serve", str(root), "--port", "0", *options],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    url = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        match = re.search(r"Local:\s+(http://\S+)", line)
        if match:
            url = match.group(1)
        if url and ("watching" in line or "hot reload off" in line):
            break
    if not url:
        raise SystemExit("server did not start")
    # Keep draining its output so it never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    return proc, url
