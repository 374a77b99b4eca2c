"""Nothing a tab sends over the WebSocket can crash the server or slow the other tabs:
oversized frames close that tab, floods are cut to a rate, garbage is ignored."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLE_SITE, ServerProcess, run_async, write_in_place
from wsclient import client_params, open_tab

CSS = "css/site.css"


@pytest.fixture(scope="module")
def serve_once(tmp_path_factory: pytest.TempPathFactory):
    """One server for many generated examples."""
    site = tmp_path_factory.mktemp("frames") / "site"
    shutil.copytree(EXAMPLE_SITE, site)
    server = ServerProcess(["serve", str(site), "--port", "0"]).start()
    yield server, site, client_params(server.url)
    server.stop()
    assert not any("Traceback" in line for line in server.lines), "\n".join(server.lines)


def edit_css(site: Path, marker: int) -> None:
    path = site / CSS
    write_in_place(path, path.read_text() + f"\n.marker-{marker} {{ color: red }}\n")


def got_update(marker_count: int):
    return lambda tab: sum(1 for m in tab.of_type("update") for u in m["updates"] if u["path"] == "/" + CSS) >= marker_count


def test_a_frame_over_64_kib_closes_that_tab_only(serve, site: Path) -> None:
    server = serve(str(site))
    params = client_params(server.url)

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            bystander = await open_tab(session, server.url, params)
            offender = await open_tab(session, server.url, params)
            await offender.send({"type": "log", "level": "info", "message": "x" * (70 * 1024)})
            await offender.wait_for(lambda t: t.closed is not None, timeout=20)
            assert offender.closed is not None and offender.closed[0] == 1009
            edit_css(site, 1)
            await bystander.wait_for(got_update(1))

    run_async(scenario())
    assert not any("Traceback" in line for line in server.lines)


def test_a_flood_of_messages_is_cut_to_the_rate_and_the_tab_stays_connected(serve, site: Path) -> None:
    server = serve(str(site))
    params = client_params(server.url)

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            bystander = await open_tab(session, server.url, params)
            flooder = await open_tab(session, server.url, params)
            for _ in range(2000):
                await flooder.send({"type": "ping"})
            edit_css(site, 1)
            await bystander.wait_for(got_update(1))
            await flooder.wait_for(got_update(1))
            # 100 messages at once, the page report among them, then 50 a second: the
            # flood took well under 10 seconds. The update may overtake the last answers.
            await flooder.wait_for(lambda t: len(t.of_type("pong")) >= 99)
            pongs = len(flooder.of_type("pong"))
            assert 99 <= pongs <= 99 + 50 * 10
            await asyncio.sleep(2.5)  # the bucket refills; a well-behaved ping is answered again
            before = len(flooder.of_type("pong"))
            await flooder.send({"type": "ping"})
            await flooder.wait_for(lambda t: len(t.of_type("pong")) > before)
            assert flooder.closed is None

    run_async(scenario())
    warnings = [line for line in server.lines if "messages a second" in line]
    assert len(warnings) == 1, server.lines


MALFORMED = [
    "not json", "[1, 2]", "null", '"page"', "{}", '{"type": 42}', '{"type": "unknown"}', '{"type": "page"}',
    '{"type": "page", "path": "relative"}', '{"type": "page", "path": "/", "seq": -1}',
    '{"type": "page", "path": "/", "seq": true}',
    '{"type": "custom"}', '{"type": "log", "level": "fatal", "message": "x"}', '{"type": "log", "level": "info"}',
    "{" * 5000, '{"type": "page", "path": "/' + "a" * 5000 + '"}',
]


def test_malformed_messages_are_ignored_and_logged_once(serve, site: Path) -> None:
    server = serve(str(site))
    params = client_params(server.url)

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            tab = await open_tab(session, server.url, params)
            for frame in MALFORMED:
                await tab.ws.send_str(frame)
            await tab.ws.send_bytes(b"\x00\x01binary")
            # A page outside the root is only a name to the server: nothing is read for it.
            await tab.send({"type": "page", "path": "/../../etc/passwd", "seq": 0})
            await tab.send({"type": "page", "path": "/", "instance": params["instance"], "seq": 0})
            await tab.send({"type": "ping"})
            await tab.wait_for(lambda t: bool(t.of_type("pong")))
            edit_css(site, 1)
            await tab.wait_for(got_update(1))
            assert tab.closed is None

    run_async(scenario())
    ignored = [line for line in server.lines if "ignored" in line and "tab" in line]
    assert len(ignored) == 1, server.lines
    assert not any("Traceback" in line for line in server.lines)


frames = st.one_of(
    st.text(max_size=300),
    st.dictionaries(
        st.sampled_from(["type", "path", "seq", "instance", "event", "data", "level", "message"]),
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40),
                  st.sampled_from(["page", "ping", "custom", "log", "/", "/index.html", "info"])),
        max_size=6,
    ).map(json.dumps),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(frames, min_size=1, max_size=20))
def test_whatever_a_tab_sends_the_server_keeps_serving_every_tab(serve_once, batch: list[str]) -> None:
    server, site, params = serve_once

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            tab = await open_tab(session, server.url, params)
            for frame in batch:
                await tab.ws.send_str(frame)
            await tab.send({"type": "ping"})
            await tab.wait_for(lambda t: bool(t.of_type("pong")))
            await tab.close()
        async with aiohttp.ClientSession() as session:
            async with session.get(server.url + "index.html") as response:
                assert response.status == 200

    run_async(scenario())
    assert server.proc.poll() is None


def test_a_tab_cannot_drive_the_terminal_with_control_characters(serve, site: Path) -> None:
    server = serve(str(site))
    params = client_params(server.url)

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            tab = await open_tab(session, server.url, params)
            await tab.send({"type": "log", "level": "warn", "message": "update failed\x1b[2J\x1b]0;owned\x07"})
            await tab.send({"type": "ping"})
            await tab.wait_for(lambda t: bool(t.of_type("pong")))

    run_async(scenario())
    line = server.wait_for_line(r"update failed").string
    assert "\x1b" not in line and "\x07" not in line
    assert "\\x1b[2J" in line
