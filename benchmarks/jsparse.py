"""How long analysing a 100 KB ES module takes (imports, import.meta.hot), cold and after an edit.

Three modules of 100 KB: an import-dense stress case (an import, a dynamic
import and decoys in strings, comments, templates and regexes every five
lines, 723 imports in all), the browser client's own code (few imports), and
that code under 100 imports, as a large app module might start. For each:

- cold: content never seen before. A large module is cut in two where that
  is safe (hotreload/jssplit.py), and a helper process parses one piece while
  this process parses the other; the helper is started and waited for first,
  as it is in a server that has been running for a moment;
- the tree-sitter parse of the whole module alone, for reference, and the
  whole analysis in this process only (what cold costs without the helper);
- after a save: the same module with a few characters changed, analysed
  under its URL path so the previous parse trees are reused (incremental parse);
  the first save after a cold analysis that touches the helper's piece parses
  that piece here, so it is shown apart;
- how the cold analysis shared the module with the helper, and how long each
  side took. The share follows how fast the helper was on recent modules
  (jsworker.Balance).

This machine's speed varies from minute to minute by half or more, and every
figure with it. Cold analysis and one tree-sitter parse of the whole module are
timed in turns, so their ratio ("of a parse") holds across those swings: it
says what the analysis costs next to the parser's own floor.

Usage: python benchmarks/jsparse.py [--runs 15]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hotreload import jsparse, jsworker  # noqa: E402
from hotreload.jsparse import analyse, parse  # noqa: E402

SIZE = 100_000
DENSE_CHUNK = (
    'import {{ a{0} }} from "./mod{0}.js";\n'
    "export function f{0}(x) {{ return `t ${{x}} import \"no\"` + 'import(\"no\")' + /import/.source; }}\n"
    '// import "./comment{0}.js"\n'
    'const lazy{0} = () => import("./lazy{0}.js");\n'
    "class K{0} {{ m() {{ return [1, 2, 3].map((v) => v * {0}).filter(Boolean); }} }}\n"
)


def dense_module() -> bytes:
    text = "".join(DENSE_CHUNK.format(i) for i in range(500)).encode()
    return text[: text.rfind(b"\n", 0, SIZE) + 1]


def client_module() -> bytes:
    # Imports dropped and exports unexported, each file in its own block (their
    # names would clash), ending after a whole statement: one big valid module.
    files = []
    for name in ("morph.js", "swap.js", "hmr.js"):
        lines = (REPO / "client_js" / name).read_bytes().splitlines()
        files.append(b"\n".join(line.removeprefix(b"export ") for line in lines if not line.startswith(b"import ")))
    text = b'import { a } from "./a.js";\nimport.meta.hot?.accept();\n'
    for code in itertools.cycle(files):
        room = SIZE - len(text) - len(b"{\n\n}\n")
        if len(code) > room:
            fitting = [statement.end_byte for statement in parse(code).root_node.children if statement.end_byte <= room]
            return text + b"{\n" + code[: max(fitting, default=0)] + b"\n}\n"
        text += b"{\n" + code + b"\n}\n"
    raise AssertionError("unreachable")


def timed(function: Callable[..., object], *args: object) -> float:
    started = time.perf_counter()
    function(*args)
    return (time.perf_counter() - started) * 1000


def app_module() -> bytes:
    """The client code, cut to make room for 100 imports ahead of it."""
    head = "".join(f'import {{ part{i} }} from "./parts/part{i}.js";\n' for i in range(100)).encode()
    code = client_module()
    body = code[code.index(b"\n{\n") + 1 :]  # its blocks, without its own import
    room = SIZE - len(head)
    if len(body) > room:
        # Whole blocks only, so the module stays valid.
        body = body[: body.rfind(b"\n}\n", 0, room - 2) + 3]
    return head + body


def measure(name: str, source: bytes, runs: int) -> dict[str, float]:
    cold, parse_only, one_process, edited = [], [], [], []
    for run in range(runs):
        fresh = b"// run %d %f\n" % (run, time.time()) + source  # content never analysed before
        cold.append(timed(analyse, fresh))
        parse_only.append(timed(parse, fresh))
        one_process.append(timed(jsparse._analyse_whole, fresh))
    key = f"/{name}.js"
    current = b"// named %f\n" % time.time() + source  # not in the cache: its trees are kept
    analyse(current, name=key)
    for run in range(runs):
        # A save that adds a line in the middle of the file. A line comment, since
        # the line may fall inside a /* */ comment, which a /* */ would break.
        middle = current.rfind(b"\n", 0, len(current) // 2) + 1
        current = current[:middle] + b"// edit %d\n" % run + current[middle:]
        edited.append(timed(analyse, current, key))
    return {
        "cold": statistics.median(cold),
        "cold p90": statistics.quantiles(cold, n=10)[-1],
        "of a parse": statistics.median(c / p for c, p in zip(cold, parse_only)),
        "parse": statistics.median(parse_only),
        "one process": statistics.median(one_process),
        "edit": statistics.median(edited),
        "first edit": edited[0],
    }


def split_breakdown(source: bytes, runs: int) -> str:
    """How the cold analysis shared ``source`` with the helper, and how long each side took (medians)."""
    here_bytes, here, helper = [], [], []
    for run in range(runs):
        jsworker.balance.last = None
        analyse(b"// split %d %f\n" % (run, time.time()) + source)
        if jsworker.balance.last is None:
            return "not cut (no safe place found, or the helper was busy): parsed whole in this process"
        mine, size, here_seconds, answered = jsworker.balance.last
        here_bytes.append(mine)
        here.append(here_seconds * 1000)
        helper.append(answered * 1000)
    mine = statistics.median(here_bytes)
    return (
        f"cut: {mine / 1000:.0f} KB parsed and scanned here in {statistics.median(here):.1f} ms, "
        f"{(len(source) - mine) / 1000:.0f} KB in the helper, answered at {statistics.median(helper):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="runs per measurement (default 15)")
    args = parser.parse_args()
    print(f"analysing a {SIZE // 1000} KB ES module (median of {args.runs}, this machine)")
    started = time.perf_counter()
    if not jsworker.wait_ready():
        print("  the helper process did not start: cold analyses parse the whole module here")
    else:
        print(f"  helper process ready in {(time.perf_counter() - started) * 1000:.0f} ms")
    for name, source in (("import-dense", dense_module()), ("client code", client_module()), ("app module", app_module())):
        info = analyse(source)
        numbers = measure(name.replace(" ", "-"), source, args.runs)
        print(
            f"  {name:<13} {len(source) // 1000:>3} KB {len(info.imports):>4} imports   "
            f"cold {numbers['cold']:6.1f} ms (p90 {numbers['cold p90']:5.1f}; parse alone {numbers['parse']:5.1f} ms, "
            f"cold {numbers['of a parse']:.2f} of a parse; "
            f"one process {numbers['one process']:5.1f} ms)   "
            f"after an edit {numbers['edit']:5.1f} ms (first {numbers['first edit']:4.1f} ms)   cold/edit {numbers['cold'] / numbers['edit']:4.1f}x   "
            f"target < 10 ms: cold {'met' if numbers['cold'] < 10 else 'MISSED'}, "
            f"edit {'met' if numbers['edit'] < 10 else 'MISSED'}"
        )
        print(f"  {'':<13} {split_breakdown(source, args.runs)}")


if __name__ == "__main__":
    main()
