"""No file-system or network mishap loses an update or takes the server down.

Each test runs a real `hotreload serve` and watches what a user would see: a
tab updating, a line in the terminal. Two faults cannot be caused for one
process alone without root rights over the whole machine, so the server is
started with a `sitecustomize` hook that imitates them inside its own
process only: the kernel refusing more inotify watches (ENOSPC, as the
system's watch limit does) and a file system whose events never arrive.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import struct
import threading
from pathlib import Path
from typing import Callable, Iterator

import aiohttp
import pytest

from conftest import EXAMPLE_SITE, REPO, ServerProcess, run_async, wait_connected, write_atomic, write_in_place
from test_browser_updates import mark, still_marked, wait_style
from wsclient import client_params, open_tab, raw_request, status_of

LONG = 30_000  # ms: generous, the machine may be busy; nothing waits this long when all is well

WATCH_LIMIT_HOOK = """
# Imitates the kernel's inotify watch limit for this process only.
import ctypes, errno
import watchdog.observers.inotify_c as inotify_c
_add_watch = inotify_c.inotify_add_watch
_watched = set()
def _limited(fd, path, mask):
    if path not in _watched and len(_watched) >= {limit}:
        ctypes.set_errno(errno.ENOSPC)
        return -1
    wd = _add_watch(fd, path, mask)
    if wd != -1:
        _watched.add(path)
    return wd
inotify_c.inotify_add_watch = _limited
"""

SILENT_FILE_SYSTEM_HOOK = """
# Imitates a file system that delivers no change events (some network and container mounts).
import time
from watchdog.observers import inotify
def _nothing_arrives(self, timeout, **kwargs):
    time.sleep(0.05)
inotify.InotifyEmitter.queue_events = _nothing_arrives
"""


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start `hotreload serve` with a startup hook or a wrapper command; stopped after the test."""
    started: list[ServerProcess] = []

    def start(*args: str, hook: str | None = None, wrapper: list[str] | None = None, wait: bool = True):
        path = REPO
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        if hook is not None:
            hooks = tmp_path / f"hook{len(started)}"
            hooks.mkdir()
            (hooks / "sitecustomize.py").write_text(hook)
            env["PYTHONPATH"] = f"{hooks}{os.pathsep}{path}"
        argv = ["serve", *args] + ([] if "--port" in args else ["--port", "0"])
        server = ServerProcess(argv, env=env, wrapper=wrapper)
        started.append(server)
        return server.start() if wait else server

    yield start
    for server in started:
        server.stop()


def folders_in(root: Path) -> int:
    return 1 + sum(len(dirs) for _, dirs, _ in os.walk(root))


def recolour(site: Path, rgb: str) -> None:
    css = site / "css" / "site.css"
    write_in_place(css, css.read_text() + f"\nbody {{ color: rgb({rgb}); }}\n")


def no_traceback(server: ServerProcess) -> None:
    assert not any("Traceback" in line for line in server.lines), "\n".join(server.lines)


# ---- the system's watch limit, silent file systems, --poll ---------------------------------


@pytest.mark.parametrize("limit", [0, 2], ids=["not even the root", "some folders"])
def test_at_the_watch_limit_the_site_is_polled_and_every_edit_still_arrives(
    spawn, site: Path, new_page, limit: int
) -> None:
    server = spawn(str(site), hook=WATCH_LIMIT_HOOK.format(limit=limit))
    server.wait_for_line(r"limit on watched folders is reached.*polling it instead")
    server.wait_for_line(r"sudo sysctl fs\.inotify\.max_user_watches=\d+")
    page = new_page(server.url)
    mark(page)
    recolour(site, "1, 2, 3")  # css/ is one of the folders left without a watch
    wait_style(page, "body", "color", "rgb(1, 2, 3)", timeout=LONG)
    assert still_marked(page)
    no_traceback(server)


def test_folders_created_after_the_limit_is_reached_are_polled(spawn, site: Path, new_page) -> None:
    server = spawn(str(site), hook=WATCH_LIMIT_HOOK.format(limit=folders_in(site)))
    page = new_page(server.url + "later/page.html")
    assert "404" in page.title()
    (site / "later").mkdir()
    (site / "later" / "page.html").write_text("<!doctype html><title>Later</title><h1>made after the limit</h1>")
    page.wait_for_function("() => document.title === 'Later'", timeout=LONG)
    server.wait_for_line(r"limit on watched folders is reached.*polling it instead")
    wait_connected(page, timeout=LONG)
    write_atomic(site / "later" / "page.html", "<!doctype html><title>Later again</title>")
    page.wait_for_function("() => document.title === 'Later again'", timeout=LONG)
    no_traceback(server)


