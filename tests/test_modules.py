"""Specification of serving ES modules for HMR: what is rewritten, what is recorded, where errors are."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import make_mocked_request

from hotreload.modules import SiteModules
from hotreload.static import ServedPage

ORIGIN = "http://127.0.0.1:8000"
PREAMBLE = (
    'import { createHotContext as __hotreload_createHotContext } from "/__hotreload/hmr.js";'
    " import.meta.hot = __hotreload_createHotContext(import.meta.url);"
)


def module_request(path: str, referrer: str = "/", **headers: str):
    return make_mocked_request(
        "GET", path,
        headers={"Host": "127.0.0.1:8000", "Sec-Fetch-Dest": "script", "Sec-Fetch-Mode": "cors",
                 "Referer": ORIGIN + referrer, **headers},
    )


class Site:
    """A site folder and the SiteModules serving it, driven the way a browser loads a page."""

    def __init__(self, root: Path, files: dict[str, str]) -> None:
        self.root = root
        self.pruned: list[list[str]] = []
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
        self.modules = SiteModules(root, runtime_url="/__hotreload/hmr.js", on_prune=self.pruned.append)

    def open(self, page: str = "/index.html") -> None:
        body = (self.root / page.lstrip("/")).read_bytes()
        request = make_mocked_request("GET", page, headers={"Host": "127.0.0.1:8000"})
        self.modules.page_served(request, ServedPage(page, self.root / page.lstrip("/"), body, "utf-8"))

    def load(self, path: str, referrer: str = "/", **headers: str) -> str | None:
        body = self.modules.serve_script(module_request(path, referrer, **headers), self.root / path.lstrip("/"), path)
        return None if body is None else body.decode()


INDEX = '<script src="/legacy.js"></script><script type="module" src="/main.js"></script>'


def test_a_module_using_hot_gets_the_preamble_and_a_plain_one_is_sent_as_it_is(tmp_path: Path) -> None:
    site = Site(tmp_path, {"index.html": INDEX, "main.js": 'import "./a.js";\nimport.meta.hot.accept();\n',
                           "a.js": "export const a = 1;\n"})
    site.open()
    assert site.load("/main.js") == PREAMBLE + 'import "./a.js";\nimport.meta.hot.accept();\n'
    assert site.load("/a.js", referrer="/main.js") == "export const a = 1;\n"


def test_classic_scripts_workers_and_fetches_are_left_alone(tmp_path: Path) -> None:
    site = Site(tmp_path, {"index.html": INDEX, "legacy.js": "import.meta.hot;", "main.js": "import.meta.hot;"})
    site.open()
    assert site.load("/legacy.js") is None  # the page loads it as a classic script
    assert site.load("/main.js", **{"Sec-Fetch-Mode": "no-cors"}) is None
    assert site.load("/main.js", **{"Sec-Fetch-Dest": "worker"}) is None
    assert site.load("/main.js", **{"Sec-Fetch-Dest": "empty"}) is None


def test_after_a_hot_update_importers_ask_for_the_new_version(tmp_path: Path) -> None:
    site = Site(tmp_path, {"index.html": INDEX, "main.js": 'import { a } from "./a.js?x=1";\nimport "./b.js";\n',
                           "a.js": "import.meta.hot.accept();", "b.js": ""})
    site.open()
    site.load("/main.js")
    site.load("/a.js", referrer="/main.js")
    outcome = site.modules.plan_change("/a.js", "modified", 1234)
    assert outcome is not None and [(u.path, u.accepted_path) for u in outcome.updates] == [("/a.js", "/a.js")]
    assert site.load("/main.js") == 'import { a } from "/a.js?t=1234&x=1";\nimport "./b.js";\n'


def test_bare_specifiers_go_through_the_page_s_import_map(tmp_path: Path) -> None:
    index = '<script type="importmap">{"imports": {"lib": "/vendor/lib.js"}}</script>' + INDEX
    site = Site(tmp_path, {"index.html": index, "main.js": 'import "lib";\nimport "other";\nimport.meta.hot.accept("lib", f);\n',
                           "vendor/lib.js": ""})
    site.open()
    served = site.load("/main.js")
    assert served == PREAMBLE + 'import "/vendor/lib.js";\nimport "other";\nimport.meta.hot.accept("/vendor/lib.js", f);\n'
    assert site.modules.graph.imports("/main.js") == {"/vendor/lib.js"}
    # A module imported by main.js resolves through the same page's map.
    outcome = site.modules.plan_change("/vendor/lib.js", "modified", 5)
    assert outcome is not None and [(u.path, u.accepted_path) for u in outcome.updates] == [("/main.js", "/vendor/lib.js")]


def test_inline_module_imports_are_entries_of_the_page(tmp_path: Path) -> None:
    site = Site(tmp_path, {"index.html": '<script type="module">import "./app.js";</script>', "app.js": ""})
    site.open()
    outcome = site.modules.plan_change("/app.js", "modified", 1)
    assert outcome is not None and outcome.reloads == {"/": "/app.js → page / (no accept)"}


def test_dropping_an_import_prunes_the_module(tmp_path: Path) -> None:
    site = Site(tmp_path, {"index.html": INDEX, "main.js": 'import "./style.js";', "style.js": ""})
    site.open()
    site.load("/main.js")
    (tmp_path / "main.js").write_text("// no more style")
    site.load("/main.js")
    assert site.pruned == [["/style.js"]]


def test_a_version_with_a_syntax_error_does_not_replace_what_the_tab_runs(tmp_path: Path) -> None:
    site = Site(tmp_path, {"index.html": INDEX, "main.js": 'import "./style.js";\nimport.meta.hot.accept();'})
    site.open()
    site.load("/main.js")
    (tmp_path / "main.js").write_text("const = ;")
    site.load("/main.js")
    assert site.pruned == [] and site.modules.graph.imports("/main.js") == {"/style.js"}


def test_an_error_position_on_line_one_is_mapped_past_the_preamble(tmp_path: Path) -> None:
    source = 'import "./a.js"; throw new Error("x");\nimport.meta.hot.accept();\n'
    site = Site(tmp_path, {"index.html": INDEX, "main.js": source, "a.js": ""})
    site.open()
    site.modules.plan_change("/a.js", "modified", 99)  # the import becomes "/a.js?t=99": longer
    served = site.load("/main.js")
    assert served is not None
    column_served = served.index("new Error") + 1
    found = site.modules.locate("/main.js", 1, column_served)
    assert found is not None and (found.line, found.column) == (1, source.index("new Error") + 1)
    assert found.frame.startswith('> 1 | import "./a.js"; throw new Error("x");')


def test_a_failed_update_without_a_position_is_traced_to_the_broken_import(tmp_path: Path) -> None:
    site = Site(tmp_path, {"index.html": INDEX, "main.js": 'import "./view.js";\nimport.meta.hot.accept();',
                           "view.js": 'import "./format.js";\n', "format.js": "export const f = (;\n"})
    site.open()
    found = site.modules.locate("/main.js")
    assert found is not None and (found.file, found.line) == ("/format.js", 1)
    (tmp_path / "format.js").unlink()
    found = site.modules.locate("/main.js")
    assert found is not None and (found.file, found.line, found.column) == ("/view.js", 1, 9)
    assert found.message == "./format.js not found: there is no /format.js"


def test_locate_reads_only_files_the_server_would_serve(tmp_path: Path) -> None:
    (tmp_path.parent / "secret.js").write_text("const = ;")
    site = Site(tmp_path, {"index.html": INDEX, ".env.js": "const = ;"})
    assert site.modules.locate("/../secret.js") is None
    assert site.modules.locate("/.env.js") is None
    assert site.modules.locate("/.env.js", 1, 1) is None


def test_an_invalidation_is_planned_once_per_update(tmp_path: Path) -> None:
    site = Site(tmp_path, {"index.html": INDEX, "main.js": 'import "./w.js";\nimport.meta.hot.accept();',
                           "w.js": "import.meta.hot.accept();"})
    site.open()
    site.load("/main.js")
    assert site.modules.plan_invalidation("/w.js", "why", 2) is None  # never hot-updated: nothing to redo
    site.modules.plan_change("/w.js", "modified", 3)
    first = site.modules.plan_invalidation("/w.js", "why", 4)
    assert first is not None and [u.path for u in first.updates] == ["/main.js"]
    assert site.modules.plan_invalidation("/w.js", "why", 5) is None  # a second tab asking
