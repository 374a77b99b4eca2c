"""Specification of cutting a module into pieces parsed apart: a cut never changes what is found."""

from __future__ import annotations

import marshal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hotreload import jsparse, jssplit, jsworker
from hotreload.jsparse import parse


class LocalPiece:
    """What the helper process answers for a piece, computed here (and sent through marshal like its answer)."""

    def __init__(self, piece: bytes) -> None:
        self.piece = piece
        self.collected = 0
        self.seconds: float | None = None
        self.waited = 0.0

    def result(self) -> jsworker.PieceFacts:
        self.collected += 1
        return marshal.loads(marshal.dumps(jsworker.analyse_piece(self.piece)))


def split_analysis(source: bytes, cut: int, here_first: bool = True) -> tuple[jsparse.ModuleInfo, int]:
    """The analysis with the module cut at ``cut``, and into how many pieces it ended up."""
    other = LocalPiece(source[cut:] if here_first else source[:cut])
    pieces = jsparse._analyse_split(source, cut, other, here_first=here_first)
    assert other.collected == 1  # the helper is always freed
    return jsparse._module_info(pieces), len(pieces)


def assert_cut_changes_nothing(source: bytes, cut: int) -> int:
    """How many pieces the module ended up in, the same whichever side the helper took."""
    whole = jsparse._analyse_whole(source)
    head_here, pieces = split_analysis(source, cut, here_first=True)
    tail_here, same_pieces = split_analysis(source, cut, here_first=False)
    assert head_here == whole and tail_here == whole
    assert pieces == same_pieces
    return pieces


HEAD = b'import { a } from "./a.js";\nconst lazy = () => import("./lazy.js");\n'
TAIL = b'export * from "./b.js";\nimport.meta.hot.accept("./a.js", () => {});\n'


# --------------------------------------------------------------------------- cuts that are taken


@pytest.mark.parametrize(
    "tail",
    [
        TAIL,
        b'import "./b.js";\n',
        b'import{ b } from "./b.js";\n',
        b"function f() {\n  return import('./b.js');\n}\n",
        b"async function f() { await import('./b.js'); }\n",
        b"class C { m() { return import.meta.hot; } }\n",
        b'const b = import("./b.js");\n',
        b'let b = import("./b.js");\n',
        b'var b = import("./b.js");\n',
        b'{\n  import("./b.js");\n}\n',
        b'/* a comment first */ export * from "./b.js";\n',
    ],
)
def test_a_clean_cut_before_a_declaration_is_taken_and_finds_the_same(tail: bytes) -> None:
    assert assert_cut_changes_nothing(HEAD + tail, len(HEAD)) == 2


@pytest.mark.parametrize("here_first", [True, False])
def test_the_pieces_findings_are_placed_in_the_whole_module(here_first: bool) -> None:
    info, pieces = split_analysis(HEAD + TAIL, len(HEAD), here_first)
    assert pieces == 2
    source = HEAD + TAIL
    assert [(ref.specifier, ref.kind) for ref in info.imports] == [
        ("./a.js", "static"),
        ("./lazy.js", "dynamic"),
        ("./b.js", "export"),
    ]
    assert all(source[ref.start : ref.end].decode() == ref.specifier for ref in info.imports + info.accept_refs)
    assert info.accepted_deps == ("./a.js",) and info.uses_hot and not info.has_syntax_error


# --------------------------------------------------------------------------- cuts that are refused


