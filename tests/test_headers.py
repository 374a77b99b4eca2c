"""--header: headers added to every response, as cross-origin isolation (WebAssembly threads) needs."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from conftest import write_in_place
from pages import mark, still_marked
from test_browser_updates import wait_style
from test_cli import one_line_error, run_cli
from test_settings_file import run_cli_in

ISOLATED = ["--header", "Cross-Origin-Opener-Policy: same-origin", "--header", "Cross-Origin-Embedder-Policy:require-corp"]


def headers_of(url: str) -> dict[str, str]:
    request = urllib.request.Request(url, headers={"Accept": "text/html"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return {name.lower(): value for name, value in response.headers.items()}


def test_every_response_carries_the_added_headers_and_they_win_over_the_defaults(serve, site: Path) -> None:
    server = serve(str(site), *ISOLATED, "--header", "Cross-Origin-Resource-Policy: cross-origin")
    for path in ("", "css/site.css", "img/logo.png", "__hotreload/client.js"):
        headers = headers_of(server.url + path)
        assert headers["cross-origin-opener-policy"] == "same-origin", path
        assert headers["cross-origin-embedder-policy"] == "require-corp", path
        assert headers["cross-origin-resource-policy"] == "cross-origin", path  # instead of same-origin
        assert headers["x-content-type-options"] == "nosniff", path


def test_a_cross_origin_isolated_page_still_updates_in_place(serve, site: Path, new_page) -> None:
    server = serve(str(site), *ISOLATED)
    page = new_page(server.url)
    assert page.evaluate("crossOriginIsolated") is True
    mark(page)
    css = site / "css" / "site.css"
    write_in_place(css, css.read_text() + "\nhtml { outline-color: rgb(3, 4, 5); }\n")
    wait_style(page, "html", "outlineColor", "rgb(3, 4, 5)")
    assert still_marked(page)


def test_malformed_and_framing_headers_are_refused_with_the_reason(tmp_path: Path) -> None:
    for header, reason in (
        ("no colon here", "'Name: value'"),
        ("Bad Name: x", "not a header name"),
        ("Content-Length: 5", "set by the server"),
        ("X-A: one\x7ftwo", "control character"),
    ):
        out = run_cli("serve", str(tmp_path), "--header", header)
        assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
        assert reason in out.stderr.splitlines()[-1], out.stderr
    # The same checks apply to the settings file, as a one-line error.
    (tmp_path / "hotreload.toml").write_text('header = ["Transfer-Encoding: chunked"]\n')
    one_line_error(run_cli_in(tmp_path, "serve"), "header", "set by the server")


def test_the_python_api_checks_headers_as_the_command_line_does(tmp_path: Path) -> None:
    import pytest

    from hotreload import DevServer

    with pytest.raises(ValueError, match="set by the server"):
        DevServer(tmp_path, port=0, headers=["Transfer-Encoding: chunked"])
    assert DevServer(tmp_path, port=0, headers=["X-Frame-Options:DENY"]).config.headers == ["X-Frame-Options: DENY"]
