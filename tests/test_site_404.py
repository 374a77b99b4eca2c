"""A site's own 404.html is its "not found" page, and a tab showing it keeps updating."""

from __future__ import annotations

from pathlib import Path

from conftest import write_atomic, write_in_place
from pages import mark, still_marked, wait_reloaded, wait_text
from test_browser_updates import wait_style
from test_spa import get

NOT_FOUND = '<!doctype html><link rel="stylesheet" href="/site.css"><h1 id="nf">{text}</h1>'


def site_with_404(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text("<!doctype html><h1>Home</h1>")
    (root / "404.html").write_text(NOT_FOUND.format(text="Lost"))
    (root / "site.css").write_text("h1 { color: rgb(0, 0, 0); }\n")
    return root


def test_missing_pages_get_the_sites_404_html_with_status_404(serve, tmp_path: Path) -> None:
    root = site_with_404(tmp_path)
    base = serve(str(root)).url.rstrip("/")
    status, body = get(base + "/nope.html")
    assert status == 404 and '<h1 id="nf">Lost</h1>' in body and "/__hotreload/" in body
    status, body = get(base + "/deep/er/nope")
    assert status == 404 and "Lost" in body
    status, body = get(base + "/nope.png", accept="image/avif,image/webp,*/*;q=0.8")  # */* counts: 404.html
    assert status == 404
    status, body = get(base + "/nope.png", accept="image/avif,image/webp")
    assert status == 404 and "Lost" not in body
    (root / "404.html").unlink()
    status, body = get(base + "/nope.html")
    assert status == 404 and "404 Not found" in body and "Lost" not in body


def test_a_tab_shown_404_html_follows_its_edits_and_becomes_the_page_once_created(
    serve, tmp_path: Path, new_page
) -> None:
    root = site_with_404(tmp_path)
    server = serve(str(root))
    page = new_page(server.url + "later.html")
    wait_text(page, "#nf", "Lost")
    mark(page)
    write_in_place(root / "site.css", "h1 { color: rgb(0, 120, 0); }\n")
    wait_style(page, "h1", "color", "rgb(0, 120, 0)")  # the stylesheet 404.html uses, swapped in place
    assert still_marked(page)
    write_in_place(root / "404.html", NOT_FOUND.format(text="Gone"))
    wait_text(page, "#nf", "Gone")
    mark(page)
    write_atomic(root / "later.html", '<!doctype html><h1 id="later">Here now</h1>')
    wait_reloaded(page)
    wait_text(page, "#later", "Here now")
    assert page.url.endswith("/later.html")
