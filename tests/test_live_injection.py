"""Pages served by a live `hotreload serve`: the page a browser gets is the file
on disk plus exactly one client tag, byte for byte, whatever the file holds."""

from __future__ import annotations

import codecs
import http.client
import itertools
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ServerProcess
from wsclient import NAVIGATE

CLIENT_PATH = "/__hotreload/client.js?token="


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("injection")
    server = ServerProcess(["serve", str(root), "--port", "0"]).start()
    server.root = root  # type: ignore[attr-defined]
    yield server
    server.stop()


def navigate(url: str, path: str) -> bytes:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", path, headers=NAVIGATE)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    assert response.status == 200
    return body


def without_one_tag(served: bytes, original: bytes) -> bool:
    """Whether removing one client tag (in UTF-8 or UTF-16) from ``served`` gives ``original``."""
    added = len(served) - len(original)
    if added <= 0:
        return False
    for offset in range(len(original) + 1):
        if served[:offset] + served[offset + added:] != original:
            continue
        tag = served[offset:offset + added]
        for codec in ("utf-8", "utf-16-le", "utf-16-be"):
            try:
                text = tag.decode(codec)
            except UnicodeDecodeError:
                continue
            if text.startswith("<script") and CLIENT_PATH in text and text.endswith("</script>"):
                return True
    return False


TAGS = ["<!DOCTYPE html>", "<html>", "<head>", "</head>", "<body>", "<title>x</title>", "<meta charset=utf-8>",
        "<!--", "-->", "<script>", "</script>", "<p>", "<svg>", "<template>", "é", "表", "\r\n", " ", "<?xml ?>",
        '<meta http-equiv="content-type" content="text/html; charset=shift_jis">']
html_ish = st.lists(st.sampled_from(TAGS) | st.text(max_size=8), max_size=25).map("".join)
documents = st.one_of(
    html_ish.map(str.encode),
    html_ish.map(lambda text: codecs.BOM_UTF8 + text.encode()),
    html_ish.map(lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le")),
    st.binary(max_size=200),
)
names = (f"/page{i}.html" for i in itertools.count())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=documents)
def test_a_served_page_minus_the_client_tag_is_the_file(live: ServerProcess, document: bytes) -> None:
    name = next(names)
    (Path(live.root) / name.lstrip("/")).write_bytes(document)  # type: ignore[attr-defined]
    served = navigate(live.url, name)
    assert without_one_tag(served, document), served[:300]
