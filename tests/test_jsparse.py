"""Specification of ES module analysis, specifier rewriting and import maps."""

from __future__ import annotations

import marshal
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotreload import jsparse, jsscan, jssplit, jsworker
from hotreload.jsparse import ImportMap, ImportRef, analyse, hot_preamble, parse_importmap, rewrite


def specifiers(source: bytes, kind: str | None = None) -> list[str]:
    return [ref.specifier for ref in analyse(source).imports if kind is None or ref.kind == kind]


# --------------------------------------------------------------------------- imports


def test_static_imports_of_every_form_are_found_in_source_order() -> None:
    source = b"""
import def from "./default.js";
import * as ns from './namespace.js';
import { a, b as c } from "./named.js";
import def2, { d } from "./mixed.js";
import "./side-effect.js";
import data from "./data.json" with { type: "json" };
"""
    assert specifiers(source, "static") == [
        "./default.js",
        "./namespace.js",
        "./named.js",
        "./mixed.js",
        "./side-effect.js",
        "./data.json",
    ]


def test_re_exports_are_imports_of_kind_export() -> None:
    source = b"""
export * from "./star.js";
export * as ns from "./ns.js";
export { x, y as z } from './named.js';
export const local = 1;
export default function () {}
"""
    assert [(ref.specifier, ref.kind) for ref in analyse(source).imports] == [
        ("./star.js", "export"),
        ("./ns.js", "export"),
        ("./named.js", "export"),
    ]


def test_dynamic_import_counts_only_when_its_argument_is_known_statically() -> None:
    source = b"""
const a = import("./plain.js");
const b = import(`./template.js`);
const c = import(/* chunk: lazy */ "./after-comment.js");
const d = import(`./pages/${name}.js`);
const e = import(specifierVariable);
const f = import("./with-options.js", { with: { type: "json" } });
"""
    assert specifiers(source, "dynamic") == ["./plain.js", "./template.js", "./after-comment.js", "./with-options.js"]


def test_text_that_only_mentions_import_is_not_an_import() -> None:
    source = b"""
// import "./line-comment.js";
/* import "./block-comment.js"; export * from "./x.js" */
const s1 = "import './double-quoted.js'";
const s2 = 'import("./single-quoted.js")';
const t = `import "./template.js" ${ "./substitution-string.js" }`;
const re = /import("\\.\\/regex.js")/g;
const ratio = a / b / import.meta.url.length;
const importer = 1, myimport = 2;
obj.import("./method-call.js");
import "./real.js";
"""
    assert specifiers(source) == ["./real.js"]
    assert not analyse(source).uses_hot


def test_offsets_cover_the_specifier_text_inside_the_quotes_in_bytes() -> None:
    source = 'const note = "héllo wörld ✓";\nimport x from "./ünïcode.js";\nimport("./b.js")'.encode()
    refs = analyse(source).imports
    assert [source[ref.start : ref.end].decode() for ref in refs] == ["./ünïcode.js", "./b.js"]
    assert source[refs[0].start - 1 : refs[0].start] == b'"'
    assert source[refs[0].end : refs[0].end + 1] == b'"'


def test_escape_sequences_in_specifiers_are_decoded() -> None:
    source = b'import "./a\\x2ejs"; import "./\\u0062.js"; import "./\\u{63}.js"; import \'./it\\\'s.js\';'
    assert specifiers(source) == ["./a.js", "./b.js", "./c.js", "./it's.js"]


def test_a_module_with_a_syntax_error_still_reports_what_it_can_see() -> None:
    source = b'import { a } from "./a.js";\nfunction broken( {\nimport("./later.js");\nimport.meta.hot.accept();\n'
    info = analyse(source)
    assert info.has_syntax_error
    assert "./a.js" in specifiers(source)
    assert not analyse(b'import "./fine.js";').has_syntax_error


def test_analysis_is_cached_by_content() -> None:
    source = b'import "./cached.js"; // ' + str(time.time_ns()).encode()
    assert analyse(source) is analyse(bytes(bytearray(source)))


