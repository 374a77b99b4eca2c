"""Specification of the module graph: HMR boundaries, full-reload dead ends and pruning."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hotreload.jsparse import analyse
from hotreload.modgraph import ModuleGraph, Propagation


def record(graph: ModuleGraph, url: str, source: str) -> None:
    """Record a module as the server would when serving it: analyse, resolve relative imports."""
    info = analyse(source.encode())
    directory = url.rsplit("/", 1)[0] + "/"
    resolved = []
    for ref in info.imports:
        spec = ref.specifier
        if spec.startswith("./"):
            spec = directory + spec[2:]
        resolved.append(spec)
    graph.update_module(url, info, resolved)


def site(**modules: str) -> ModuleGraph:
    """A graph with one page, /index.html, whose entry module is /main.js."""
    graph = ModuleGraph()
    graph.set_page_modules("/index.html", ["/main.js"])
    for name, source in modules.items():
        record(graph, f"/{name}.js", source)
    return graph


def assert_hot(result: Propagation, *boundaries: tuple[str, str]) -> None:
    assert result.boundaries == sorted(boundaries)
    assert not result.needs_reload and result.reason is None


# --------------------------------------------------------------------------- boundaries


def test_a_three_level_chain_stops_at_the_importer_that_accepts_the_dependency() -> None:
    graph = site(
        main='import "./b.js"; import.meta.hot.accept("./b.js", () => {});',
        b='import "./c.js";',
        c="export const value = 1;",
    )
    result = graph.propagate("/c.js")
    assert_hot(result, ("/main.js", "/b.js"))
    # b re-runs with the new c: both must be fetched under fresh URLs.
    assert result.stale == {"/c.js", "/b.js"}


def test_a_self_accepting_module_is_its_own_boundary() -> None:
    graph = site(main='import "./counter.js";', counter="import.meta.hot.accept();")
    result = graph.propagate("/counter.js")
    assert_hot(result, ("/counter.js", "/counter.js"))
    assert result.stale == {"/counter.js"}


def test_a_self_accepting_importer_takes_updates_of_its_imports() -> None:
    graph = site(main='import "./view.js";', view='import "./format.js"; import.meta.hot.accept();', format="")
    assert_hot(graph.propagate("/format.js"), ("/view.js", "/view.js"))


def test_accepting_a_list_of_dependencies() -> None:
    graph = site(
        main='import "./a.js"; import "./b.js"; import.meta.hot.accept(["./a.js", "./b.js"], () => {});',
        a="",
        b="",
    )
    assert_hot(graph.propagate("/b.js"), ("/main.js", "/b.js"))


def test_every_path_to_a_page_must_end_at_a_boundary() -> None:
    graph = site(
        main='import "./left.js"; import "./right.js";',
        left='import "./shared.js"; import.meta.hot.accept();',
        right='import "./shared.js"; import.meta.hot.accept();',
        shared="",
    )
    assert_hot(graph.propagate("/shared.js"), ("/left.js", "/left.js"), ("/right.js", "/right.js"))


# --------------------------------------------------------------------------- dead ends


def test_a_chain_that_reaches_a_page_without_accept_reloads_it_and_says_why() -> None:
    graph = site(main='import "./a.js";', a='import "./b.js";', b="")
    result = graph.propagate("/b.js")
    assert result.boundaries == []
    assert result.full_reload_pages == {"/index.html"}
    assert result.reason == "/b.js → /a.js → /main.js → page /index.html (no accept)"
    assert not result.reload_all_pages


def test_changing_an_entry_module_that_does_not_accept_reloads_its_page() -> None:
    graph = site(main="console.log(1);")
    result = graph.propagate("/main.js")
    assert result.full_reload_pages == {"/index.html"}
    assert result.reason == "/main.js → page /index.html (no accept)"


def test_only_the_pages_reached_without_a_boundary_reload() -> None:
    graph = ModuleGraph()
    graph.set_page_modules("/hot.html", ["/hot.js"])
    graph.set_page_modules("/cold.html", ["/cold.js"])
    record(graph, "/hot.js", 'import "./shared.js"; import.meta.hot.accept("./shared.js", () => {});')
    record(graph, "/cold.js", 'import "./shared.js";')
    record(graph, "/shared.js", "")
    result = graph.propagate("/shared.js")
    assert result.boundaries == [("/hot.js", "/shared.js")]
    assert result.full_reload_pages == {"/cold.html"}
    assert result.reason == "/shared.js → /cold.js → page /cold.html (no accept)"


def test_a_module_no_known_page_loads_reloads_every_page() -> None:
    graph = site(main="", stray='import "./leaf.js";', leaf="")
    graph.set_page_modules("/about.html", ["/about.js"])
    result = graph.propagate("/leaf.js")
    assert result.reload_all_pages
    assert result.full_reload_pages == {"/index.html", "/about.html"}
    assert result.reason == "/leaf.js → /stray.js (not loaded by any known page)"


def test_a_module_that_was_never_served_changes_nothing() -> None:
    result = site(main="").propagate("/unknown.js")
    assert result == Propagation()


def test_a_classic_script_reloads_the_pages_that_include_it() -> None:
    graph = ModuleGraph()
    graph.set_page_modules("/index.html", ["/main.js"], classic_scripts=["/legacy.js"])
    graph.set_page_modules("/other.html", [], classic_scripts=["/legacy.js", "/other.js"])
    result = graph.propagate("/legacy.js")
    assert result.full_reload_pages == {"/index.html", "/other.html"}
    assert result.reason is not None and "classic script" in result.reason


def test_decline_reloads_the_pages_holding_the_module_even_if_an_importer_accepts_it() -> None:
    graph = site(
        main='import "./a.js"; import.meta.hot.accept("./a.js", () => {});',
        a="import.meta.hot.decline();",
    )
    result = graph.propagate("/a.js")
    assert result.boundaries == []
    assert result.full_reload_pages == {"/index.html"}
    assert result.reason == "/a.js (declined)"


def test_an_importer_that_declines_stops_the_update_there() -> None:
    graph = site(main='import "./a.js"; import.meta.hot.accept();', a='import "./b.js"; import.meta.hot.decline();', b="")
    result = graph.propagate("/b.js")
    assert result.boundaries == []
    assert result.full_reload_pages == {"/index.html"}
    assert result.reason == "/b.js → /a.js (declined)"


# --------------------------------------------------------------------------- cycles


def test_an_import_cycle_without_accept_terminates_in_a_reload() -> None:
    graph = site(main='import "./a.js";', a='import "./b.js";', b='import "./a.js";')
    result = graph.propagate("/b.js")
    assert result.full_reload_pages == {"/index.html"}
    assert result.reason == "/b.js → /a.js → /main.js → page /index.html (no accept)"


def test_an_import_cycle_with_a_boundary_is_hot() -> None:
    graph = site(
        main='import "./a.js"; import.meta.hot.accept("./a.js", () => {});',
        a='import "./b.js";',
        b='import "./a.js";',
    )
    assert_hot(graph.propagate("/b.js"), ("/main.js", "/a.js"))


def test_a_module_importing_itself_terminates() -> None:
    graph = site(main='import "./self.js";', self='import "./self.js";')
    assert graph.propagate("/self.js").full_reload_pages == {"/index.html"}


def test_very_deep_chains_do_not_exhaust_the_stack() -> None:
    graph = ModuleGraph()
    depth = 5000
    graph.set_page_modules("/index.html", ["/m0.js"])
    for level in range(depth):
        graph.update_module(f"/m{level}.js", analyse(b""), [f"/m{level + 1}.js"])
    result = graph.propagate(f"/m{depth}.js")
    assert result.full_reload_pages == {"/index.html"}
    assert len(result.stale) == depth + 1
    graph.set_page_modules("/index.html", [])
    assert len(graph.propagate("/m0.js").pruned) == 0  # dropped entries are forgotten quietly


# --------------------------------------------------------------------------- pruning


def test_a_module_whose_last_importer_dropped_it_is_pruned() -> None:
    graph = site(main='import "./a.js"; import "./b.js";', a="", b="")
    record(graph, "/main.js", 'import "./a.js";')
    assert graph.importers("/b.js") == set()
    assert graph.propagate("/main.js").pruned == ["/b.js"]
    assert graph.take_pruned() == []  # reported once


def test_pruning_follows_the_dropped_module_s_own_imports_but_spares_shared_ones() -> None:
    graph = site(
        main='import "./keep.js"; import "./old.js";',
        keep='import "./shared.js";',
        old='import "./shared.js"; import "./only-old.js"; import "./cycle.js";',
        shared="",
        cycle='import "./old.js";',
    )
    graph.update_module("/only-old.js", analyse(b""), [])
    record(graph, "/main.js", 'import "./keep.js";')
    assert sorted(graph.take_pruned()) == ["/cycle.js", "/old.js", "/only-old.js"]
    assert graph.importers("/shared.js") == {"/keep.js"}


def test_a_module_still_imported_elsewhere_is_not_pruned() -> None:
    graph = site(main='import "./a.js"; import "./b.js";', a='import "./b.js";', b="")
    record(graph, "/main.js", 'import "./a.js";')
    assert graph.take_pruned() == []


def test_a_pruned_module_that_changes_needs_nothing() -> None:
    graph = site(main='import "./a.js";', a="")
    record(graph, "/main.js", "")
    assert graph.take_pruned() == ["/a.js"]
    assert graph.propagate("/a.js") == Propagation()


def test_importing_a_pruned_module_again_brings_it_back() -> None:
    graph = site(main='import "./a.js";', a="")
    record(graph, "/main.js", "")
    record(graph, "/main.js", 'import "./a.js"; import.meta.hot.accept("./a.js", () => {});')
    assert_hot(graph.propagate("/a.js"), ("/main.js", "/a.js"))
    assert graph.take_pruned() == []


def test_entry_modules_are_not_pruned_for_lack_of_importers() -> None:
    graph = site(main='import "./a.js";', a="")
    graph.set_page_modules("/index.html", ["/main.js", "/a.js"])
    record(graph, "/main.js", "")
    assert graph.take_pruned() == []


# --------------------------------------------------------------------------- recording


def test_imports_and_importers_are_views_of_the_same_edges() -> None:
    graph = site(main='import "./a.js"; export * from "./b.js"; import("./c.js");', a="", b="", c="")
    assert graph.imports("/main.js") == {"/a.js", "/b.js", "/c.js"}
    assert graph.importers("/b.js") == {"/main.js"}
    assert graph.imports("/nowhere.js") == set() and graph.importers("/nowhere.js") == set()


def test_urls_are_identified_by_path_without_query_or_fragment() -> None:
    graph = ModuleGraph()
    graph.set_page_modules("/index.html", ["/main.js?v=1"])
    graph.update_module("/main.js?t=2", analyse(b'import "./a.js"'), ["/a.js?t=3#x"])
    assert graph.importers("/a.js") == {"/main.js"}
    assert graph.propagate("/a.js?t=4").full_reload_pages == {"/index.html"}


def test_bare_accepted_dependencies_need_their_resolved_urls() -> None:
    graph = ModuleGraph()
    graph.set_page_modules("/index.html", ["/main.js"])
    info = analyse(b'import "lib"; import.meta.hot.accept("lib", () => {});')
    graph.update_module("/main.js", info, ["/vendor/lib.js"])
    assert graph.propagate("/vendor/lib.js").full_reload_pages == {"/index.html"}
    graph.update_module("/main.js", info, ["/vendor/lib.js"], accepted_urls=["/vendor/lib.js"])
    assert_hot(graph.propagate("/vendor/lib.js"), ("/main.js", "/vendor/lib.js"))


def test_accepted_relative_dependencies_resolve_against_the_module() -> None:
    graph = ModuleGraph()
    graph.set_page_modules("/index.html", ["/src/app/main.js"])
    info = analyse(b'import "../lib/x.js"; import.meta.hot.accept("../lib/x.js", () => {});')
    graph.update_module("/src/app/main.js", info, ["/src/lib/x.js"])
    assert_hot(graph.propagate("/src/lib/x.js"), ("/src/app/main.js", "/src/lib/x.js"))


def test_update_timestamps_are_remembered_per_module() -> None:
    graph = ModuleGraph()
    graph.mark_updated({"/a.js", "/b.js?t=1"}, 100)
    graph.mark_updated(["/a.js"], 200)
    assert (graph.last_updated("/a.js"), graph.last_updated("/b.js"), graph.last_updated("/c.js")) == (200, 100, None)


# --------------------------------------------------------------------------- property


@st.composite
def random_sites(draw: st.DrawFn) -> tuple[ModuleGraph, dict[str, set[str]], dict[str, set[str]], set[str], dict[str, str]]:
    names = [f"/m{i}.js" for i in range(draw(st.integers(2, 7)))]
    imports = {name: set(draw(st.lists(st.sampled_from(names), max_size=3))) for name in names}
    accepts = {name: set(draw(st.lists(st.sampled_from(sorted(imports[name]) or [name]), max_size=2))) & imports[name] for name in names}
    self_accepting = set(draw(st.lists(st.sampled_from(names), max_size=3)))
    entries = {name: f"/page{i}.html" for i, name in enumerate(draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True)))}
    graph = ModuleGraph()
    for name in names:
        source = "import.meta.hot.accept();" if name in self_accepting else ""
        graph.update_module(name, analyse(source.encode()), sorted(imports[name]), accepted_urls=sorted(accepts[name]))
    for entry, page in entries.items():
        graph.set_page_modules(page, [entry])
    return graph, imports, accepts, self_accepting, entries


@settings(max_examples=150, deadline=None)
@given(random_sites(), st.integers(0, 6))
def test_a_page_reloads_exactly_when_some_import_path_to_it_has_no_boundary(
    case: tuple[ModuleGraph, dict[str, set[str]], dict[str, set[str]], set[str], dict[str, str]], pick: int
) -> None:
    graph, imports, accepts, self_accepting, entries = case
    names = sorted(imports)
    changed = names[pick % len(names)]
    # Reference: every module reachable upwards from the change without crossing a boundary.
    reached, frontier = {changed}, [changed]
    while frontier:
        current = frontier.pop()
        if current in self_accepting:
            continue
        for importer in names:
            if current in imports[importer] and current not in accepts[importer] and importer not in reached:
                reached.add(importer)
                frontier.append(importer)
    expected_pages = {page for entry, page in entries.items() if entry in reached - self_accepting}
    orphaned = any(
        module not in self_accepting and module not in entries and not any(module in imports[other] for other in names)
        for module in reached
    )
    result = graph.propagate(changed)
    assert result.reload_all_pages == orphaned
    if not orphaned:
        assert result.full_reload_pages == expected_pages
    assert result.needs_reload == (result.reason is not None)
    for boundary, accepted in result.boundaries:
        assert (boundary == accepted and boundary in self_accepting) or accepted in accepts[boundary]


# --------------------------------------------------------------------------- cycles, reasons, invalidation


def test_a_boundary_reached_through_an_import_cycle_is_marked_circular() -> None:
    graph = site(main='import "./a.js";', a='import "./b.js"; import.meta.hot.accept();', b='import "./a.js";')
    result = graph.propagate("/b.js")
    assert_hot(result, ("/a.js", "/a.js"))
    assert result.circular == {("/a.js", "/a.js")}


def test_a_boundary_outside_any_cycle_is_not_circular() -> None:
    graph = site(main='import "./a.js";', a='import "./b.js"; import.meta.hot.accept();', b='import "./c.js";', c="")
    result = graph.propagate("/c.js")
    assert_hot(result, ("/a.js", "/a.js"))
    assert result.circular == set()


def test_each_reloading_page_gets_the_chain_that_reached_it() -> None:
    graph = ModuleGraph()
    graph.set_page_modules("/one.html", ["/one.js"])
    graph.set_page_modules("/two.html", ["/two.js"])
    record(graph, "/one.js", 'import "./shared.js";')
    record(graph, "/two.js", 'import "./shared.js";')
    record(graph, "/shared.js", "")
    result = graph.propagate("/shared.js")
    assert result.page_reasons == {
        "/one.html": "/shared.js → /one.js → page /one.html (no accept)",
        "/two.html": "/shared.js → /two.js → page /two.html (no accept)",
    }


def test_invalidation_continues_from_the_importers_and_leaves_the_module_itself_fresh() -> None:
    graph = site(
        main='import "./app.js";',
        app='import "./widget.js"; import.meta.hot.accept();',
        widget="import.meta.hot.accept();",
    )
    result = graph.propagate_invalidation("/widget.js")
    assert_hot(result, ("/app.js", "/app.js"))
    assert result.stale == {"/app.js"}


def test_invalidating_an_entry_module_reloads_its_page() -> None:
    graph = site(main="import.meta.hot.accept();")
    result = graph.propagate_invalidation("/main.js")
    assert result.full_reload_pages == {"/index.html"}
    assert result.reason == "/main.js invalidated → page /index.html"


def test_pages_loading_a_module_through_any_chain_or_as_a_classic_script() -> None:
    graph = site(main='import "./a.js";', a='import "./b.js";', b="")
    graph.set_page_modules("/legacy.html", [], ["/b.js"])
    assert graph.pages_loading("/b.js") == {"/index.html", "/legacy.html"}
    assert graph.knows("/b.js") and graph.is_classic("/b.js") and not graph.is_classic("/a.js")
    assert not graph.knows("/nowhere.js") and graph.pages_loading("/nowhere.js") == set()
