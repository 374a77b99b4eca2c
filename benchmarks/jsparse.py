"""How long analysing a 100 KB ES module takes (imports, import.meta.hot), cold and after an edit.

Two modules of 100 KB: an import-dense one (an import, a dynamic import and
decoys in strings, comments, templates and regexes every five lines) and the
browser client's own code (few imports). For each:

- cold: content never seen before (a full tree-sitter parse, then the walk);
- the tree-sitter parse alone, for reference;
- after a save: the same module with a few characters changed, analysed
  under its URL path so the previous parse tree is reused (incremental parse).

Usage: python benchmarks/jsparse.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

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
    code = b"".join((REPO / "client_js" / name).read_bytes() for name in ("morph.js", "swap.js", "hmr.js"))
    # Imports dropped and exports unexported, each copy in its own block: one big valid module.
    lines = [line.removeprefix(b"export ") for line in code.splitlines() if not line.startswith(b"import ")]
    body = b"\n".join(lines)
    text = b'import { a } from "./a.js";\nimport.meta.hot?.accept();\n'
    while len(text) < SIZE:
        text += b"{\n" + body + b"\n}\n"
    return text[: text.rfind(b"\n}\n", 0, SIZE) + 3]


def timed(function: Callable[..., object], *args: object) -> float:
    started = time.perf_counter()
    function(*args)
    return (time.perf_counter() - started) * 1000


def measure(name: str, source: bytes, runs: int) -> dict[str, float]:
    cold, parse_only, edited = [], [], []
    for run in range(runs):
        fresh = b"// run %d %f\n" % (run, time.time()) + source  # content never analysed before
        cold.append(timed(analyse, fresh))
        parse_only.append(timed(parse, fresh))
    key = f"/{name}.js"
    current = source
    analyse(current, name=key)
    for run in range(runs):
        # A save that changes a few characters in the middle of the file.
        middle = current.rfind(b"\n", 0, len(current) // 2) + 1
        current = current[:middle] + b"/* edit %d */" % run + current[middle:]
        edited.append(timed(analyse, current, key))
    return {
        "cold": statistics.median(cold),
        "parse": statistics.median(parse_only),
        "edit": statistics.median(edited),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="runs per measurement (default 15)")
    args = parser.parse_args()
    print(f"analysing a {SIZE // 1000} KB ES module (median of {args.runs}, this machine)")
    for name, source in (("import-dense", dense_module()), ("client code", client_module())):
        info = analyse(source)
        numbers = measure(name.replace(" ", "-"), source, args.runs)
        print(
            f"  {name:<13} {len(source) // 1000:>3} KB {len(info.imports):>4} imports   "
            f"cold {numbers['cold']:6.1f} ms (parse alone {numbers['parse']:5.1f} ms)   "
            f"after an edit {numbers['edit']:5.1f} ms   cold/edit {numbers['cold'] / numbers['edit']:4.1f}x   "
            f"target < 10 ms: cold {'met' if numbers['cold'] < 10 else 'MISSED'}, "
            f"edit {'met' if numbers['edit'] < 10 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