def test_a_100_kb_module_is_analysed_whole() -> None:
    # How fast is measured by benchmarks/jsparse.py; tests assert behaviour only.
    chunk = (
        'import {{ a{0} }} from "./mod{0}.js";\n'
        "export function f{0}(x) {{ return `t ${{x}} import \"no\"` + 'import(\"no\")' + /import/.source; }}\n"
        "// import \"./comment{0}.js\"\n"
        'const lazy{0} = () => import("./lazy{0}.js");\n'
        "class K{0} {{ m() {{ return [1, 2, 3].map((v) => v * {0}).filter(Boolean); }} }}\n"
    )
    chunks = [chunk.format(i) for i in range(400)]
    while sum(map(len, chunks)) > 100_000:
        chunks.pop()
    source = "".join(chunks).encode()
    info = analyse(source)
    assert not info.has_syntax_error
    assert [ref.kind for ref in info.imports] == ["static", "dynamic"] * len(chunks)
    assert all(ref.specifier.startswith(("./mod", "./lazy")) for ref in info.imports)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_are_analysed_without_raising(source: bytes) -> None:
    info = analyse(source)
    for ref in info.imports:
        assert 0 <= ref.start <= ref.end <= len(source)


_STATEMENTS = [
    'export * from "./d.js";', 'export * as m from "./e.js";', 'export { a } from "./f.js";', 'export{b}from"./g.js";',
    'export*from"./h.js";', 'import "./h.js";', 'import { a } from "./i.js";', "import*as n from'./j.js';",
    'import("./j.js");', "export function f() {}", "export default 1;", "export const c = 1;", "export class C {}",
    "export async function g() {}", 'const s = "import x from \'y\'";', '// export * from "z"', '/* import("q") */',
    "const t = `import ${a} export`;", "const r = /import/;", "x = a.import;", "$import = 1;", "importer();",
    "const o = { import: 1, export: 2 };", "import.meta.hot.accept();", "if (x) { import(`./k.js`); }",
]


def _keyword_tokens(node: jsparse.tree_sitter.Node) -> list[jsparse.tree_sitter.Node]:
    found = [node] if node.type in ("import", "export") and not node.is_named else []
    for child in node.children:
        found += _keyword_tokens(child)
    return found


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_STATEMENTS), st.sampled_from(["", " ", "\n", "\r\n"])), max_size=20))
def test_every_keyword_token_in_the_tree_is_a_candidate(statements: list[tuple[str, str]]) -> None:
    # The scan asks the tree only at candidate positions found in the bytes.
    source = "".join(statement + separator for statement, separator in statements).encode()
    candidates = set(jsscan._candidates(source, [(0, len(source))]))
    for token in _keyword_tokens(jsparse.parse(source).root_node):
        assert token.start_byte in candidates, (source, token.start_byte)


# --------------------------------------------------------------------------- import.meta.hot


@pytest.mark.parametrize(
    "call",
    [
        "import.meta.hot.accept()",
        "import.meta.hot.accept((mod) => render(mod))",
        "import.meta.hot.accept(function (mod) {})",
        "import.meta.hot?.accept()",
        "import.meta.hot.accept?.(onUpdate)",
        "if (import.meta.hot) { import.meta.hot.accept(); }",
    ],
)
def test_self_accepting_forms(call: str) -> None:
    info = analyse(call.encode())
    assert info.uses_hot and info.accepts_self and info.accepted_deps == ()


def test_dependency_accepts_with_a_string_a_template_or_a_list() -> None:
    source = b"""
import.meta.hot.accept("./one.js", (mod) => {});
import.meta.hot?.accept(['./two.js', `./three.js`, someVariable], ([a, b]) => {});
import.meta.hot.accept("./one.js", () => {});
"""
    info = analyse(source)
    assert info.accepted_deps == ("./one.js", "./two.js", "./three.js")
    assert not info.accepts_self
    assert [ref.kind for ref in info.accept_refs] == ["accept"] * 4
    assert all(source[ref.start : ref.end].decode() == ref.specifier for ref in info.accept_refs)


def test_decline_is_reported() -> None:
    info = analyse(b"import.meta.hot.decline();")
    assert info.declines and not info.accepts_self


def test_reading_import_meta_hot_marks_the_module_as_using_it() -> None:
    info = analyse(b"if (import.meta.hot) { import.meta.hot.dispose(() => {}); }")
    assert info.uses_hot and not info.accepts_self and not info.declines