@pytest.mark.parametrize(
    ("head", "tail"),
    [
        # Inside a template literal, a block comment, a string continued over lines.
        (b"const t = `\n", b'export * from "./in-template.js";\n`;\n'),
        (b"/*\n", b'export * from "./in-comment.js";\n*/\n'),
        (b'const s = "\\\n', b'import \\"./in-string.js\\";";\n'),
        # Inside a block, a function, a class, an object literal, an array.
        (b"function f() {\n", b'const x = import("./x.js");\n}\n'),
        (b"if (a) {\n", b'let x = import("./x.js");\n}\n'),
        (b"class C {\n", b"static x = 1;\n}\n"),
        (b"const o = {\n", b'{ a: import("./x.js") }\n};\n'),
        (b"const list = [\n", b'{ a: import("./x.js") },\n];\n'),
        # The head does not end in `;` or `}`: the next line could continue it.
        (b"let x = async\n", b"function f() { import('./x.js'); }\n"),
        (b"let y = b\n", b"const z = import('./x.js');\n"),
        # The tail begins with an expression: after `}` a `(` or `[` continues the statement.
        (b"const f = function () {}\n", b'(import("./x.js"));\n'),
        (b"const f = function () {}\n", b'[import("./x.js")];\n'),
        (b"const g = 1;\n", b'import("./x.js");\n'),
        # Broken pieces.
        (b"let a = ;\n", b'export * from "./x.js";\n'),
        (b"let a = 1;\n", b'export * from ;\n'),
    ],
)
def test_a_cut_that_could_change_the_meaning_is_refused(head: bytes, tail: bytes) -> None:
    assert assert_cut_changes_nothing(head + tail, len(head)) == 1


def test_a_broken_module_is_reported_broken_whatever_the_cut() -> None:
    source = b'import "./a.js";\nexport function f() {\n  return (;\n}\nexport * from "./b.js";\n'
    for cut in range(len(source) + 1):
        assert_cut_changes_nothing(source, cut)
    assert jsparse._analyse_whole(source).has_syntax_error


# --------------------------------------------------------------------------- any cut, any module

SNIPPETS = [
    'import {{ a{i} }} from "./m{i}.js";\n',
    'import "./side{i}.js"\n',
    "export * from './re{i}.js';\n",
    'export {{ b{i} }} from "./named{i}.js"\n',
    "export const c{i} = {i};\n",
    'export default function () {{\n  return import("./default{i}.js");\n}}\n',
    'function f{i}() {{\nconst inner = import("./lazy{i}.js");\nreturn inner;\n}}\n',
    "const t{i} = `\nexport const fake{i} = 1;\nimport \"./in-template{i}.js\";\n${{ x }}\n`;\n",
    '/*\nexport * from "./in-comment{i}.js";\nfunction g() {{\n*/\n',
    'const s{i} = "a \\\nimport \\"./in-string{i}.js\\";\\\n";\n',
    'const r{i} = /import("x")\\/export/g;\n',
    'let x{i} = a\n(import("./asi{i}.js"))\n',
    "let y{i} = async\nfunction h{i}() {{}}\n",
    'const o{i} = {{\nexport: 1,\nimport: "./key{i}.js",\n}};\n',
    '{{\nconst block{i} = import("./block{i}.js");\n}}\n',
    "class K{i} {{\n  m() {{ return import.meta.hot; }}\n}}\n",
    'import.meta.hot.accept("./dep{i}.js", () => {{}});\n',
    "if (import.meta.hot) {{\nimport.meta.hot.decline();\n}}\n",
    "import.meta.hot?.accept()\n",
    "var v{i} = [\n{{\n}},\n];\n",
    "let p{i} = b\n[0].map(f)\n",
    "let l{i} = 1\nlet m{i} = 2\n",
    "<!-- an old-style comment\n",
    "--> an old-style closing comment\n",
    'x = y // import "./line-comment.js"\n',
    'f(); // export * from "./after-line-comment{i}.js"\n',
    'f(); /* export * from "./after-block-comment{i}.js" */\n',
    "const f{i} = function () {{}}\n",
    "const g{i} = () => {{\n}}\n",
    "label{i}:\nfor (;;) {{ break label{i}; }}\n",
    "broken{i}(\n",
    "`unterminated\n",
    "}}\n",
]


@st.composite
def modules(draw: st.DrawFn) -> bytes:
    picks = draw(st.lists(st.sampled_from(SNIPPETS), min_size=1, max_size=12))
    return "".join(snippet.format(i=i) for i, snippet in enumerate(picks)).encode()


