"""What reading each file as one checked version costs, against streaming it from disk.

Files up to 32 MiB are read whole and checked not to have changed while being
read (hotreload.snapshot), so a file an editor rewrites is never sent torn;
streaming (aiohttp's FileResponse, sendfile) was the way before. For a few file
sizes, both ways side by side on the same server code: requests per second and
median time per request over one keep-alive connection, for a file untouched for
a while and for one written just now (which gets a second read).

Usage: python benchmarks/reads.py [--requests 300]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from aiohttp import web

import hotreload.static as static
from hotreload.static import StaticFiles

SIZES = [16 * 1024, 256 * 1024, 2 * 1024**2, 16 * 1024**2]
ROUNDS = 5


def serve_in_thread(root: Path) -> tuple[int, asyncio.AbstractEventLoop, web.AppRunner]:
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    files = StaticFiles(root)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", files.handle)
    runner = web.AppRunner(app, access_log=None)

    async def start() -> int:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    port = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    return port, loop, runner


def timed_gets(port: int, path: str, count: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for _ in range(count):
        began = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        times.append(time.perf_counter() - began)
        assert response.status == 200
    conn.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for size in SIZES:
            (root / f"old-{size}.bin").write_bytes(os.urandom(size))
            (root / f"new-{size}.bin").write_bytes(os.urandom(size))
        old = time.time() - 3600
        for size in SIZES:
            os.utime(root / f"old-{size}.bin", (old, old))
        port, loop, runner = serve_in_thread(root)
        results: dict[tuple[str, int, str], list[float]] = {}
        snapshot_limit = static.MAX_SNAPSHOT_BYTES
        try:
            for size in SIZES:
                count = args.requests if size <= 256 * 1024 else max(20, args.requests // (size // (128 * 1024)))
                for age in ("old", "new"):
                    # The two ways take turns, in rounds, so that a busy machine weighs on both alike.
                    for _ in range(ROUNDS):
                        for way, limit in (("checked version", snapshot_limit), ("streamed", -1)):
                            static.MAX_SNAPSHOT_BYTES = limit  # -1: every file is streamed, as before
                            if age == "new":
                                os.utime(root / f"new-{size}.bin")  # "written just now"
                            times = timed_gets(port, f"/{age}-{size}.bin", max(1, count // ROUNDS))
                            results.setdefault((way, size, age), []).extend(times)
        finally:
            static.MAX_SNAPSHOT_BYTES = snapshot_limit
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
    print("GET of one file over keep-alive: requests/s (median ms)")
    print(f"{'size':>8} {'age':>11} {'checked version':>20} {'streamed':>20} {'ratio':>7}")
    for size in SIZES:
        for age in ("old", "new"):
            cells = []
            for way in ("checked version", "streamed"):
                times = results[(way, size, age)]
                cells.append((len(times) / sum(times), statistics.median(times) * 1000))
            label = f"{size // 1024} KiB" if size < 1024**2 else f"{size // 1024**2} MiB"
            age_label = "untouched" if age == "old" else "just saved"
            print(f"{label:>8} {age_label:>11} {cells[0][0]:>9.0f} ({cells[0][1]:5.2f}) {cells[1][0]:>9.0f} ({cells[1][1]:5.2f})"
                  f" {cells[0][0] / cells[1][0]:>6.2f}x")


if __name__ == "__main__":
    main()
