"""Byte ranges: what part of a file a Range header asks for, and the live answers."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

from hotreload import ranges
from hotreload.ranges import UNSATISFIABLE, byte_range, content_range
from test_static import fetch


@pytest.mark.parametrize(
    "header, size, expected",
    [
        (None, 100, None),
        ("bytes=0-9", 100, (0, 10)),
        ("bytes=90-", 100, (90, 100)),
        ("bytes=90-1000", 100, (90, 100)),
        ("bytes=-10", 100, (90, 100)),
        ("bytes=-1000", 100, (0, 100)),
        ("BYTES = 5-5", 100, (5, 6)),
        ("bytes=100-", 100, UNSATISFIABLE),
        ("bytes=-0", 100, UNSATISFIABLE),
        ("bytes=0-", 0, UNSATISFIABLE),
        ("bytes=5-2", 100, None),  # not a valid range: ignored
        ("bytes=0-1,5-6", 100, None),  # several ranges: the whole body
        ("items=0-1", 100, None),
        ("bytes=a-b", 100, None),
        ("bytes=-", 100, None),
        ("bytes", 100, None),
        ("bytes=1-２", 100, None),
        ("bytes=" + "9" * 30 + "-", 100, None),
    ],
)
def test_a_range_header_selects_one_slice_or_none(header: str | None, size: int, expected: object) -> None:
    assert byte_range(header, size) == expected


def test_content_range_names_the_last_byte() -> None:
    assert content_range(90, 100, 100) == "bytes 90-99/100"


def test_the_documented_examples_hold() -> None:
    assert doctest.testmod(ranges).failed == 0


def test_the_server_answers_ranges_from_memory(serve, site: Path) -> None:
    data = bytes(range(256)) * 40
    (site / "clip.bin").write_bytes(data)
    server = serve(str(site))
    status, headers, body = fetch(server.url, "/clip.bin", headers={"Range": "bytes=-100"})
    assert (status, body, headers["content-range"]) == (206, data[-100:], f"bytes {len(data) - 100}-{len(data) - 1}/{len(data)}")
    status, headers, _ = fetch(server.url, "/clip.bin", headers={"Range": f"bytes={len(data)}-"})
    assert (status, headers["content-range"]) == (416, f"bytes */{len(data)}")
    _, headers, _ = fetch(server.url, "/clip.bin")
    status, _, body = fetch(server.url, "/clip.bin", headers={"Range": "bytes=0-9", "If-Range": headers["etag"]})
    assert (status, body) == (206, data[:10])
    status, _, body = fetch(server.url, "/clip.bin", headers={"Range": "bytes=0-9", "If-Range": '"another-version"'})
    assert (status, body) == (200, data)
