"""A tiny static-site generator for the tests: SRC/*.txt become OUT/*.html, SRC/*.css are copied.

    python mini_ssg.py SRC OUT [--log FILE] [--write-into-sources]

Like real generators, every build rewrites every output, changed or not. A
source whose text contains

- ``BROKEN`` fails the build (exit status 1) with a coloured error that names
  the source file and line 2 through a terminal hyperlink;
- ``SLOW`` makes the build write that page in two halves, 1.5 s apart;
- ``HANG`` makes the build start a child process (its pid goes to
  ``OUT/../hang.pid``) and wait for a minute.

``--log FILE`` appends one line per build; ``--write-into-sources`` makes the
build write two files into SRC: ``_toc.dat`` (the same every time) and
``_stamp.dat`` (new every time).
"""

from __future__ import annotations

import argparse
import html
import shutil
import subprocess
import sys
import time
from pathlib import Path


def page(title: str, body: str) -> tuple[str, str]:
    head = (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f'<title>{html.escape(title)}</title><link rel="stylesheet" href="style.css"></head>\n'
        f'<body><h1 id="title">{html.escape(title)}</h1>\n'
    )
    return head, f'<p id="body">{html.escape(body)}</p><p id="end">end of page</p></body></html>\n'


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("src", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--log", type=Path)
    parser.add_argument("--write-into-sources", action="store_true")
    args = parser.parse_args()
    src, out = args.src, args.out
    if args.log:
        with open(args.log, "a") as log:
            log.write("build\n")
    out.mkdir(parents=True, exist_ok=True)
    sources = sorted(src.glob("*.txt"))
    # Read everything first, then write, as generators do: a save made while
    # the pages are written is not in this build.
    texts = {source: source.read_text() for source in sources}
    for source, text in texts.items():
        if "BROKEN" in text:
            link = f"\x1b]8;;file://{source}\x07{source}:2\x1b]8;;\x07"
            print(f"reading {source.name}")
            print(f"\x1b[1;31merror\x1b[0m: {link}: unknown directive 'BROKEN'", flush=True)
            return 1
        if "HANG" in text:
            child = subprocess.Popen(["sleep", "60"])
            (out.parent / "hang.pid").write_text(str(child.pid))
            print("waiting for ever", flush=True)
            time.sleep(60)
    for source, text in texts.items():
        title, _, body = text.strip().partition("\n")
        head, rest = page(title, body)
        target = out / f"{source.stem}.html"
        with open(target, "w") as stream:
            stream.write(head)
            if "SLOW" in body:
                stream.write("<!--HALF-->\n")
                stream.flush()
                time.sleep(1.5)
            stream.write(rest)
    for sheet in src.glob("*.css"):
        shutil.copyfile(sheet, out / sheet.name)
    if args.write_into_sources:
        (src / "_toc.dat").write_text("\n".join(s.stem for s in sources))
        (src / "_stamp.dat").write_text(str(time.time_ns()))
    print(f"built {len(sources)} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
