"""What `hotreload serve` sends over HTTP: files, types, caching, listings, injection."""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import ServerProcess

NAVIGATE = {"Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate", "Accept": "text/html"}


def fetch(url: str, path: str, method: str = "GET", headers: dict[str, str] | None = None):
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request(method, path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body


@pytest.fixture
def server(serve, site):
    return serve(str(site))


@pytest.mark.parametrize(
    "name, expected",
    [
        ("app.mjs", "text/javascript"),
        ("mod.wasm", "application/wasm"),
        ("pic.svg", "image/svg+xml"),
        ("pic.webp", "image/webp"),
        ("pic.avif", "image/avif"),
        ("font.woff2", "font/woff2"),
        ("data.json", "application/json"),
        ("app.js.map", "application/json"),
        ("style.css", "text/css"),
        ("page.html", "text/html"),
    ],
)
def test_mime_types(serve, site: Path, name: str, expected: str) -> None:
    (site / name).write_bytes(b"x")
    server = serve(str(site))
    status, headers, _ = fetch(server.url, "/" + name)
    assert status == 200
    assert headers["content-type"].split(";")[0] == expected


def test_folder_serves_its_index_and_redirects_to_add_the_slash(server) -> None:
    status, headers, body = fetch(server.url, "/docs?x=1")
    assert status == 301
    assert headers["location"] == "/docs/?x=1"
    status, _, body = fetch(server.url, "/docs/", headers=NAVIGATE)
    assert status == 200
    assert b"<h1>Docs</h1>" in body


def test_folder_without_index_gets_a_listing(server) -> None:
    status, _, body = fetch(server.url, "/img/", headers=NAVIGATE)
    assert status == 200
    text = body.decode()
    assert "Index of /img/" in text
    assert 'href="logo.png"' in text and 'href="logo.svg"' in text
    assert "/__hotreload/client.js" in text


def test_listing_hides_dotfiles(serve, site: Path) -> None:
    (site / "img" / ".secret").write_text("x")
    server = serve(str(site))
    _, _, body = fetch(server.url, "/img/", headers=NAVIGATE)
    assert b".secret" not in body


def test_missing_file_gets_a_404_page_that_carries_the_client(server) -> None:
    status, headers, body = fetch(server.url, "/nope.html", headers=NAVIGATE)
    assert status == 404
    assert headers["content-type"].startswith("text/html")
    assert b"/__hotreload/client.js" in body
    assert b"/nope.html" in body


def test_caching_headers_and_conditional_requests(server) -> None:
    status, headers, body = fetch(server.url, "/css/site.css")
    assert status == 200
    assert headers["cache-control"] == "no-cache"
    assert "etag" in headers and "last-modified" in headers
    status, _, body = fetch(server.url, "/css/site.css", headers={"If-None-Match": headers["etag"]})
    assert status == 304 and body == b""
    # An injected page has its own validator, based on what is sent.
    status, headers, _ = fetch(server.url, "/about.html", headers=NAVIGATE)
    status, _, body = fetch(server.url, "/about.html", headers={**NAVIGATE, "If-None-Match": headers["etag"]})
    assert status == 304 and body == b""


def test_head_and_range_requests(server, site: Path) -> None:
    size = (site / "img" / "logo.png").stat().st_size
    status, headers, body = fetch(server.url, "/img/logo.png", method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) == size
    status, headers, body = fetch(server.url, "/img/logo.png", headers={"Range": "bytes=0-7"})
    assert status == 206
    assert body == b"\x89PNG\r\n\x1a\n"
    assert headers["content-range"] == f"bytes 0-7/{size}"
    status, headers, body = fetch(server.url, "/about.html", method="HEAD", headers=NAVIGATE)
    assert status == 200 and body == b""
    assert int(headers["content-length"]) > (site / "about.html").stat().st_size


def test_navigations_are_injected_and_fetches_are_not(server, site: Path) -> None:
    original = (site / "about.html").read_bytes()
    _, headers, body = fetch(server.url, "/about.html", headers=NAVIGATE)
    assert body.count(b"/__hotreload/client.js") == 1
    assert int(headers["content-length"]) == len(body)
    _, _, body = fetch(server.url, "/about.html", headers={"Sec-Fetch-Dest": "empty", "Sec-Fetch-Mode": "cors"})
    assert body == original
    _, _, body = fetch(server.url, "/about.html", headers={"Accept": "*/*"})
    assert body == original
    _, _, body = fetch(server.url, "/about.html", headers={"Accept": "text/html,application/xhtml+xml"})
    assert b"/__hotreload/client.js" in body


def test_no_reload_serves_pages_untouched(serve, site: Path) -> None:
    server = serve(str(site), "--no-reload")
    _, _, body = fetch(server.url, "/about.html", headers=NAVIGATE)
    assert body == (site / "about.html").read_bytes()
    status, _, _ = fetch(server.url, "/__hotreload/ws?token=x")
    assert status in (403, 404)


def test_unreadable_file_is_403_and_other_files_still_served(site: Path) -> None:
    locked = site / "locked.html"
    locked.write_text("<p>private</p>")
    locked.chmod(0)
    # Run the server without the capabilities that let root read any file,
    # as an ordinary user would be.
    server = ServerProcess(
        ["serve", str(site), "--port", "0"],
        wrapper=["setpriv", "--bounding-set=-dac_override,-dac_read_search"],
    ).start()
    try:
        status, _, body = fetch(server.url, "/locked.html")
        assert status == 403
        assert b"private" not in body
        assert b"permissions" in body
        status, _, _ = fetch(server.url, "/about.html")
        assert status == 200
    finally:
        server.stop()


def test_client_modules_are_served(server) -> None:
    for name in ("client.js", "swap.js", "urltext.js", "overlay.js"):
        status, headers, body = fetch(server.url, "/__hotreload/" + name)
        assert status == 200, name
        assert headers["content-type"].startswith("text/javascript")
    status, _, _ = fetch(server.url, "/__hotreload/../server.py")
    assert status in (400, 404)


def test_dotfiles_and_paths_outside_the_root_are_never_served(serve, site: Path, tmp_path: Path) -> None:
    (site / ".env").write_text("SECRET=1")
    (tmp_path / "outside.txt").write_text("outside")
    server = serve(str(site))
    for path in ("/.env", "/../outside.txt", "/%2e%2e/outside.txt", "/css/..%2f..%2foutside.txt"):
        status, _, body = fetch(server.url, path)
        assert status in (400, 403, 404), path
        assert b"SECRET" not in body and b"outside" != body