@settings(max_examples=100, deadline=None)
@given(modules(), st.data())
@example(HEAD + TAIL, None)
def test_cutting_a_module_anywhere_finds_what_one_parse_of_it_finds(source: bytes, data: st.DataObject | None) -> None:
    # Every line start (where the chooser looks), every other token boundary
    # the checks could be fooled at, and a few arbitrary bytes.
    cuts = [0] + [i + 1 for i, byte in enumerate(source) if byte in b"\n ;}/*"]
    if data is not None:
        cuts += data.draw(st.lists(st.integers(0, len(source)), max_size=3))
    for cut in cuts:
        assert_cut_changes_nothing(source, cut)


# --------------------------------------------------------------------------- where to cut


def test_the_cut_is_a_declaration_at_column_0_near_the_middle() -> None:
    source = b"let a = 1;\n" * 40 + b"  const nested = 2;\n" + b"export const b = 2;\n" + b"let c = 3;\n" * 40
    cut = jssplit.choose_split(source, min_size=0)
    assert cut is not None and source[cut - 1 : cut] == b"\n"
    assert abs(cut - len(source) // 2) <= 20


def test_lines_inside_braces_are_passed_over_for_a_line_at_brace_depth_0() -> None:
    inside = b"function f() {\n" + b"const x = 1;\n" * 20 + b"}\n"
    source = b"const a = 1;\n" * 60 + inside + b"const b = 2;\n" * 60
    cut = jssplit.choose_split(source, min_size=0)
    assert cut is not None
    assert cut == len(b"const a = 1;\n" * 60) or cut == len(b"const a = 1;\n" * 60 + inside)


def test_in_code_without_semicolons_the_cut_follows_a_closing_brace() -> None:
    head = b"const a = f()\n" * 100 + b"function g() {\n  return 1\n}\n"
    source = head + b"const b = f()\n" * 100
    assert jssplit.choose_split(source, min_size=0) == len(head)
    assert jssplit.choose_split(b"const a = f()\n" * 300, min_size=0) is None


def test_an_export_line_is_a_cut_even_when_braces_in_strings_mislead() -> None:
    head = b'const open = "{";\n' * 100
    source = head + b"export const b = 1;\n" + b"const c = 2;\n" * 100
    assert jssplit.choose_split(source, min_size=0) == len(head)


def test_no_cut_in_a_small_module_or_without_a_declaration_line() -> None:
    assert jssplit.choose_split(b"export const a = 1;\n" * 10) is None  # under MIN_SIZE
    assert jssplit.choose_split(b"f(1);\n" * 20_000) is None
    # Nothing but one wrapper: no line at brace depth 0, and no export or import to fall back on.
    assert jssplit.choose_split(b"(function () {\n" + b"const a = 1;\n" * 5000 + b"})();\n") is None


def test_a_cut_is_not_made_near_either_end() -> None:
    source = b"export const a = 1;\n" + b"f(1);\n" * 10_000 + b"export const z = 1;\n"
    assert jssplit.choose_split(source) is None


# --------------------------------------------------------------------------- the checks themselves


@pytest.mark.parametrize(
    ("piece", "expected"),
    [
        (b"a();\n", True),
        (b"function f() {}\n", True),
        (b"a();\n// a comment last\n", True),
        (b"a()\n", False),  # could continue on the next line
        (b"a();", False),  # no final newline: a `//` comment could run on
        (b"let x = async\n", False),
        (b"/* open\n", False),
        (b"const t = `open\n", False),
        (b"", False),
    ],
)
def test_ends_cleanly(piece: bytes, expected: bool) -> None:
    assert jssplit.ends_cleanly(piece, parse(piece)) is expected


@pytest.mark.parametrize(
    ("piece", "expected"),
    [
        (b'export * from "./a.js";', True),
        (b"// comment\nfunction f() {}", True),
        (b"async function f() {}", True),
        (b"{ a(); }", True),
        (b"(a)();", False),
        (b"[a].map(f);", False),
        (b'import("./a.js");', False),
        (b"import.meta.hot.accept();", False),
        (b"a = 1;", False),
        (b"export * from ;", False),
        (b"", False),
    ],
)
def test_starts_cleanly(piece: bytes, expected: bool) -> None:
    assert jssplit.starts_cleanly(parse(piece)) is expected