@pytest.mark.parametrize(
    "source",
    [
        b"// import.meta.hot.accept()",
        b"const s = 'import.meta.hot.accept()';",
        b"const t = `import.meta.hot.accept()`;",
        b"const r = /import.meta.hot.accept()/;",
        b"someObject.hot.accept();",
        b"import.meta.hotter.accept();",
        b"new.target.hot.accept();",
        b"const { hot } = import.meta;",
    ],
)
def test_things_that_are_not_import_meta_hot(source: bytes) -> None:
    info = analyse(source)
    assert not info.accepts_self and info.accepted_deps == ()
    assert not info.uses_hot


# --------------------------------------------------------------------------- rewriting

PREAMBLE = hot_preamble("/__hotreload/hmr.js")


def test_rewrite_replaces_each_specifier_and_keeps_everything_else() -> None:
    source = b'import a from "./a.js";\nexport * from \'./b.js\';\nconst c = import(`./c.js`);\nimport "pkg";\n'
    resolved = {"./a.js": "/src/a.js?t=5", "./b.js": "/src/b.js", "./c.js": "/src/c.js"}
    out = rewrite(source, analyse(source), resolved.get, None)
    assert out == (
        b'import a from "/src/a.js?t=5";\nexport * from \'/src/b.js\';\n'
        b'const c = import(`/src/c.js`);\nimport "pkg";\n'
    )


def test_rewrite_with_unchanged_specifiers_returns_the_same_bytes() -> None:
    source = b'import x from "./x.js"; import.meta.hot.accept("./x.js", () => {});'
    assert rewrite(source, analyse(source), lambda spec: spec, None) == source


def test_rewrite_resolves_accepted_dependencies_like_imports() -> None:
    source = b'import { n } from "lib";\nimport.meta.hot.accept("lib", (m) => {});\n'
    out = rewrite(source, analyse(source), {"lib": "/vendor/lib.js"}.get, None)
    assert analyse(out).accepted_deps == ("/vendor/lib.js",)
    assert [ref.specifier for ref in analyse(out).imports] == ["/vendor/lib.js"]


def test_preamble_goes_on_the_first_line_so_line_numbers_stay() -> None:
    source = b'import "./a.js";\nthrow new Error("line 2");\n'
    out = rewrite(source, analyse(source), lambda spec: None, PREAMBLE)
    assert out.startswith(PREAMBLE.encode())
    assert out.count(b"\n") == source.count(b"\n")
    assert out.splitlines()[1] == b'throw new Error("line 2");'
    assert not analyse(out).has_syntax_error


def test_preamble_follows_a_hashbang_line() -> None:
    source = b"#!/usr/bin/env node\nimport.meta.hot.accept();\n"
    out = rewrite(source, analyse(source), lambda spec: None, PREAMBLE)
    assert out.splitlines()[0] == b"#!/usr/bin/env node"
    assert out.splitlines()[1].startswith(PREAMBLE.encode())
    assert out.count(b"\n") == source.count(b"\n")


def test_a_multi_line_preamble_is_refused() -> None:
    with pytest.raises(ValueError):
        rewrite(b"", analyse(b""), lambda spec: None, "a;\nb;")


def test_replacements_are_escaped_for_the_literal_they_land_in() -> None:
    source = b"import a from './a.js'; const b = import(`./b.js`);"
    resolved = {"./a.js": "/it's.js", "./b.js": "/${x}`.js"}
    out = rewrite(source, analyse(source), resolved.get, None)
    assert specifiers(out) == ["/it's.js", "/${x}`.js"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["./a.js", "../b/c.js", "pkg", "pkg/sub.js"]), min_size=1, max_size=6))
def test_rewritten_modules_import_exactly_the_resolved_urls(specs: list[str]) -> None:
    source = "\n".join(f'import "{spec}"; // import "decoy"' for spec in specs).encode()
    out = rewrite(source, analyse(source), lambda spec: "/r/" + spec.replace("../", "up/"), None)
    assert specifiers(out) == ["/r/" + spec.replace("../", "up/") for spec in specs]
    assert out.count(b"\n") == source.count(b"\n")


def test_import_refs_are_plain_values() -> None:
    assert ImportRef("./a.js", 1, 7, "static") == ImportRef("./a.js", 1, 7, "static")


# --------------------------------------------------------------------------- import maps

BASE = "http://site.test/index.html"


