"""The page graph tells which open pages a changed file concerns."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotreload.pagegraph import (
    MAX_FETCHES_PER_REFERRER,
    PageGraph,
    Placement,
    canonical_path,
    parse_srcset,
)


def graph_of(pages: dict[str, str] | None = None, sheets: dict[str, str] | None = None) -> PageGraph:
    graph = PageGraph()
    for page, html in (pages or {}).items():
        graph.record_html(page, html.encode())
    for sheet, css in (sheets or {}).items():
        graph.record_css(sheet, css.encode())
    return graph


def pages_for(graph: PageGraph, path: str) -> set[str]:
    placement = graph.place(path)
    assert placement.certain, placement.reason
    return set(placement.pages)


# --- resolving references ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "resolved"),
    [
        ("style.css", "/blog/2024/style.css"),
        ("./style.css", "/blog/2024/style.css"),
        ("../shared/style.css", "/blog/shared/style.css"),
        ("../../../../too-far.css", "/too-far.css"),
        ("/root.css", "/root.css"),
        ("style.css?v=3#top", "/blog/2024/style.css"),
        ("my%20style.css", "/blog/2024/my style.css"),
        ("  padded.css\n", "/blog/2024/padded.css"),
        ("css\\windows.css", "/blog/2024/css/windows.css"),
    ],
)
def test_a_reference_resolves_against_the_page_url(reference: str, resolved: str) -> None:
    graph = graph_of({"/blog/2024/post.html": f'<link rel="stylesheet" href="{reference}">'})
    assert pages_for(graph, resolved) == {"/blog/2024/post.html"}


def test_base_href_changes_where_relative_references_point() -> None:
    graph = graph_of(
        {"/blog/post.html": '<head><base href="/static/v2/"><link rel=stylesheet href="site.css"></head>'
         '<img src="../logo.png"><img src="/abs.png">'}
    )
    assert pages_for(graph, "/static/v2/site.css") == {"/blog/post.html"}
    assert pages_for(graph, "/static/logo.png") == {"/blog/post.html"}
    assert pages_for(graph, "/abs.png") == {"/blog/post.html"}
    assert pages_for(graph, "/blog/site.css") == set()


def test_a_relative_base_href_resolves_against_the_page_and_only_the_first_counts() -> None:
    graph = graph_of(
        {"/docs/guide/intro.html": '<base href="../assets/"><base href="/elsewhere/"><img src="a.png">'}
    )
    assert pages_for(graph, "/docs/assets/a.png") == {"/docs/guide/intro.html"}
    assert pages_for(graph, "/elsewhere/a.png") == set()


def test_a_base_on_another_origin_takes_relative_references_off_the_site() -> None:
    graph = graph_of({"/p.html": '<base href="https://cdn.example/lib/"><img src="a.png"><img src="/b.png">'})
    assert graph.references("/p.html") == {}


@pytest.mark.parametrize(
    "reference",
    [
        "https://cdn.example/lib.css",
        "//cdn.example/lib.css",
        "data:text/css,a{}",
        "blob:http://127.0.0.1:8000/1234",
        "javascript:void(0)",
        "mailto:someone@example.com",
        "#section",
        "",
    ],
)
def test_references_that_leave_the_site_are_ignored(reference: str) -> None:
    graph = graph_of({"/p.html": f'<link rel="stylesheet" href="{reference}"><img src="{reference}">'})
    assert graph.references("/p.html") == {}


def test_absolute_urls_on_the_sites_own_origin_count() -> None:
    graph = PageGraph(origins=["http://127.0.0.1:8000"])
    graph.record_html("/p.html", b'<img src="http://127.0.0.1:8000/logo.png"><img src="http://127.0.0.1:9/x.png">')
    assert graph.references("/p.html") == {"/logo.png": frozenset({"image"})}


def test_character_references_in_attributes_are_decoded() -> None:
    graph = graph_of({"/p.html": '<img src="a&amp;b.png">'})
    assert pages_for(graph, "/a&b.png") == {"/p.html"}


# --- what a page references -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markup", "path", "kind"),
    [
        ('<link rel="stylesheet" href="s.css">', "/s.css", "stylesheet"),
        ('<link rel="alternate stylesheet" href="dark.css">', "/dark.css", "stylesheet"),
        ('<link rel="icon" href="favicon.ico">', "/favicon.ico", "icon"),
        ('<link rel="shortcut icon" href="fav.png">', "/fav.png", "icon"),
        ('<link rel="apple-touch-icon" href="touch.png">', "/touch.png", "icon"),
        ('<link rel="preload" as="font" href="f.woff2">', "/f.woff2", "preload"),
        ('<link rel="modulepreload" href="/src/dep.js">', "/src/dep.js", "modulepreload"),
        ('<link rel="manifest" href="app.webmanifest">', "/app.webmanifest", "manifest"),
        ('<link rel="preload" as="image" imagesrcset="hero.png 1x, hero2.png 2x">', "/hero2.png", "image"),
        ('<script src="legacy.js"></script>', "/legacy.js", "script"),
        ('<script type="text/javascript; charset=utf-8" src="old.js"></script>', "/old.js", "script"),
        ('<script type="module" src="/src/main.js"></script>', "/src/main.js", "module"),
        ('<script type="MODULE" src="upper.js"></script>', "/upper.js", "module"),
        ('<img src="a.png">', "/a.png", "image"),
        ('<img src="a.png"/>', "/a.png", "image"),
        ('<picture><source srcset="wide.avif" media="(min-width: 60em)"><img src="n.png"></picture>',
         "/wide.avif", "image"),
        ('<video poster="poster.jpg" src="clip.mp4"></video>', "/poster.jpg", "image"),
        ('<video poster="poster.jpg" src="clip.mp4"></video>', "/clip.mp4", "media"),
        ('<video><source src="clip.webm" type="video/webm"></video>', "/clip.webm", "media"),
        ('<audio src="song.mp3"></audio>', "/song.mp3", "media"),
        ('<video><track src="subs.vtt" kind="subtitles"></video>', "/subs.vtt", "media"),
        ('<iframe src="frame.html"></iframe>', "/frame.html", "frame"),
        ('<embed src="anim.svg">', "/anim.svg", "frame"),
        ('<object data="chart.svg"></object>', "/chart.svg", "frame"),
        ('<input type="image" src="submit.png">', "/submit.png", "image"),
        ('<svg><image href="pic.png"/></svg>', "/pic.png", "image"),
        ('<svg><image xlink:href="old-pic.png"/></svg>', "/old-pic.png", "image"),
        ('<svg><use href="sprite.svg#star"/></svg>', "/sprite.svg", "image"),
        ('<div style="background: url(bg.png) no-repeat"></div>', "/bg.png", "url"),
        ('<div style=\'background-image: url("quoted.png")\'></div>', "/quoted.png", "url"),
        ('<body background="paper.gif">', "/paper.gif", "image"),
        ('<svg><rect fill="url(defs.svg#grad)"/></svg>', "/defs.svg", "url"),
        ('<iframe srcdoc="&lt;img src=&quot;inner.png&quot;&gt;"></iframe>', "/inner.png", "image"),
    ],
)
def test_a_page_depends_on_what_its_markup_loads(markup: str, path: str, kind: str) -> None:
    graph = graph_of({"/page.html": f"<!doctype html><html><body>{markup}</body></html>"})
    assert graph.place(path) == Placement(frozenset({"/page.html"}), True, "used by 1 page")
    assert kind in graph.references("/page.html")[path]


@pytest.mark.parametrize(
    "markup",
    [
        '<a href="other.png">a link is not a dependency</a>',
        '<link rel="next" href="other.png">',
        '<link rel="canonical" href="other.png">',
        '<input type="text" src="other.png">',
        '<script type="text/template" src="other.png"></script>',
        '<script type="application/ld+json" src="other.png"></script>',
        '<!-- <img src="other.png"> -->',
        '<script>const html = "<img src=other.png>";</script>',
        '<svg><use href="#local-symbol"/></svg>',
        '<div style="fill: url(#gradient)"></div>',
    ],
)
def test_markup_that_loads_nothing_adds_no_dependency(markup: str) -> None:
    graph = graph_of({"/page.html": markup})
    assert pages_for(graph, "/other.png") == set()
    assert graph.references("/page.html") == {}


def test_classic_and_module_scripts_are_told_apart() -> None:
    graph = graph_of(
        {"/": '<script src="/vendor/jquery.js"></script><script type="module" src="/src/app.js"></script>'}
    )
    assert graph.references("/") == {
        "/vendor/jquery.js": frozenset({"script"}),
        "/src/app.js": frozenset({"module"}),
    }


def test_an_inline_module_script_depends_on_what_it_imports_by_literal_path() -> None:
    graph = graph_of(
        {"/app/": """<script type="module">
            import { start } from "./main.js";
            export * from "/shared/util.js";
            const lazy = () => import('./lazy.js');
            import confetti from "confetti";          // bare: resolved by the module graph, not here
            import(`./locale/${lang}.js`);             // computed: cannot be known statically
            // import "./commented-out.js"
        </script>"""}
    )
    assert set(graph.references("/app/")) == {"/app/main.js", "/shared/util.js", "/app/lazy.js"}


# --- srcset -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("srcset", "urls"),
    [
        ("a.png", ["a.png"]),
        ("a.png 1x, b.png 2x", ["a.png", "b.png"]),
        ("small.jpg 480w,large.jpg 1080w", ["small.jpg", "large.jpg"]),
        ("image,1.png 480w, image,2.png 800w", ["image,1.png", "image,2.png"]),
        ("a.png,, ,b.png 2x", ["a.png", "b.png"]),
        ("data:image/png;base64,iVBORw0KGgo= 1x, real.png 2x", ["data:image/png;base64,iVBORw0KGgo=", "real.png"]),
        ("a.png 100w (future, descriptor), b.png 2x", ["a.png", "b.png"]),
        ("  \n a.png \t 1x ,\n b.png  ", ["a.png", "b.png"]),
        ("", []),
    ],
)
def test_srcset_candidates_are_split_like_a_browser_does(srcset: str, urls: list[str]) -> None:
    assert parse_srcset(srcset) == urls


def test_a_page_depends_on_every_srcset_candidate_but_not_on_data_urls() -> None:
    graph = graph_of(
        {"/gallery/": '<img src="p.png" srcset="p,small.png 320w, data:image/gif;base64,R0lG 1x, /hi/p.png 2x">'}
    )
    assert set(graph.references("/gallery/")) == {"/gallery/p.png", "/gallery/p,small.png", "/hi/p.png"}


@given(st.lists(st.from_regex(r"[a-z0-9/_.,-]{1,12}", fullmatch=True).filter(
    lambda url: not url.startswith(",") and not url.endswith(",")), min_size=1, max_size=6),
    st.sampled_from(["", " 1x", " 2.5x", " 480w"]))
def test_srcset_with_descriptors_round_trips_any_url_list(urls: list[str], descriptor: str) -> None:
    assert parse_srcset(", ".join(url + descriptor for url in urls)) == urls


# --- stylesheets ------------------------------------------------------------------------------


def test_an_import_chain_three_deep_from_a_link_reaches_the_page() -> None:
    graph = graph_of(
        {"/index.html": '<link rel="stylesheet" href="/css/main.css">', "/other.html": "<p>no styles</p>"},
        {
            "/css/main.css": '@import "base/reset.css";',
            "/css/base/reset.css": "@import url(../fonts/fonts.css) layer(fonts) screen;",
            "/css/fonts/fonts.css": '@font-face { font-family: X; src: url("x.woff2") format("woff2"), url(x.woff); }',
        },
    )
    for path in ("/css/main.css", "/css/base/reset.css", "/css/fonts/fonts.css", "/css/fonts/x.woff2",
                 "/css/fonts/x.woff"):
        assert pages_for(graph, path) == {"/index.html"}, path


def test_an_import_chain_three_deep_from_an_inline_style_reaches_the_page() -> None:
    graph = graph_of(
        {"/blog/": '<style>@import "theme.css"; body { color: red }</style>'},
        {
            "/blog/theme.css": "@import url('/shared/colors.css');",
            "/shared/colors.css": '@import "palette/dark.css" (prefers-color-scheme: dark);',
            "/shared/palette/dark.css": "body { background: url(night.jpg) }",
        },
    )
    assert pages_for(graph, "/shared/palette/dark.css") == {"/blog/"}
    assert pages_for(graph, "/shared/palette/night.jpg") == {"/blog/"}


@pytest.mark.parametrize(
    "css",
    [
        "@media (min-width: 40em) { .hero { background: url(deep.png) } }",
        "@supports (display: grid) { @media print { .a { list-style: url('deep.png') } } }",
        "@layer components { .card { border-image: url(\"deep.png\") 30 } }",
        ".card { color: red; &:hover { background: url(deep.png) } .icon { mask: url(deep.png) } }",
        "@container sidebar (min-width: 20em) { .a { cursor: url(deep.png), auto } }",
        ".a { background: image-set('deep.png' 1x, 'deep@2x.png' 2x) }",
        ".a { background: -webkit-image-set(url(deep.png) 1x) }",
        ".a { background: linear-gradient(red, blue), url(deep.png) }",
    ],
)
def test_a_url_at_any_nesting_depth_in_a_sheet_counts(css: str) -> None:
    graph = graph_of({"/p.html": '<link rel=stylesheet href="/s/site.css">'}, {"/s/site.css": css})
    assert pages_for(graph, "/s/deep.png") == {"/p.html"}


def test_urls_inside_an_inline_style_block_count() -> None:
    graph = graph_of({"/docs/": "<style>@media screen { .logo { background: url(img/logo.svg) } }</style>"})
    assert pages_for(graph, "/docs/img/logo.svg") == {"/docs/"}


def test_a_namespace_url_is_not_a_file_to_load() -> None:
    graph = graph_of({"/p.html": "<link rel=stylesheet href=s.css>"}, {"/s.css": "@namespace svg url(svg.css);"})
    assert graph.references("/s.css") == {}


def test_a_sheet_declared_in_another_encoding_is_read_in_it() -> None:
    graph = PageGraph()
    graph.record_html("/p.html", b"<link rel=stylesheet href=s.css>")
    graph.record_css("/s.css", '@charset "iso-8859-1"; a { background: url(café.png) }'.encode("latin-1"))
    assert pages_for(graph, "/café.png") == {"/p.html"}


def test_a_shared_sheet_concerns_only_the_pages_that_use_it() -> None:
    graph = graph_of(
        {
            "/index.html": '<link rel="stylesheet" href="/css/shared.css">',
            "/about.html": '<link rel="stylesheet" href="css/shared.css"><link rel="stylesheet" href="css/about.css">',
            "/blog/": '<link rel="stylesheet" href="/css/blog.css">',
            "/contact.html": "<p>plain</p>",
            "/docs/": '<link rel="stylesheet" href="../css/docs.css">',
        },
        {"/css/shared.css": ".a { background: url(../img/shared-bg.png) }"},
    )
    assert graph.place("/css/shared.css") == Placement(
        frozenset({"/index.html", "/about.html"}), True, "used by 2 pages"
    )
    assert pages_for(graph, "/img/shared-bg.png") == {"/index.html", "/about.html"}
    assert pages_for(graph, "/css/about.css") == {"/about.html"}
    assert pages_for(graph, "/css/docs.css") == {"/docs/"}
    assert len(graph.pages()) == 5


def test_re_recording_a_sheet_replaces_what_it_references() -> None:
    graph = graph_of({"/p.html": "<link rel=stylesheet href=s.css>"}, {"/s.css": "@import 'old.css';"})
    graph.record_css("/s.css", b"@import 'new.css';")
    assert pages_for(graph, "/old.css") == set()
    assert pages_for(graph, "/new.css") == {"/p.html"}


# --- pages, frames and re-recording -----------------------------------------------------------


def test_a_page_places_itself() -> None:
    graph = graph_of({"/about.html": "<h1>About</h1>"})
    assert graph.place("/about.html") == Placement(frozenset({"/about.html"}), True, "the page itself")


def test_a_directory_page_and_its_index_file_are_the_same_page() -> None:
    graph = graph_of({"/docs/": '<img src="shot.png">'})
    assert graph.place("/docs/index.html").pages == frozenset({"/docs/"})
    assert graph.place("/docs/").pages == frozenset({"/docs/"})
    graph.record_html("/docs/index.html", b'<img src="other.png">')
    assert graph.pages() == {"/docs/index.html"}
    assert pages_for(graph, "/docs/shot.png") == set()
    assert pages_for(graph, "/docs/other.png") == {"/docs/index.html"}


def test_both_spellings_of_a_directory_page_resolve_references_alike() -> None:
    for spelling in ("/docs/", "/docs/index.html"):
        graph = graph_of({spelling: '<link rel="stylesheet" href="docs.css">'})
        assert pages_for(graph, "/docs/docs.css") == {spelling}


def test_a_page_embedding_a_frame_depends_on_the_frame_and_what_it_loads() -> None:
    graph = graph_of(
        {
            "/host.html": '<iframe src="widgets/frame.html"></iframe>',
            "/widgets/frame.html": '<link rel="stylesheet" href="frame.css"><img src="w.png">',
            "/bystander.html": "<p>unrelated</p>",
        },
        {"/widgets/frame.css": "@import 'frame-base.css';"},
    )
    assert graph.place("/widgets/frame.html") == Placement(
        frozenset({"/widgets/frame.html", "/host.html"}), True, "the page itself and 1 page using it"
    )
    assert pages_for(graph, "/widgets/w.png") == {"/widgets/frame.html", "/host.html"}
    assert pages_for(graph, "/widgets/frame-base.css") == {"/widgets/frame.html", "/host.html"}


def test_frames_embedding_each_other_do_not_loop_forever() -> None:
    graph = graph_of(
        {"/a.html": '<iframe src="b.html"></iframe><img src="x.png">', "/b.html": '<iframe src="a.html"></iframe>'}
    )
    assert pages_for(graph, "/x.png") == {"/a.html", "/b.html"}


def test_re_recording_a_page_drops_dependencies_removed_from_its_html() -> None:
    graph = graph_of({"/p.html": '<link rel="stylesheet" href="old.css"><img src="keep.png">'})
    graph.record_html("/p.html", b'<link rel="stylesheet" href="new.css"><img src="keep.png">')
    assert graph.place("/old.css") == Placement(frozenset(), True, "referenced by nothing")
    assert pages_for(graph, "/new.css") == {"/p.html"}
    assert pages_for(graph, "/keep.png") == {"/p.html"}


def test_a_forgotten_page_is_no_longer_placed_or_listed() -> None:
    graph = graph_of({"/a.html": '<img src="shared.png">', "/b.html": '<img src="shared.png">'})
    graph.record_fetch("/data.json", "/a.html")
    graph.forget_page("/a.html")
    assert graph.pages() == {"/b.html"}
    assert pages_for(graph, "/shared.png") == {"/b.html"}
    assert graph.place("/a.html") == Placement(frozenset(), True, "referenced by nothing")
    assert graph.place("/data.json").certain is False
    assert graph.references("/a.html") == {}


def test_html_in_another_encoding_is_decoded_with_it() -> None:
    graph = PageGraph()
    graph.record_html("/p.html", '<img src="naïve.png">'.encode("latin-1"), encoding="latin-1")
    assert pages_for(graph, "/naïve.png") == {"/p.html"}


def test_an_unclosed_inline_style_still_counts() -> None:
    graph = graph_of({"/p.html": "<style>a { background: url(late.png) }"})
    assert pages_for(graph, "/late.png") == {"/p.html"}


# --- files nobody references and run-time fetches ---------------------------------------------


@pytest.mark.parametrize("path", ["/unused.css", "/img/unused.webp", "/fonts/unused.woff2", "/unused.html",
                                  "/src/unused.js", "/new-section/"])
def test_an_unreferenced_file_of_a_statically_loaded_kind_concerns_no_page(path: str) -> None:
    graph = graph_of({"/index.html": '<link rel="stylesheet" href="/style.css">'})
    assert graph.place(path) == Placement(frozenset(), True, "referenced by nothing")


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/data/items.json", "unknown: .json fetched by script?"),
        ("/pkg/app.wasm", "unknown: .wasm fetched by script?"),
        ("/notes.TXT", "unknown: .txt fetched by script?"),
        ("/LICENSE", "unknown: file without extension, fetched by script?"),
    ],
)
def test_an_unreferenced_file_of_another_kind_cannot_be_placed(path: str, reason: str) -> None:
    graph = graph_of({"/index.html": '<script src="app.js"></script>'})
    assert graph.place(path) == Placement(frozenset(), False, reason)


def test_a_recorded_fetch_makes_a_script_loaded_file_placeable() -> None:
    graph = graph_of({"/index.html": '<script src="app.js"></script>', "/about.html": "<p>about</p>"})
    graph.record_fetch("/data/items.json?page=2", "/index.html")
    assert graph.place("/data/items.json") == Placement(frozenset({"/index.html"}), True, "used by 1 page")
    assert graph.references("/") == {"/app.js": frozenset({"script"}), "/data/items.json": frozenset({"fetch"})}


def test_a_fetch_survives_the_page_being_served_again() -> None:
    graph = graph_of({"/index.html": "<p>v1</p>"})
    graph.record_fetch("/config.json", "/index.html")
    graph.record_html("/index.html", b"<p>v2</p>")
    assert pages_for(graph, "/config.json") == {"/index.html"}


def test_a_fetch_on_behalf_of_a_sheet_or_script_reaches_the_pages_using_it() -> None:
    graph = graph_of(
        {"/p.html": '<link rel=stylesheet href=s.css><script type=module src="/src/main.js"></script>'},
        {"/s.css": "a { color: red }"},
    )
    graph.record_fetch("/fonts/late.woff2", "/s.css")
    graph.record_fetch("/src/dep.js", "/src/main.js")
    graph.record_fetch("/src/strings.json", "/src/dep.js")
    assert pages_for(graph, "/fonts/late.woff2") == {"/p.html"}
    assert pages_for(graph, "/src/strings.json") == {"/p.html"}


def test_a_fetch_from_a_referrer_no_page_uses_stays_uncertain() -> None:
    graph = graph_of({"/p.html": "<p>x</p>"})
    graph.record_fetch("/orphan.json", "/src/never-loaded.js")
    assert graph.place("/orphan.json").certain is False
    graph.record_fetch("/orphan.png", "/src/never-loaded.js")
    assert graph.place("/orphan.png") == Placement(frozenset(), True, "referenced by no recorded page")


def test_fetches_per_referrer_are_bounded_and_the_oldest_go_first() -> None:
    graph = graph_of({"/poller.html": "<p>polls</p>"})
    graph.record_fetch("/api/first.json", "/poller.html")
    graph.record_fetch("/api/kept.json", "/poller.html")
    for number in range(MAX_FETCHES_PER_REFERRER - 2):
        graph.record_fetch(f"/api/item-{number}.json", "/poller.html")
    graph.record_fetch("/api/kept.json", "/poller.html")  # seen again: now the most recent
    graph.record_fetch("/api/newest.json", "/poller.html")
    assert len(graph.references("/poller.html")) == MAX_FETCHES_PER_REFERRER
    assert graph.place("/api/first.json").certain is False
    assert pages_for(graph, "/api/kept.json") == {"/poller.html"}
    assert pages_for(graph, "/api/newest.json") == {"/poller.html"}


# --- the path normaliser ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "canonical"),
    [
        ("/docs/index.html", "/docs/"),
        ("/index.html", "/"),
        ("/docs/", "/docs/"),
        ("/docs/intro.html?x=1#top", "/docs/intro.html"),
        ("docs/index.html", "/docs/"),
        ("/a/./b/../c.css", "/a/c.css"),
        ("/a/b/..", "/a/"),
        ("/my%20file.css", "/my file.css"),
        ("/a%3Fb.css", "/a?b.css"),
        ("/not-index.html", "/not-index.html"),
    ],
)
def test_paths_are_compared_in_one_canonical_spelling(path: str, canonical: str) -> None:
    assert canonical_path(path) == canonical


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="%"), max_size=40))
def test_canonicalising_twice_changes_nothing(path: str) -> None:
    assert canonical_path(canonical_path(path)) == canonical_path(path)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('<>/="\' abcimgsrclinkhrefstyleurl().:#,&;!-\n')), max_size=200))
def test_any_markup_is_recorded_without_error(markup: str) -> None:
    graph = PageGraph()
    graph.record_html("/fuzz.html", markup.encode())
    graph.record_css("/fuzz.css", markup.encode())
    assert graph.place("/fuzz.html").pages == frozenset({"/fuzz.html"})


# --- speed ------------------------------------------------------------------------------------


def test_recording_a_large_page_is_fast() -> None:
    paragraphs = "".join(f'<p class="p{n}">Paragraph {n} with <a href="/p{n}.html">a link</a> &amp; more.</p>\n'
                         for n in range(5000))
    images = "".join(f'<img src="/img/{n}.png" srcset="/img/{n}.png 1x, /img/{n}@2x.png 2x" alt="">\n'
                     for n in range(200))
    html = f'<!doctype html><html><head><link rel="stylesheet" href="/s.css"></head><body>{paragraphs}{images}</body></html>'
    graph = PageGraph()
    started = time.perf_counter()
    graph.record_html("/big.html", html.encode())
    elapsed_ms = (time.perf_counter() - started) * 1000
    print(f"\nrecorded a {len(html) // 1024} KiB page (5,000 paragraphs, 200 images) in {elapsed_ms:.0f} ms")
    assert len(graph.references("/big.html")) == 401
    assert pages_for(graph, "/img/199@2x.png") == {"/big.html"}
