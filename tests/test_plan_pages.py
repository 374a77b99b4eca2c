"""Planning by page: each change goes only to the tabs whose page uses it."""

from __future__ import annotations

from hotreload.inline import Inline
from hotreload.plan import Plan, SiteView, page_key, plan_updates
from hotreload.protocol import Reload, Update

# What each page of a five-page site uses.
USES = {
    "/": {"/css/shared.css", "/img/logo.png", "/js/app.js"},
    "/about.html": {"/css/shared.css"},
    "/docs/": {"/css/docs.css"},
    "/blog.html": set(),
    "/contact.html": set(),
}
TABS = frozenset({"/", "/about.html", "/docs/", "/blog.html", "/contact.html"})


def pages_using(path: str) -> frozenset[str] | None:
    if path.endswith(".bin"):
        return None
    users = {page for page, used in USES.items() if path in used}
    if page_key(path) in USES:
        users.add(page_key(path))
    return frozenset(users)


SITE = SiteView(pages_using, lambda folder: False, lambda path: "it was loaded without a Referer")


def plan(changes: dict[str, str], tabs: frozenset[str | None] | None = TABS, **options: bool) -> Plan:
    return plan_updates(changes, seq=7, timestamp=1000, site=SITE, tab_pages=tabs, **options)  # type: ignore[arg-type]


def addressed(result: Plan) -> dict[frozenset[str | None] | None, tuple[str, ...]]:
    """Who gets what: pages → ("reload",) or the kinds and paths of the hot updates."""
    out: dict[frozenset[str | None] | None, tuple[str, ...]] = {}
    for item in result.outgoing:
        if isinstance(item.message, Reload):
            out[item.pages] = ("reload",)
        else:
            assert isinstance(item.message, Update)
            out[item.pages] = tuple(f"{u.kind} {u.path}" for u in item.message.updates)
    return out


def test_an_edited_page_is_sent_to_be_morphed_in_the_tabs_that_show_it_only() -> None:
    result = plan({"/about.html": "modified"})
    assert addressed(result) == {frozenset({"/about.html"}): ("page /about.html",)}
    assert [(line.kind, line.action) for line in result.log] == [("page", "morph")]


def test_with_reload_html_an_edited_page_reloads_its_tabs() -> None:
    result = plan({"/about.html": "modified"}, reload_html=True)
    assert addressed(result) == {frozenset({"/about.html"}): ("reload",)}
    assert result.outgoing[0].message.reason == "about.html changed"  # type: ignore[union-attr]


def test_a_folder_index_page_is_the_folder_page() -> None:
    assert addressed(plan({"/docs/index.html": "modified"})) == {frozenset({"/docs/"}): ("page /docs/index.html",)}


def test_a_created_or_deleted_page_reloads_its_tabs() -> None:
    assert addressed(plan({"/blog.html": "deleted"})) == {frozenset({"/blog.html"}): ("reload",)}
    assert addressed(plan({"/contact.html": "added"})) == {frozenset({"/contact.html"}): ("reload",)}


def test_a_shared_stylesheet_goes_only_to_the_pages_that_use_it() -> None:
    result = plan({"/css/shared.css": "modified"})
    assert addressed(result) == {frozenset({"/", "/about.html"}): ("css /css/shared.css",)}
    assert result.log[0].why == "2 pages use it"


def test_an_image_goes_only_to_the_page_that_uses_it() -> None:
    assert addressed(plan({"/img/logo.png": "modified"})) == {frozenset({"/"}): ("image /img/logo.png",)}


def test_a_script_reloads_only_the_pages_that_load_it() -> None:
    assert addressed(plan({"/js/app.js": "modified"})) == {frozenset({"/"}): ("reload",)}


def test_a_file_no_page_uses_reaches_nobody_and_the_terminal_says_so() -> None:
    result = plan({"/css/unused.css": "modified", "/notes.md": "modified"})
    assert result.outgoing == []
    assert [(line.path, line.action, line.why) for line in result.log] == [
        ("/css/unused.css", "ignored", "no page uses it"),
        ("/notes.md", "ignored", "no page uses it"),
    ]


def test_a_file_that_cannot_be_placed_reloads_every_tab_and_says_why() -> None:
    result = plan({"/data/feed.bin": "modified", "/css/docs.css": "modified"})
    assert addressed(result) == {None: ("reload",)}
    reason = result.outgoing[0].message.reason  # type: ignore[union-attr]
    assert reason == "feed.bin changed and it was loaded without a Referer"
    assert ("asset", "reload") in [(line.kind, line.action) for line in result.log]


def test_each_tab_gets_exactly_the_updates_for_its_page_in_one_message() -> None:
    result = plan({"/css/shared.css": "modified", "/css/docs.css": "modified", "/about.html": "modified"})
    assert addressed(result) == {
        frozenset({"/"}): ("css /css/shared.css",),
        frozenset({"/about.html"}): ("page /about.html", "css /css/shared.css"),
        frozenset({"/docs/"}): ("css /css/docs.css",),
    }


def test_a_tab_whose_page_reloads_gets_no_hot_update() -> None:
    result = plan({"/js/app.js": "modified", "/css/shared.css": "modified"})
    assert addressed(result) == {
        frozenset({"/"}): ("reload",),
        frozenset({"/about.html"}): ("css /css/shared.css",),
    }


def test_pages_without_open_tabs_get_nothing() -> None:
    assert plan({"/css/shared.css": "modified"}, tabs=frozenset({"/docs/"})).outgoing == []
    assert plan({"/about.html": "modified"}, tabs=frozenset({"/"})).outgoing == []


def test_when_users_are_unknown_stylesheets_go_to_every_tab_including_ones_not_yet_reported() -> None:
    site = SiteView(lambda path: None, lambda folder: False)
    result = plan_updates({"/css/x.css": "modified"}, seq=1, timestamp=0, site=site, tab_pages=frozenset({None, "/"}))
    assert addressed(result) == {None: ("css /css/x.css",)}


def test_page_keys_fold_index_pages_and_keep_special_characters() -> None:
    assert page_key("/docs/index.html") == page_key("/docs/") == "/docs/"
    assert page_key("/a b/100%.html") == "/a b/100%.html"
    assert page_key("/x/../y.html") == "/y.html"


def test_changed_stylesheets_and_images_carry_what_the_site_inlines_for_them() -> None:
    asked: list[tuple[str, str]] = []

    def inline(kind: str, path: str) -> Inline | None:
        asked.append((kind, path))
        if path == "/css/shared.css":
            return Inline(text="h1 { color: red }")
        if path == "/img/logo.png":
            return Inline(data="iVBORw0K", content_type="image/png")
        return None

    site = SiteView(pages_using, lambda folder: False, inline=inline)  # type: ignore[arg-type]
    result = plan_updates(
        {"/css/shared.css": "modified", "/css/docs.css": "modified", "/img/logo.png": "modified",
         "/about.html": "modified"},
        seq=1, timestamp=5, site=site, tab_pages=TABS,
    )
    updates = {u.path: u for item in result.outgoing for u in item.message.updates}  # type: ignore[union-attr]
    assert updates["/css/shared.css"].text == "h1 { color: red }"
    assert (updates["/img/logo.png"].data, updates["/img/logo.png"].content_type) == ("iVBORw0K", "image/png")
    assert (updates["/css/docs.css"].text, updates["/about.html"].text) == (None, None)
    # Only stylesheets and images are asked for: pages are fetched to be morphed.
    assert sorted(asked) == [("css", "/css/docs.css"), ("css", "/css/shared.css"), ("image", "/img/logo.png")]