def test_bare_specifier_maps_to_its_address_resolved_against_the_map_url() -> None:
    m = parse_importmap('{"imports": {"app": "./src/app.js", "lit": "https://cdn.test/lit.js"}}', BASE)
    assert m.resolve("app", "http://site.test/src/deep/x.js") == "http://site.test/src/app.js"
    assert m.resolve("lit", BASE) == "https://cdn.test/lit.js"


def test_trailing_slash_keys_map_prefixes_and_the_longest_wins() -> None:
    m = parse_importmap(
        '{"imports": {"lib/": "/vendor/lib/", "lib/special/": "/special/", "lib": "/vendor/lib/index.js"}}', BASE
    )
    assert m.resolve("lib", BASE) == "http://site.test/vendor/lib/index.js"
    assert m.resolve("lib/util.js", BASE) == "http://site.test/vendor/lib/util.js"
    assert m.resolve("lib/special/x.js", BASE) == "http://site.test/special/x.js"


def test_unmapped_bare_specifiers_do_not_resolve() -> None:
    m = parse_importmap('{"imports": {"lib/": "/vendor/lib/"}}', BASE)
    assert m.resolve("other", BASE) is None
    assert m.resolve("lib", BASE) is None  # "lib/" maps only what is under it


def test_relative_and_absolute_specifiers_resolve_against_the_referrer() -> None:
    m = ImportMap()
    assert m.resolve("./b.js", "http://site.test/src/a.js") == "http://site.test/src/b.js"
    assert m.resolve("../up.js", "http://site.test/src/a.js") == "http://site.test/up.js"
    assert m.resolve("/root.js", "http://site.test/src/a.js") == "http://site.test/root.js"
    assert m.resolve("https://cdn.test/x.js", "http://site.test/src/a.js") == "https://cdn.test/x.js"


def test_url_keys_remap_modules_by_their_resolved_url() -> None:
    m = parse_importmap('{"imports": {"/src/real.js": "/src/mock.js"}}', BASE)
    assert m.resolve("./real.js", "http://site.test/src/a.js") == "http://site.test/src/mock.js"


def test_scopes_apply_to_referrers_under_their_prefix_and_fall_back_to_imports() -> None:
    m = parse_importmap(
        """{
          "imports": {"dep": "/dep-v2.js", "other": "/other.js"},
          "scopes": {
            "/legacy/": {"dep": "/dep-v1.js"},
            "/legacy/special/": {"dep": "/dep-special.js"},
            "/exact.js": {"dep": "/dep-exact.js"}
          }
        }""",
        BASE,
    )
    assert m.resolve("dep", "http://site.test/app.js") == "http://site.test/dep-v2.js"
    assert m.resolve("dep", "http://site.test/legacy/a.js") == "http://site.test/dep-v1.js"
    assert m.resolve("dep", "http://site.test/legacy/special/a.js") == "http://site.test/dep-special.js"
    assert m.resolve("dep", "http://site.test/exact.js") == "http://site.test/dep-exact.js"
    assert m.resolve("other", "http://site.test/legacy/a.js") == "http://site.test/other.js"


def test_invalid_and_escaping_entries_block_resolution() -> None:
    m = parse_importmap(
        '{"imports": {"bad/": "/no-trailing-slash", "num": 42, "lib/": "/vendor/lib/"}}', BASE
    )
    assert m.resolve("bad/x.js", BASE) is None
    assert m.resolve("num", BASE) is None
    assert m.resolve("lib/../../secret.js", BASE) is None


@pytest.mark.parametrize("text", ["not json", "[]", '{"imports": []}', '{"scopes": {"/a/": 3}}', '{"scopes": 1}'])
def test_malformed_import_maps_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        parse_importmap(text, BASE)


# --------------------------------------------------------------------------- re-analysis after an edit

