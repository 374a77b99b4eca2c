"""Specification of turning a module change into messages and a terminal line."""

from __future__ import annotations

from hotreload.jsparse import analyse
from hotreload.modgraph import ModuleGraph
from hotreload.moduleplan import outgoing_for, plan_invalidation, plan_module_change
from hotreload.plan import SiteView, plan_updates


def graph_of(**modules: str) -> ModuleGraph:
    """/index.html loads /main.js; each module imports what its source names (./x.js → /x.js)."""
    graph = ModuleGraph()
    graph.set_page_modules("/index.html", ["/main.js"])
    for name, source in modules.items():
        info = analyse(source.encode())
        graph.update_module(f"/{name}.js", info, ["/" + ref.specifier[2:] for ref in info.imports])
    return graph


def test_a_hot_change_names_each_boundary_and_what_it_accepts() -> None:
    graph = graph_of(main='import "./a.js"; import.meta.hot.accept("./a.js", f);', a='import "./b.js";', b="")
    outcome = plan_module_change(graph, "/b.js", "modified", 42)
    assert outcome is not None
    assert [(u.kind, u.path, u.accepted_path, u.timestamp) for u in outcome.updates] == [("js", "/main.js", "/a.js", 42)]
    assert outcome.reloads == {} and (outcome.log.action, outcome.log.why) == ("hot", "boundary /main.js")
    # The modules re-run under the boundary are fetched fresh.
    assert graph.last_updated("/a.js") == graph.last_updated("/b.js") == 42


def test_a_dead_end_reloads_the_page_with_the_chain() -> None:
    outcome = plan_module_change(graph_of(main='import "./a.js";', a=""), "/a.js", "modified", 1)
    assert outcome is not None and outcome.updates == []
    assert outcome.reloads == {"/index.html": "/a.js → /main.js → page /index.html (no accept)"}
    assert outcome.log.action == "reload"


def test_a_boundary_inside_an_import_cycle_is_flagged() -> None:
    graph = graph_of(main='import "./a.js";', a='import "./b.js"; import.meta.hot.accept();', b='import "./a.js";')
    outcome = plan_module_change(graph, "/b.js", "modified", 1)
    assert outcome is not None and [u.within_cycle for u in outcome.updates] == [True]


def test_a_deleted_module_reloads_the_pages_that_run_it() -> None:
    graph = graph_of(main='import "./a.js"; import.meta.hot.accept();', a="import.meta.hot.accept();")
    outcome = plan_module_change(graph, "/a.js", "deleted", 1)
    assert outcome is not None and outcome.updates == []
    assert outcome.reloads == {"/index.html": "/a.js was deleted (imported by /main.js)"}


def test_files_the_graph_never_saw_are_left_to_the_other_rules() -> None:
    assert plan_module_change(graph_of(main=""), "/data.js", "modified", 1) is None


def test_a_module_nothing_imports_any_more_changes_nothing() -> None:
    graph = graph_of(main='import "./old.js";', old="")
    graph.update_module("/main.js", analyse(b""), [])
    outcome = plan_module_change(graph, "/old.js", "modified", 1)
    assert outcome is not None and outcome.updates == [] and outcome.reloads == {}
    assert outcome.log.action == "ignored"


def test_an_invalidation_reason_says_who_gave_up_and_why() -> None:
    graph = graph_of(main='import "./w.js";', w="import.meta.hot.accept();")
    outcome = plan_invalidation(graph, "/w.js", "new exports", 3)
    assert outcome.reloads == {
        "/index.html": "/w.js invalidated (new exports): /w.js → /main.js → page /index.html (no accept)"
    }
    messages = outgoing_for(outcome, 7, frozenset({"/index.html", "/other.html"}))
    assert [(o.message.type, o.pages) for o in messages] == [("reload", frozenset({"/index.html"}))]


def test_planned_updates_join_the_batch_and_reloads_go_to_their_pages() -> None:
    graph = graph_of(main='import "./a.js"; import "./b.js"; import.meta.hot.accept("./a.js", f);', a="", b="")
    site = SiteView(
        pages_using=lambda _path: None, is_listing=lambda _folder: False,
        modules=lambda path, change, ts: plan_module_change(graph, path, change, ts),
    )
    plan = plan_updates({"/a.js": "modified"}, seq=4, timestamp=10, site=site, tab_pages=frozenset({"/index.html"}))
    [message] = [o.message for o in plan.outgoing]
    assert message.type == "update" and [(u.kind, u.path) for u in message.updates] == [("js", "/main.js")]
    plan = plan_updates(
        {"/b.js": "modified"}, seq=5, timestamp=11, site=site, tab_pages=frozenset({"/index.html", "/other.html"})
    )
    assert [(o.message.type, o.pages) for o in plan.outgoing] == [("reload", frozenset({"/index.html"}))]
    assert plan.log[0].why == "/b.js → /main.js → page /index.html (no accept)"


def test_hot_updates_go_only_to_the_pages_that_run_the_boundary() -> None:
    graph = graph_of(main='import "./w.js";', w="import.meta.hot.accept();")
    graph.set_page_modules("/other.html", ["/other.js"])
    outcome = plan_module_change(graph, "/w.js", "modified", 1)
    assert outcome is not None and outcome.update_pages == frozenset({"/index.html"})
    site = SiteView(
        pages_using=lambda _path: None, is_listing=lambda _folder: False,
        modules=lambda path, change, ts: plan_module_change(graph, path, change, ts),
    )
    plan = plan_updates({"/w.js": "modified"}, seq=2, timestamp=3, site=site, tab_pages=frozenset({"/index.html", "/other.html"}))
    assert [(o.message.type, o.pages) for o in plan.outgoing] == [("update", frozenset({"/index.html"}))]