def test_a_file_system_that_delivers_no_events_is_found_at_start_and_polled(spawn, site: Path, new_page) -> None:
    server = spawn(str(site), hook=SILENT_FILE_SYSTEM_HOOK)
    server.wait_for_line(r"produced no event.*polling it instead")
    page = new_page(server.url)
    mark(page)
    recolour(site, "4, 5, 6")
    wait_style(page, "body", "color", "rgb(4, 5, 6)", timeout=LONG)
    assert still_marked(page)
    assert not any(name.startswith(".hotreload-probe") for name in os.listdir(site))


def test_poll_forces_polling(serve, site: Path, new_page) -> None:
    server = serve(str(site), "--poll")
    server.wait_for_line(r"polling")
    page = new_page(server.url)
    mark(page)
    recolour(site, "7, 8, 9")
    wait_style(page, "body", "color", "rgb(7, 8, 9)", timeout=LONG)
    assert still_marked(page)


# ---- the served folder itself: deleted, replaced, renamed inside ---------------------------


def rebuilt_site(target: Path, about_heading: str) -> None:
    shutil.copytree(EXAMPLE_SITE, target)
    about = target / "about.html"
    about.write_text(about.read_text().replace("<h1>About</h1>", f"<h1>{about_heading}</h1>"))


def heading_is(text: str) -> str:
    return f"() => document.querySelector('h1') && document.querySelector('h1').textContent === {text!r}"


def test_the_root_deleted_and_created_again_is_served_and_watched_again(serve, site: Path, new_page) -> None:
    server = serve(str(site))
    page = new_page(server.url + "about.html")
    shutil.rmtree(site)
    page.wait_for_function("() => document.title.includes('404')", timeout=LONG)
    rebuilt_site(site, "About, rebuilt")
    page.wait_for_function(heading_is("About, rebuilt"), timeout=LONG)
    server.wait_for_line(r"was deleted")
    server.wait_for_line(r"is back")
    wait_connected(page, timeout=LONG)
    mark(page)
    recolour(site, "10, 20, 30")
    wait_style(page, "body", "color", "rgb(10, 20, 30)", timeout=LONG)
    assert still_marked(page)


def test_the_root_swapped_for_a_new_build_by_renames_is_served_and_watched(serve, site: Path, new_page) -> None:
    server = serve(str(site))
    page = new_page(server.url + "about.html")
    rebuilt_site(site.with_name("site.next"), "About, next build")
    os.rename(site, site.with_name("site.old"))
    os.rename(site.with_name("site.next"), site)
    page.wait_for_function(heading_is("About, next build"), timeout=LONG)
    wait_connected(page, timeout=LONG)
    mark(page)
    recolour(site, "11, 21, 31")
    wait_style(page, "body", "color", "rgb(11, 21, 31)", timeout=LONG)
    assert still_marked(page)
    # The old folder is not watched any more.
    (site.with_name("site.old") / "about.html").write_text("<h1>stale</h1>")
    recolour(site, "12, 22, 32")
    wait_style(page, "body", "color", "rgb(12, 22, 32)", timeout=LONG)
    assert still_marked(page)


def test_a_renamed_folder_keeps_being_watched_under_its_new_name(serve, site: Path, new_page) -> None:
    server = serve(str(site))
    page = new_page(server.url)
    os.rename(site / "css", site / "styles")
    index = site / "index.html"
    write_atomic(index, index.read_text().replace('href="css/site.css"', 'href="styles/site.css"'))
    page.wait_for_function("() => document.querySelector('link[href=\"styles/site.css\"]')", timeout=LONG)
    wait_connected(page, timeout=LONG)
    mark(page)
    css = site / "styles" / "site.css"
    write_in_place(css, css.read_text() + "\nbody { color: rgb(13, 23, 33); }\n")
    wait_style(page, "body", "color", "rgb(13, 23, 33)", timeout=LONG)
    theme = site / "styles" / "theme.css"
    write_atomic(theme, theme.read_text().replace("#f6f7fb", "rgb(14, 24, 34)"))
    wait_style(page, "body", "backgroundColor", "rgb(14, 24, 34)", timeout=LONG)
    assert still_marked(page)
    server.wait_for_line(r"/styles/theme\.css\s+hot")