_BIG_MODULE = "".join(
    f'import {{ a{i} }} from "./m{i}.js";\n'
    f"export function f{i}(x) {{ return `t ${{x}} import \"no\"` + 'import(\"no\")' + /import/.source; }}\n"
    f'const lazy{i} = () => import("./lazy{i}.js");\n'
    + ("import.meta.hot.accept(\"./m0.js\", () => {});\n" if i == 40 else "")
    for i in range(120)
)
_SNIPPETS = [
    'import "./new.js";\n', "/*", "*/", "`", '"', "'", "//", "\n", "import.meta.hot.accept();\n",
    'export * from "./re.js";\n', "import.meta.hot.decline();", "{", "}", "(", ")", "import(", '"./x.js")',
]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.integers(0, 40), st.sampled_from(_SNIPPETS)), min_size=1, max_size=6))
def test_re_analysing_an_edited_module_finds_what_a_fresh_analysis_finds(edits) -> None:
    source = _BIG_MODULE.encode()
    name = f"/edited-{time.time_ns()}.js"
    analyse(source, name=name)
    for where, removed, inserted in edits:
        at = int(where * len(source))
        source = source[:at] + inserted.encode() + source[at + removed :]
        assert analyse(source, name=name) == jsparse._analyse_uncached(source)


# --------------------------------------------------------------------------- large modules, parsed in two pieces


class _HelperHere:
    """Stands in for the helper process: analyses its piece here, answers through marshal as it does."""

    def __init__(self, piece: bytes, key: int = 0) -> None:
        self.piece, self.key = piece, key
        self.seconds: float | None = None
        self.waited = 0.0

    def result(self) -> jsworker.PieceFacts:
        return marshal.loads(marshal.dumps(jsworker.analyse_piece(self.piece, self.key)))


@pytest.fixture
def helper_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsworker, "submit", _HelperHere)
    # Measured speeds could hand either piece to the helper; here it takes the tail.
    monkeypatch.setattr(jsworker, "balance", jsworker.Balance())


def _large_module(chunks: int) -> bytes:
    # Content never analysed before: analyse() would answer from its cache.
    return f"// {time.time_ns()}\n".encode() + "".join(
        f'import {{ a{i} }} from "./m{i}.js";\n'
        f"export function f{i}(x) {{ return `t ${{x}} import \"no\"` + 'import(\"no\")' + /import/.source; }}\n"
        f"// import \"./comment{i}.js\"\n"
        f'const lazy{i} = () => import("./lazy{i}.js");\n'
        + ("import.meta.hot.accept(\"./m0.js\", () => {});\n" if i == chunks // 3 else "")
        for i in range(chunks)
    ).encode()


def test_a_large_module_is_parsed_in_two_pieces_and_found_the_same(helper_here: None) -> None:
    source = _large_module(400)
    name = f"/two-pieces-{time.time_ns()}.js"
    info = analyse(source, name=name)
    assert len(jsparse._versions[name].pieces) == 2
    assert info == jsparse._analyse_whole(source)
    assert len(info.imports) == 800 and info.accepted_deps == ("./m0.js",)


def test_a_large_module_is_parsed_whole_when_no_helper_is_free(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsworker, "submit", lambda piece, key=0: None)
    source = _large_module(400)
    name = f"/no-helper-{time.time_ns()}.js"
    assert analyse(source, name=name) == jsparse._analyse_whole(source)
    assert len(jsparse._versions[name].pieces) == 1


_NEAR_THE_CUT_SNIPPETS = _SNIPPETS + [
    "export const x = 1;\n", "let y = 2\n", "/* edit */", "async\n", "`\n", "/*\n", "import.meta.hot.decline();\n",
]


def _line_start_near(source: bytes, cut: int, lines: int) -> int:
    """The start of the line ``lines`` lines after (or before) the one holding ``cut``."""
    at = source.rfind(b"\n", 0, cut) + 1
    for _ in range(abs(lines)):
        at = source.find(b"\n", at) + 1 if lines > 0 else source.rfind(b"\n", 0, max(at - 1, 0)) + 1
        if at <= 0:
            return len(source) if lines > 0 else 0
    return at


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-4, 4), st.sampled_from([0, 0, 0, 1, 7]), st.sampled_from([0, 0, 1, 3, 40]),
            st.sampled_from(_NEAR_THE_CUT_SNIPPETS),
        ),
        min_size=1,
        max_size=6,
    ),
    st.booleans(),
    st.booleans(),
)
def test_editing_a_module_parsed_in_two_pieces_finds_what_a_fresh_analysis_finds(
    edits: list[tuple[int, int, int, str]], helper_took_head: bool, helped_piece_first: bool
) -> None:
    # Edits land on the lines around the cut, mostly at their starts, where a
    # piece's ends are checked again and where text goes to one piece or the other.
    source = _large_module(200)
    name = f"/edited-pieces-{time.time_ns()}.js"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsworker, "submit", _HelperHere)
        patch.setattr(jsworker, "balance", jsworker.Balance())
        if helper_took_head:
            cut = jssplit.choose_split(source)
            assert cut is not None
            pieces = jsparse._analyse_split(source, cut, _HelperHere(source[:cut]), here_first=False)
            jsparse._versions[name] = jsparse._Version(source, pieces)
        else:
            analyse(source, name=name)
        pieces = jsparse._versions[name].pieces
        assert len(pieces) == 2 and pieces[0 if helper_took_head else 1].tree is None
        if helped_piece_first:  # the helper's piece is parsed here on the first edit that touches it
            at = 0 if helper_took_head else len(source)
            source = source[:at] + b"/* first */\n" + source[at:]
            assert analyse(source, name=name) == jsparse._analyse_whole(source)
        for lines, column, removed, inserted in edits:
            cut = jsparse._versions[name].pieces[-1].start
            at = min(_line_start_near(source, cut, lines) + column, len(source))
            source = source[:at] + inserted.encode() + source[at + removed :]
            assert analyse(source, name=name) == jsparse._analyse_whole(source)


