"""Hostile requests against a live `hotreload serve`: each gets its exact status and no secret.

Requests go out as raw bytes on a socket, exactly as written here: an HTTP
library would normalise `..`, `%2e` or backslashes away before they reached
the server. The served folder holds dotfiles, keys and symlinks leading out;
every file that must never be served contains the marker TOPSECRET.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLE_SITE, ServerProcess
from wsclient import client_params, raw_request, status_of

SECRET = b"TOPSECRET"

SECRET_FILES = [
    ".env", ".env.local", ".env.production", ".git/config", ".git/HEAD", ".ssh/id_rsa", ".npmrc", ".hg/hgrc",
    ".svn/entries", ".htpasswd", "keys/server.pem", "keys/server.key", "keys/server.crt", "keys/id_rsa",
    "keys/id_rsa.pub", "keys/id_ed25519", "docs/.env",
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    base = tmp_path_factory.mktemp("hostile")
    site = base / "site"
    shutil.copytree(EXAMPLE_SITE, site)
    for name in SECRET_FILES:
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_bytes(SECRET + b" " + name.encode())
    (base / "outside.txt").write_bytes(SECRET + b" outside")
    (base / "outside-dir").mkdir()
    (base / "outside-dir" / "outside.txt").write_bytes(SECRET + b" outside dir")
    os.symlink(base / "outside.txt", site / "link-out.txt")
    os.symlink(base / "outside-dir", site / "linked-dir")
    os.symlink(site / ".env", site / "innocent.txt")
    os.symlink("css/site.css", site / "inside-link.css")
    (site / "%2e%2e").mkdir()
    (site / "%2e%2e" / "outside.txt").write_text("a folder really named %2e%2e")
    server = ServerProcess(["serve", str(site), "--port", "0"]).start()
    server.site = site  # type: ignore[attr-defined]
    yield server
    server.stop()


def get(path: str, host: str = "localhost", extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n".encode("latin-1")


def upgrade(path: str, host: str = "localhost:{port}", origin: str | None = None, protocol: str = "hotreload") -> bytes:
    headers = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    )
    if origin is not None:
        headers += f"Origin: {origin}\r\n"
    if protocol:
        headers += f"Sec-WebSocket-Protocol: {protocol}\r\n"
    return (headers + "\r\n").encode("latin-1")


# (what it tries, raw request, expected status). "{port}" and "{token}" are filled in.
PATH_CASES = [
    # Dotfiles and dot-folders, at the root and deeper, whatever the case.
    ("dotenv", get("/.env"), 404),
    ("dotenv in capitals", get("/.ENV"), 404),
    ("dotenv variant", get("/.env.local"), 404),
    ("dotenv production", get("/.env.production"), 404),
    ("git config", get("/.git/config"), 404),
    ("git HEAD", get("/.git/HEAD"), 404),
    ("git folder listing", get("/.git/"), 404),
    ("ssh key", get("/.ssh/id_rsa"), 404),
    ("npmrc", get("/.npmrc"), 404),
    ("mercurial", get("/.hg/hgrc"), 404),
    ("subversion", get("/.svn/entries"), 404),
    ("htpasswd", get("/.htpasswd"), 404),
    ("dotenv in a sub-folder", get("/docs/.env"), 404),
    ("missing dotfile answers the same", get("/.nothing-here"), 404),
    # Private keys and certificates.
    ("pem", get("/keys/server.pem"), 404),
    ("key", get("/keys/server.key"), 404),
    ("certificate", get("/keys/server.crt"), 404),
    ("rsa key", get("/keys/id_rsa"), 404),
    ("rsa public key", get("/keys/id_rsa.pub"), 404),
    ("ed25519 key", get("/keys/id_ed25519"), 404),
    ("pem in capitals", get("/keys/SERVER.PEM"), 404),
    # Leaving the root.
    ("dot-dot", get("/../outside.txt"), 400),
    ("dot-dot after a folder", get("/css/../../outside.txt"), 400),
    ("dot-dot to a dotfile", get("/css/../.env"), 400),
    ("encoded dots", get("/%2e%2e/outside.txt"), 400),
    ("encoded dots in capitals", get("/%2E%2E/outside.txt"), 400),
    ("half-encoded dots", get("/.%2e/outside.txt"), 400),
    ("double-encoded dots name a real folder", get("/%252e%252e/outside.txt"), 200),
    ("encoded slash", get("/css%2f..%2f..%2foutside.txt"), 400),
    ("encoded slash in capitals", get("/css%2F..%2F.env"), 400),
    ("encoded backslash", get("/..%5coutside.txt"), 400),
    ("raw backslash", get("/css\\..\\.env"), 400),
    ("overlong dot", get("/%c0%ae%c0%ae/outside.txt"), 400),
    ("three-byte overlong dot", get("/%e0%80%ae%e0%80%ae/outside.txt"), 400),
    ("overlong slash", get("/css%c0%af..%c0%af.env"), 400),
    ("bad percent-encoding", get("/%zz/index.html"), 400),
    ("encoded NUL", get("/index.html%00.txt"), 400),
    ("encoded NUL before a suffix", get("/.env%00.html"), 400),
    ("encoded hash", get("/.env%23.css"), 404),
    ("raw hash cuts the path", get("/.env#.css"), 404),
    ("semicolon then dot-dot", get("/index.html;/../.env"), 400),
    ("semicolon suffix", get("/.env;.css"), 404),
    ("trailing dot", get("/.env."), 400),
    ("trailing dot on a key", get("/keys/server.pem."), 400),
    ("trailing space on a key", get("/keys/server.pem%20"), 400),
    ("NTFS stream", get("/keys/server.pem::$DATA"), 400),
    ("drive letter", get("/C:/Windows/win.ini"), 400),
    ("double slash", get("//etc/passwd"), 400),
    ("encoded leading slash", get("/%2fetc%2fpasswd"), 400),
    ("absolute system path", get("/etc/passwd"), 404),
    ("symlink to a file outside", get("/link-out.txt"), 404),
    ("symlink to a folder outside", get("/linked-dir/outside.txt"), 404),
    ("innocent name, symlink to a dotfile", get("/innocent.txt"), 404),
    ("absolute-form target", get("http://localhost/.env"), 404),
    ("client folder escape", get("/__hotreload/../../hotreload/server.py"), 400),
    ("client folder encoded escape", get("/__hotreload/..%2f..%2fhotreload%2fserver.py"), 404),
    ("client folder, not a client file", get("/__hotreload/server.py"), 404),
    ("client folder, dotfile", get("/__hotreload/.env"), 404),
    ("NUL in the request line", b"GET /index.html\x00 HTTP/1.1\r\nHost: localhost\r\n\r\n", 400),
    ("a request target that is not a path", get("*"), 400),
    ("path too long for any file system", get("/" + "a" * 300 + ".html"), 400),
]

HOST_CASES = [
    ("DNS rebinding", get("/index.html", host="evil.example"), 403),
    ("rebinding with a local-looking name", get("/index.html", host="localhost.evil.example"), 403),
    ("rebinding through a wildcard DNS service", get("/index.html", host="127.0.0.1.nip.io"), 403),
    ("rebinding with the port", get("/index.html", host="evil.example:{port}"), 403),
    ("no Host on HTTP/1.0", b"GET /index.html HTTP/1.0\r\n\r\n", 403),
    ("no Host on HTTP/1.1", b"GET /index.html HTTP/1.1\r\nConnection: close\r\n\r\n", 400),
    ("two Host headers", b"GET / HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\nConnection: close\r\n\r\n", 400),
    ("absolute-form naming another host", get("http://evil.example/index.html"), 403),
    ("user-info trick", get("/index.html", host="localhost@evil.example"), 403),
    ("IPv6 loopback is local", get("/index.html", host="[::1]:{port}"), 200),
    ("another port on localhost is local", get("/index.html", host="localhost:1"), 200),
    ("a subdomain of localhost is local", get("/index.html", host="app.localhost:{port}"), 200),
    ("cross-site script include", get("/js/main.js", extra="Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: no-cors\r\n"), 403),
    ("cross-site image include", get("/img/logo.png", extra="Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: no-cors\r\n"), 403),
    ("cross-site navigation is a link", get("/index.html", extra="Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: navigate\r\n"), 200),
    ("same-origin script", get("/js/main.js", extra="Sec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: no-cors\r\n"), 200),
]

WEBSOCKET_CASES = [
    ("no token", upgrade("/__hotreload/ws", origin="http://localhost:{port}"), 403),
    ("wrong token", upgrade("/__hotreload/ws?token=guess", origin="http://localhost:{port}"), 403),
    ("token prefix", upgrade("/__hotreload/ws?token={token_prefix}", origin="http://localhost:{port}"), 403),
    ("another site", upgrade("/__hotreload/ws?token={token}", origin="http://evil.example"), 403),
    ("another port", upgrade("/__hotreload/ws?token={token}", origin="http://localhost:1"), 403),
    ("sandboxed frame", upgrade("/__hotreload/ws?token={token}", origin="null"), 403),
    ("file page", upgrade("/__hotreload/ws?token={token}", origin="file://"), 403),
    ("rebinding host", upgrade("/__hotreload/ws?token={token}", host="evil.example:{port}", origin="http://evil.example:{port}"), 403),
    ("the site itself", upgrade("/__hotreload/ws?token={token}", origin="http://localhost:{port}"), 101),
    ("a script without Origin", upgrade("/__hotreload/ws?token={token}"), 101),
]

METHOD_AND_LIMIT_CASES = [
    ("POST", b"POST /index.html HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 405),
    ("PUT", b"PUT /new.html HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi", 405),
    ("DELETE", b"DELETE /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 405),
    ("TRACE", b"TRACE / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 405),
    ("CORS preflight", b"OPTIONS /index.html HTTP/1.1\r\nHost: localhost\r\nOrigin: http://evil.example\r\n"
     b"Access-Control-Request-Method: PUT\r\nConnection: close\r\n\r\n", 405),
    ("request line too long", get("/" + "a" * 9000), 400),
    ("header line too long", get("/", extra="X-Long: " + "a" * 9000 + "\r\n"), 400),
    ("too many headers", get("/", extra="".join(f"X-{i}: a\r\n" for i in range(150))), 400),
    ("request smuggling", b"GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),
]

ALL_CASES = PATH_CASES + HOST_CASES + WEBSOCKET_CASES + METHOD_AND_LIMIT_CASES


def test_the_suite_is_big_enough() -> None:
    assert len(ALL_CASES) >= 60
    assert len({name for name, _, _ in ALL_CASES}) == len(ALL_CASES)


@pytest.mark.parametrize("what, request_bytes, expected", ALL_CASES, ids=[c[0] for c in ALL_CASES])
def test_hostile_request_gets_its_status_and_no_secret(
    live: ServerProcess, what: str, request_bytes: bytes, expected: int
) -> None:
    port = live.url.rsplit(":", 1)[1].strip("/")
    token = client_params(live.url)["token"]
    filled = (
        request_bytes.replace(b"{port}", port.encode())
        .replace(b"{token_prefix}", token[:-1].encode())
        .replace(b"{token}", token.encode())
    )
    response = raw_request(live.url, filled)
    assert status_of(response) == expected, response[:400]
    assert SECRET not in response


def test_every_answer_keeps_other_sites_out(live: ServerProcess) -> None:
    """Files, pages, redirects, errors and refusals: none may be embedded or read by
    another site, and none invites one to with CORS headers."""
    for path, status in [("/index.html", 200), ("/css/site.css", 200), ("/css", 301), ("/nope", 404),
                         ("/.env", 404), ("/%2e%2e/x", 400), ("/__hotreload/nope.js", 404),
                         ("/__hotreload/client.js", 200), ("/__hotreload/ping", 200)]:
        response = raw_request(live.url, get(path, extra="Origin: http://evil.example\r\n"))
        head = response.split(b"\r\n\r\n", 1)[0].lower()
        assert status_of(response) == status, path
        assert b"\r\ncross-origin-resource-policy: same-origin" in head, path
        assert b"\r\nx-content-type-options: nosniff" in head, path
        assert b"access-control-" not in head, path
    refused = raw_request(live.url, get("/index.html", host="evil.example"))
    assert b"cross-origin-resource-policy: same-origin" in refused.lower()


def test_the_refusal_of_an_unknown_host_names_the_flag_that_allows_it(live: ServerProcess) -> None:
    response = raw_request(live.url, get("/", host="dev.example.test:8080"))
    assert status_of(response) == 403
    assert b"--allowed-host dev.example.test" in response


def test_an_allowed_host_is_answered(serve, site: Path) -> None:
    server = serve(str(site), "--allowed-host", "dev.example.test")
    assert status_of(raw_request(server.url, get("/", host="dev.example.test"))) == 200
    assert status_of(raw_request(server.url, get("/", host="other.example.test"))) == 403


def test_hostile_requests_leave_the_server_serving_and_the_terminal_quiet(live: ServerProcess) -> None:
    for what, request_bytes, _ in METHOD_AND_LIMIT_CASES + HOST_CASES:
        raw_request(live.url, request_bytes.replace(b"{port}", b"1"))
    assert status_of(raw_request(live.url, get("/index.html"))) == 200
    assert not any("Traceback" in line for line in live.lines), "\n".join(live.lines)


def test_a_symlink_leaving_the_root_is_served_with_follow_symlinks_only(serve, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (tmp_path / "shared.css").write_text("body { color: teal }")
    (tmp_path / ".secret").write_text("TOPSECRET")
    os.symlink(tmp_path / "shared.css", site / "shared.css")
    os.symlink(tmp_path / ".secret", site / "plain-name.txt")
    strict = serve(str(site))
    assert status_of(raw_request(strict.url, get("/shared.css"))) == 404
    following = serve(str(site), "--follow-symlinks")
    response = raw_request(following.url, get("/shared.css"))
    assert status_of(response) == 200 and response.endswith(b"body { color: teal }")
    # Following links never serves what the deny list names, whatever the link is called.
    response = raw_request(following.url, get("/plain-name.txt"))
    assert status_of(response) == 404 and SECRET not in response


def test_the_deny_list_can_be_extended_and_a_hidden_name_allowed(serve, site: Path) -> None:
    (site / ".well-known").mkdir()
    (site / ".well-known" / "security.txt").write_text("Contact: me@example.test")
    (site / ".well-known" / ".env").write_text("TOPSECRET")
    (site / "drafts").mkdir()
    (site / "drafts" / "plan.html").write_text("<p>TOPSECRET draft</p>")
    (site / "data.sqlite").write_text("TOPSECRET rows")
    default = serve(str(site))
    assert status_of(raw_request(default.url, get("/.well-known/security.txt"))) == 404
    assert status_of(raw_request(default.url, get("/drafts/plan.html"))) == 200
    custom = serve(str(site), "--deny", "drafts/*", "--deny", "*.sqlite", "--allow", ".well-known")
    assert status_of(raw_request(custom.url, get("/.well-known/security.txt"))) == 200
    for path in ("/.well-known/.env", "/drafts/plan.html", "/data.sqlite", "/.env"):
        response = raw_request(custom.url, get(path))
        assert status_of(response) == 404, path
        assert SECRET not in response, path
    listing = raw_request(custom.url, get("/drafts/"))
    assert b"plan.html" not in listing


# ---- properties against the live server ---------------------------------------------

PIECES = [
    "..", ".", "%2e", "%2E", "%2e%2e", "%252e", "%2f", "%2F", "%5c", "\\", "%00", "%c0%ae", "%c0%af", "%e0%80%ae",
    ";", "%3b", "#", "%23", "?", ":", "::$DATA", "%20", ".env", ".git", "config", "keys", "server.pem", "id_rsa",
    "outside.txt", "link-out.txt", "linked-dir", "innocent.txt", "css", "index.html", "~", "%", "%%", "%u002e",
    "/", "//", "%ff", "ENV", "PEM",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=8))
def test_no_assembly_of_path_tricks_reaches_a_secret(live: ServerProcess, pieces: list[str]) -> None:
    path = "/" + "".join(pieces)
    response = raw_request(live.url, get(path))
    assert status_of(response) in (200, 301, 400, 404), path
    assert SECRET not in response, path


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=60))
def test_no_printable_request_path_reaches_a_secret_or_fails_the_server(live: ServerProcess, raw: str) -> None:
    response = raw_request(live.url, get("/" + raw))
    assert status_of(response) in (200, 301, 400, 403, 404), raw
    assert SECRET not in response, raw
