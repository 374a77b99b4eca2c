"""Specification of hotreload.outputs: which files a build really changed, by content."""

from __future__ import annotations

import os
import time
from pathlib import Path

from hotreload.outputs import OutputSnapshot, file_digest


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def age(root: Path, seconds: float = 3600) -> None:
    """Make every file look as if an earlier build wrote it a while ago."""
    past_ns = time.time_ns() - int(seconds * 1e9)
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(past_ns, past_ns))


def test_snapshot_reports_added_modified_and_deleted_outputs(tmp_path: Path) -> None:
    site = tmp_path / "_site"
    write(site / "index.html", "<h1>Home</h1>")
    write(site / "about.html", "<h1>About</h1>")
    write(site / "old.html", "<h1>Old</h1>")
    before = OutputSnapshot.take(site)

    write(site / "about.html", "<h1>About us</h1>")
    (site / "old.html").unlink()
    write(site / "blog" / "new.html", "<h1>New</h1>")
    after = before.retake()

    assert after.changed_since(before) == {
        site / "about.html": "modified",
        site / "blog" / "new.html": "added",
        site / "old.html": "deleted",
    }
    assert before.changed_since(before) == {}


def test_rewriting_an_output_with_the_same_content_is_not_a_change(tmp_path: Path) -> None:
    site = tmp_path / "_site"
    write(site / "index.html", "<h1>Home</h1>")
    age(site)
    before = OutputSnapshot.take(site)

    write(site / "index.html", "<h1>Home</h1>")  # the generator wrote every page again
    after = before.retake()

    assert after.changed_since(before) == {}
    assert after.hashed_count == 1  # its mtime changed, so it was read again


def test_a_same_size_rewrite_within_one_timestamp_tick_is_still_seen(tmp_path: Path) -> None:
    site = tmp_path / "_site"
    page = site / "index.html"
    write(page, "version A")
    before = OutputSnapshot.take(site)
    stat = page.stat()

    write(page, "version B")
    os.utime(page, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # a coarse clock: same mtime
    after = before.retake()

    assert after.changed_since(before) == {page: "modified"}


def test_ignored_outputs_are_not_snapshotted(tmp_path: Path) -> None:
    site = tmp_path / "_site"
    write(site / "index.html", "home")
    write(site / ".doctrees" / "index.doctree", "pickle")
    write(site / "search.log", "log")

    def ignore(path: Path) -> bool:
        return path.name == ".doctrees" or path.suffix == ".log"

    snapshot = OutputSnapshot.take(site, ignore)
    assert len(snapshot) == 1 and (site / "index.html") in snapshot

    write(site / ".doctrees" / "index.doctree", "changed pickle")
    assert snapshot.retake().changed_since(snapshot) == {}


def test_a_missing_output_folder_is_an_empty_snapshot_and_its_creation_adds_files(tmp_path: Path) -> None:
    site = tmp_path / "_site"
    before = OutputSnapshot.take(site)
    assert len(before) == 0

    write(site / "index.html", "home")
    assert before.retake().changed_since(before) == {site / "index.html": "added"}


def test_resnapshot_of_a_large_output_after_a_small_build_only_reads_what_changed(tmp_path: Path) -> None:
    site = tmp_path / "_site"
    past_ns = time.time_ns() - 3600 * 10**9
    for section in range(20):
        (site / f"s{section}").mkdir(parents=True)
        for page in range(100):
            path = site / f"s{section}" / f"p{page}.html"
            path.write_text(f"<p>section {section} page {page}</p>" * 20)
            os.utime(path, ns=(past_ns, past_ns))  # written by an earlier build

    started = time.perf_counter()
    before = OutputSnapshot.take(site)
    first_take = time.perf_counter() - started

    for page in range(5):
        write(site / "s3" / f"p{page}.html", f"<p>edited page {page}</p>")
    started = time.perf_counter()
    after = before.retake()
    second_take = time.perf_counter() - started

    print(f"\nsnapshot of 2,000 files: first {first_take * 1000:.1f} ms, after a 5-file build {second_take * 1000:.1f} ms")
    assert len(before) == len(after) == 2000
    assert before.hashed_count == 2000
    assert after.hashed_count == 5
    assert after.changed_since(before) == {site / "s3" / f"p{page}.html": "modified" for page in range(5)}


def test_refreshing_named_files_records_their_new_content_without_a_walk(tmp_path: Path) -> None:
    site = tmp_path / "_site"
    write(site / "a.css", "a {}")
    write(site / "b.css", "b {}")
    before = OutputSnapshot.take(site)
    write(site / "a.css", "a { color: red }")
    (site / "b.css").unlink()
    write(site / "c.css", "c {}")
    outside = tmp_path / "elsewhere.css"
    write(outside, "x {}")

    refreshed = before.refreshed([site / "a.css", site / "b.css", outside])

    assert refreshed.hashed_count == 1
    assert refreshed.changed_since(before) == {site / "a.css": "modified", site / "b.css": "deleted"}
    assert outside not in refreshed and site / "c.css" not in refreshed  # outside the folder; not named
    assert refreshed.digest(site / "a.css") == file_digest(site / "a.css")
    assert file_digest(site / "b.css") is None