def test_an_edit_in_the_head_moves_the_tails_findings(helper_here: None) -> None:
    source = _large_module(200)
    name = f"/head-edit-{time.time_ns()}.js"
    analyse(source, name=name)
    cut = jsparse._versions[name].pieces[1].start
    line = _line_start_near(source, cut, -3)
    source = source[:line] + b'import "./new.js";\n' + source[line:]
    info = analyse(source, name=name)
    assert len(jsparse._versions[name].pieces) == 2  # still cut, and the tail was not parsed again
    assert jsparse._versions[name].pieces[1].tree is None
    assert info == jsparse._analyse_whole(source)
    assert "./new.js" in [ref.specifier for ref in info.imports]


def test_text_inserted_at_the_cut_goes_to_the_tail(helper_here: None) -> None:
    source = _large_module(200)
    name = f"/at-cut-{time.time_ns()}.js"
    analyse(source, name=name)
    cut = jsparse._versions[name].pieces[1].start
    source = source[:cut] + b"/* a note */ " + source[cut:]
    assert analyse(source, name=name) == jsparse._analyse_whole(source)
    pieces = jsparse._versions[name].pieces
    assert len(pieces) == 2 and pieces[1].start == cut


def test_an_edit_that_breaks_the_cut_parses_the_module_again(helper_here: None) -> None:
    source = _large_module(200)
    name = f"/broken-cut-{time.time_ns()}.js"
    analyse(source, name=name)
    cut = jsparse._versions[name].pieces[1].start
    source = source[:cut] + b"/*\n" + source[cut:] + b"*/\n"  # the tail is now one comment
    info = analyse(source, name=name)
    assert info == jsparse._analyse_whole(source)
    assert all(ref.start < cut for ref in info.imports)


def test_a_tail_that_no_longer_starts_with_a_declaration_is_not_kept_as_a_piece(helper_here: None) -> None:
    source = _large_module(200)
    name = f"/tail-start-{time.time_ns()}.js"
    analyse(source, name=name)
    cut = jsparse._versions[name].pieces[1].start
    source = source[:cut] + b"(f)();\n" + source[cut:]  # after a `}` this could be a call
    assert analyse(source, name=name) == jsparse._analyse_whole(source)
    assert all(piece.start != cut for piece in jsparse._versions[name].pieces)


def test_an_edit_to_the_helpers_piece_goes_back_to_it_under_the_same_key(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[int, int]] = []

    def submit(piece: bytes, key: int = 0) -> _HelperHere:
        sent.append((len(piece), key))
        return _HelperHere(piece, key)

    monkeypatch.setattr(jsworker, "submit", submit)
    monkeypatch.setattr(jsworker, "balance", jsworker.Balance())
    source = _large_module(200)
    name = f"/same-key-{time.time_ns()}.js"
    analyse(source, name=name)
    source = source[:-1] + b" // edited\n"  # in the tail, the helper's piece
    assert analyse(source, name=name) == jsparse._analyse_whole(source)
    (_, first_key), (_, second_key) = sent
    assert first_key != 0 and second_key == first_key
    assert analyse(source + b"// unnamed\n") is not None
    assert sent[-1][1] == 0  # nothing to keep for a module analysed without a name
