"""--navigate-to-changed: the tabs go to the one page a change added or edited, as Hugo's server does."""

from __future__ import annotations

from pathlib import Path

from conftest import wait_connected, write_atomic, write_in_place
from hotreload.plan import SiteView, plan_updates
from hotreload.protocol import Navigate
from pages import mark, still_marked, wait_text

PAGE = '<!doctype html><link rel="stylesheet" href="style.css"><h1 id="t">{}</h1>'


def navigations(changes: dict, tab_pages: frozenset, navigate: bool = True) -> list[tuple[str, list]]:
    site = SiteView(pages_using=lambda _path: frozenset(), is_listing=lambda _folder: False)
    plan = plan_updates(changes, seq=1, timestamp=1, site=site, tab_pages=tab_pages, navigate=navigate)
    return [(o.message.path, sorted(o.pages or ())) for o in plan.outgoing if isinstance(o.message, Navigate)]


def test_only_one_added_or_edited_page_is_a_destination() -> None:
    tabs = frozenset({"/", "/a.html", "/docs/"})
    assert navigations({"/docs/index.html": "modified"}, tabs) == [("/docs/", ["/", "/a.html"])]
    assert navigations({"/new.html": "added", "/style.css": "modified"}, tabs) == [("/new.html", ["/", "/a.html", "/docs/"])]
    assert navigations({"/a.html": "modified", "/b.html": "modified"}, tabs) == []  # which one?
    assert navigations({"/a.html": "deleted"}, tabs) == []
    assert navigations({"/404.html": "modified"}, tabs) == []
    assert navigations({"/style.css": "modified"}, tabs) == []
    assert navigations({"/a.html": "modified"}, frozenset({"/a.html"})) == []  # every tab is there already
    assert navigations({"/docs/index.html": "modified"}, tabs, navigate=False) == []


def test_the_navigation_comes_before_the_other_updates_of_the_batch() -> None:
    site = SiteView(pages_using=lambda _path: frozenset({"/"}), is_listing=lambda _folder: False)
    plan = plan_updates(
        {"/b.html": "modified", "/style.css": "modified"}, seq=1, timestamp=1, site=site,
        tab_pages=frozenset({"/", "/b.html"}), navigate=True,
    )
    assert isinstance(plan.outgoing[0].message, Navigate)


def test_a_tab_on_another_page_goes_to_the_edited_one_and_its_own_tab_morphs(serve, tmp_path: Path, new_page) -> None:
    root = tmp_path / "site"
    root.mkdir()
    (root / "style.css").write_text("h1 { color: rgb(0, 0, 0); }\n")
    (root / "a.html").write_text(PAGE.format("A"))
    (root / "b.html").write_text(PAGE.format("B"))
    server = serve(str(root), "--navigate-to-changed")
    on_a = new_page(server.url + "a.html")
    on_b = new_page(server.url + "b.html")
    mark(on_b)
    write_in_place(root / "b.html", PAGE.format("B, edited"))
    wait_text(on_b, "#t", "B, edited")
    assert still_marked(on_b)  # morphed in place, as without the flag
    wait_text(on_a, "#t", "B, edited")
    assert on_a.url.endswith("/b.html")
    # A tab that has not said where it is yet is not sent anywhere (nor is one
    # that catches up after a disconnection): wait until the moved tab has.
    wait_connected(on_a)
    # A new page is a destination too.
    write_atomic(root / "c.html", PAGE.format("C"))
    wait_text(on_a, "#t", "C")
    assert on_a.url.endswith("/c.html") and on_b.url.endswith("/c.html")


def test_every_command_takes_the_flag() -> None:
    from test_cli import run_cli

    for command in ("serve", "sphinx", "mkdocs", "pelican"):
        out = run_cli(command, "--help")
        assert out.returncode == 0 and "--navigate-to-changed" in out.stdout, command


def test_a_build_that_changes_one_page_sends_the_other_tabs_to_it(serve, tmp_path: Path, new_page) -> None:
    # The generator rewrites every page on every build; only the edited source's
    # page comes out different, and that is where the tab on the home page goes.
    from test_serve_build import Project, serve_build

    project = Project(tmp_path / "project")
    server = serve_build(serve, project, "--navigate-to-changed")
    home = new_page(server.url + "index.html")
    write_atomic(project.src / "about.txt", "About us\nwho we are now")
    wait_text(home, "#title", "About us")
    assert home.url.endswith("/about.html")
