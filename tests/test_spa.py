"""--spa: a single-page app's routes are answered with its index.html, and its tabs update like "/"."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import write_in_place
from pages import mark, still_marked, wait_reloaded, wait_text
from test_browser_updates import wait_style

INDEX = (
    '<!doctype html><html><head><link rel="stylesheet" href="/app.css"></head>'
    '<body><h1 id="title">{title}</h1><p id="route"></p><script type="module" src="/app.js"></script></body></html>'
)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    (root / "index.html").write_text(INDEX.format(title="Users"))
    (root / "app.css").write_text("h1 { color: rgb(0, 0, 0); }\n")
    (root / "app.js").write_text('document.getElementById("route").textContent = location.pathname;\n')
    (root / "about.html").write_text("<!doctype html><title>About</title><p>about</p>")
    return root


def get(url: str, accept: str = "text/html,application/xhtml+xml,*/*;q=0.8") -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_routes_get_the_apps_page_and_everything_else_is_served_or_404(serve, app: Path) -> None:
    server = serve(str(app), "--spa")
    base = server.url.rstrip("/")
    for route in ("/users/3", "/users/3/", "/deep/ly/nested"):
        status, body = get(base + route)
        assert status == 200 and '<h1 id="title">Users</h1>' in body and "/__hotreload/" in body, route
    assert get(base + "/users/3", accept="*/*")[0] == 200  # fetch() of a route, as the tab's own update does
    assert get(base + "/about.html")[1].endswith("<p>about</p>")  # real files are themselves
    assert "rgb(0, 0, 0)" in get(base + "/app.css", accept="text/css")[1]
    for missing, accept in (("/logo.png", "image/*"), ("/data.json", "*/*"), ("/users/3", "image/avif,image/webp")):
        assert get(base + missing, accept=accept)[0] == 404, missing
    assert get(base + "/.env")[0] == 404


def test_without_spa_a_route_is_a_404(serve, app: Path) -> None:
    server = serve(str(app))
    assert get(server.url.rstrip("/") + "/users/3")[0] == 404


def test_a_tab_on_a_route_updates_in_place_and_after_the_app_moves_it_elsewhere(serve, app: Path, new_page) -> None:
    server = serve(str(app), "--spa")
    page = new_page(server.url.rstrip("/") + "/users/3")
    wait_text(page, "#route", "/users/3")
    mark(page)

    write_in_place(app / "app.css", "h1 { color: rgb(200, 0, 0); }\n")
    wait_style(page, "h1", "color", "rgb(200, 0, 0)")
    write_in_place(app / "index.html", INDEX.format(title="People"))
    wait_text(page, "#title", "People")  # morphed: fetched /users/3 again, which is the app's page
    assert still_marked(page)
    server.wait_for_line(r"page\s+/index.html\s+morph")

    # The app routes on its own: the tab now reports /users/7, still the app's page.
    page.evaluate("history.pushState({}, '', '/users/7')")
    write_in_place(app / "app.css", "h1 { color: rgb(0, 150, 0); }\n")
    wait_style(page, "h1", "color", "rgb(0, 150, 0)")
    assert still_marked(page)
    # A page that changed its address is reloaded, not morphed: at /users/7, the app's page again.
    write_in_place(app / "index.html", INDEX.format(title="Members"))
    wait_reloaded(page)
    wait_text(page, "#title", "Members")
    wait_text(page, "#route", "/users/7")