def test_two_thousand_files_written_into_a_new_folder_all_arrive(serve, site: Path, new_page) -> None:
    count = 2000
    names = [f"gen/part{i // 500}/pic{i}.png" for i in range(count)]
    (site / "gallery.html").write_text(
        "<!doctype html><title>Gallery</title>" + "".join(f'<img src="{name}" width=2 height=2>' for name in names)
    )
    (site / "last.html").write_text(
        "<!doctype html><title>Last</title>" + "".join(f'<img src="{name}">' for name in names[-3:])
    )
    server = serve(str(site))
    last = new_page(server.url + "last.html")
    folder_page = new_page(server.url + "gen/")
    assert "404" in folder_page.title()
    params = client_params(server.url, "/gallery.html")
    pixel = (site / "img" / "logo.png").read_bytes()

    async def scenario() -> set[str]:
        async with aiohttp.ClientSession() as session:
            # A scripted tab on the page that shows all of them sees every update message.
            tab = await open_tab(session, server.url, params, page="/gallery.html")
            for name in names:  # gen/ does not exist yet: a new folder, filled at once
                path = site / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(pixel)
            (site / "gen" / "index.html").write_text("<!doctype html><title>Generated</title>")
            expected = {"/" + name for name in names}
            await tab.wait_for(lambda t: expected <= t.updated_paths(), timeout=LONG / 1000)
            return tab.updated_paths()

    assert run_async(scenario()) == {"/" + name for name in names}
    last.wait_for_function("() => [...document.images].every(img => img.complete && img.naturalWidth > 0)", timeout=LONG)
    folder_page.wait_for_function("() => document.title === 'Generated'", timeout=LONG)


# ---- reading files that are being written -----------------------------------------------


@pytest.mark.parametrize("size, fetches", [(64 * 1024, 100), (1024 * 1024, 40)], ids=["64 KiB", "1 MiB"])
def test_a_file_saved_in_place_while_it_is_fetched_is_never_served_torn(
    serve, site: Path, size: int, fetches: int
) -> None:
    big = site / "css" / "big.css"
    versions = [bytes([ord("a") + i]) * size for i in range(4)]
    big.write_bytes(versions[0])
    server = serve(str(site))
    stop = threading.Event()

    def save_in_place_again_and_again() -> None:
        fd = os.open(big, os.O_WRONLY)
        try:
            turn = 0
            while not stop.wait(0.002):
                turn += 1
                os.pwrite(fd, versions[turn % len(versions)], 0)  # an editor saving in place
        finally:
            os.close(fd)

    writer = threading.Thread(target=save_in_place_again_and_again)
    writer.start()
    try:
        answers = []
        for _ in range(fetches):
            response = raw_request(server.url, b"GET /css/big.css HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            answers.append((status_of(response), response.split(b"\r\n\r\n", 1)[1]))
    finally:
        stop.set()
        writer.join()
    # A file that never holds still is refused (503, try again), never sent half old, half new.
    assert {status for status, _ in answers} <= {200, 503}
    whole = [body for status, body in answers if status == 200]
    torn = [body[:1] + b"..." + body[-1:] for body in whole if body not in versions]
    assert not torn, f"{len(torn)} of {len(answers)} responses mixed versions or were cut: {torn[:5]}"
    assert len(whole) >= len(answers) // 2


# ---- permissions ------------------------------------------------------------------------


def as_a_user() -> list[str] | None:
    """Run the server without root's read-anything capabilities, as a user would be."""
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else None


def test_a_file_that_becomes_readable_again_is_refreshed(spawn, site: Path, new_page) -> None:
    server = spawn(str(site), wrapper=as_a_user())
    page = new_page(server.url)
    about = new_page(server.url + "about.html")
    mark(page)
    css = site / "css" / "site.css"
    css.chmod(0)
    write_in_place(css, css.read_text() + "\nbody { color: rgb(40, 50, 60); }\n")
    server.wait_for_line(r"css\s+/css/site\.css\s+hot")
    assert page.evaluate("getComputedStyle(document.body).color") != "rgb(40, 50, 60)"
    css.chmod(0o644)
    wait_style(page, "body", "color", "rgb(40, 50, 60)", timeout=LONG)
    assert still_marked(page)
    # A page that cannot be read shows why, and comes back once it can.
    (site / "about.html").chmod(0)
    about.wait_for_function("() => document.body.textContent.includes('permissions')", timeout=LONG)
    (site / "about.html").chmod(0o644)
    about.wait_for_function(heading_is("About"), timeout=LONG)
    no_traceback(server)


# ---- tabs: stuck, many, and the server going away ----------------------------------------


def masked_text_frame(text: str) -> bytes:
    payload = text.encode()
    mask = os.urandom(4)
    header = b"\x81" + (bytes([0x80 | len(payload)]) if len(payload) < 126 else b"\xfe" + struct.pack(">H", len(payload)))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def stuck_tab(url: str, params: dict[str, str], page: str = "/") -> socket.socket:
    """A WebSocket client that says which page it shows, then never reads again."""
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
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(1)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    sock.sendall(masked_text_frame(f'{{"type":"page","path":"{page}"}}'))
    return sock


def test_a_tab_that_stops_reading_is_dropped_without_delaying_the_others(serve, site: Path, new_page) -> None:
    # The stuck tab shows a page of 200 images with long paths: each time they
    # change, it is sent one big update message, and its backlog grows fast.
    deep = "data/" + "/".join(f"{'x' * 150}{level}" for level in range(12))
    images = [f"{deep}/pic{i}.png" for i in range(200)]
    (site / deep).mkdir(parents=True)
    for name in images:
        (site / name).write_bytes(b"")
    (site / "wall.html").write_text("<!doctype html>" + "".join(f'<img src="{name}">' for name in images))
    server = serve(str(site))
    page = new_page(server.url)
    mark(page)
    stuck = stuck_tab(server.url, client_params(server.url, "/wall.html"), page="/wall.html")
    for round_ in range(40):
        for name in images:
            (site / name).write_bytes(bytes([round_]))
        recolour(site, f"{round_}, 1, 2")
        wait_style(page, "body", "color", f"rgb({round_}, 1, 2)", timeout=LONG)
        if any("dropping tab" in line for line in server.lines):
            break
    server.wait_for_line(r"dropping tab .*stopped reading")
    assert still_marked(page)
    # The stuck tab's connection was cut: reading it now comes to an end.
    stuck.settimeout(LONG / 1000)
    try:
        while stuck.recv(1 << 20):
            pass
    except ConnectionResetError:
        pass
    stuck.close()


def test_500_tabs_connected_at_once_all_get_every_update(serve, site: Path, new_page) -> None:
    server = serve(str(site))
    params = client_params(server.url)
    page = new_page(server.url)
    edits = 5

    async def scenario() -> list[int]:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            tabs = []
            for start in range(0, 500, 50):  # 50 handshakes at a time
                tabs += await asyncio.gather(*(open_tab(session, server.url, params) for _ in range(50)))
            for n in range(edits):
                recolour(site, f"{n}, 99, 99")
                await asyncio.gather(*(tab.wait_for(got_css_updates(n + 1), timeout=LONG / 1000) for tab in tabs))
            counts = [len(tab.of_type("update")) for tab in tabs]
            await asyncio.gather(*(tab.close() for tab in tabs))
            return counts

    counts = run_async(scenario())
    assert len(counts) == 500 and all(count == edits for count in counts)
    wait_style(page, "body", "color", f"rgb({edits - 1}, 99, 99)", timeout=LONG)


def got_css_updates(n: int):
    return lambda tab: len(tab.of_type("update")) >= n


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_closes_every_tab_with_1001_frees_the_port_and_prints_no_traceback(
    serve, site: Path, new_page, stop_signal: signal.Signals
) -> None:
    server = serve(str(site))
    port = server.url.rsplit(":", 1)[1].strip("/")
    params = client_params(server.url)
    page = new_page(server.url)

    async def scenario() -> tuple[int | None, str] | None:
        async with aiohttp.ClientSession() as session:
            tab = await open_tab(session, server.url, params)
            server.proc.send_signal(stop_signal)
            await tab.wait_for(lambda t: t.closed is not None, timeout=LONG / 1000)
            return tab.closed

    with page.expect_console_message(lambda msg: "server shutting down" in msg.text, timeout=LONG):
        closed = run_async(scenario())
    assert closed == (1001, "server shutting down")
    assert server.proc.wait(LONG / 1000) == 0
    no_traceback(server)
    again = serve(str(site), "--port", port, "--strict-port")
    assert again.url.endswith(f":{port}/")


def test_a_restart_with_tabs_open_brings_every_tab_back_and_current(serve, site: Path, new_page) -> None:
    first = serve(str(site))
    port = first.url.rsplit(":", 1)[1].strip("/")
    home = new_page(first.url)
    about = new_page(first.url + "about.html")
    guide = new_page(first.url + "docs/guide/")
    first.stop()
    # Edits made while the server is down are shown once it is back.
    about_file = site / "about.html"
    write_atomic(about_file, about_file.read_text().replace("<h1>About</h1>", "<h1>About, edited offline</h1>"))
    recolour(site, "70, 80, 90")
    serve(str(site), "--port", port, "--strict-port")
    about.wait_for_function(heading_is("About, edited offline"), timeout=LONG)
    wait_style(home, "body", "color", "rgb(70, 80, 90)", timeout=LONG)
    for tab in (home, about, guide):
        wait_connected(tab, timeout=LONG)
    recolour(site, "71, 81, 91")
    for tab in (home, about, guide):
        wait_style(tab, "body", "color", "rgb(71, 81, 91)", timeout=LONG)
