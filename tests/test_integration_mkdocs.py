"""hotreload mkdocs: MkDocs builds through its own API, warm, served with hot reload.

The builder is tested in this process against the example project; the
command end to end, with a real server and a real Chromium.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hotreload import BuildFailed
from hotreload.integrations.mkdocs import MkDocsBuilder

from pages import OVERLAY_TEXT, page_updates, replace_in, shows
from conftest import REPO, ServerProcess, wait_connected, write_atomic

EXAMPLE = REPO / "examples" / "mkdocs"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "handbook"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("site"))
    return root


@pytest.fixture
def builder(project: Path):
    build = MkDocsBuilder(project / "mkdocs.yml")
    yield build
    build.close()


def site_files(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


# ---------------------------------------------------------------------------
# The builder
# ---------------------------------------------------------------------------


def test_builds_into_a_temporary_site_folder_that_close_removes(project: Path):
    build = MkDocsBuilder(project / "mkdocs.yml")
    build([])
    assert "Trim the wick" in (build.site_dir / "lamp" / "index.html").read_text()
    assert not (project / "site").exists(), "the project's own site/ folder is left alone"
    build.close()
    assert not build.site_dir.exists()


def test_a_warm_rebuild_writes_exactly_what_a_build_from_scratch_writes(builder: MkDocsBuilder, project: Path):
    builder([])
    # A title edit changes the navigation of every page, not just this one.
    replace_in(project / "docs" / "weather.md", "# Weather", "# Wind and weather")
    replace_in(project / "mkdocs.yml", "Weather: weather.md", "Wind and weather: weather.md")
    builder([project / "docs" / "weather.md", project / "mkdocs.yml"])
    replace_in(project / "docs" / "lamp.md", "Trim the wick", "Trim the cotton wick")
    builder([project / "docs" / "lamp.md"])
    assert builder.reused_pages >= 3, "unchanged pages are not converted again"

    cold = MkDocsBuilder(project / "mkdocs.yml", warm=False)
    cold.build_epoch = builder.build_epoch
    try:
        cold([])
        assert site_files(builder.site_dir) == site_files(cold.site_dir)
        differing = [
            name for name in site_files(cold.site_dir)
            if not filecmp.cmp(builder.site_dir / name, cold.site_dir / name, shallow=False)
        ]
        assert differing == []
    finally:
        cold.close()
    assert "Trim the cotton wick" in (builder.site_dir / "lamp" / "index.html").read_text()
    assert "Wind and weather" in (builder.site_dir / "logbook" / "index.html").read_text()


def test_rebuilding_leaves_unchanged_pages_byte_for_byte_the_same(builder: MkDocsBuilder, project: Path):
    builder([])
    before = {name: (builder.site_dir / name).read_bytes() for name in site_files(builder.site_dir)}
    replace_in(project / "docs" / "lamp.md", "Trim the wick", "Trim the cotton wick")
    builder([project / "docs" / "lamp.md"])
    changed = sorted(name for name, data in before.items() if (builder.site_dir / name).read_bytes() != data)
    # The build date is pinned, so the home page and sitemap do not change with every build.
    assert changed == ["lamp/index.html", "search/search_index.json"]


def test_a_deleted_page_disappears_from_the_served_site(builder: MkDocsBuilder, project: Path):
    builder([])
    assert (builder.site_dir / "weather" / "index.html").is_file()
    (project / "docs" / "weather.md").unlink()
    replace_in(project / "mkdocs.yml", "  - Weather: weather.md\n", "")
    builder([project / "docs" / "weather.md", project / "mkdocs.yml"])
    assert not (builder.site_dir / "weather").exists()
    assert builder.site_dir / "weather" / "index.html" in builder.last_published


def test_a_broken_mkdocs_yml_fails_with_the_yaml_error_and_the_fix_builds_again(
    builder: MkDocsBuilder, project: Path
):
    builder([])
    config = project / "mkdocs.yml"
    good = config.read_text()
    write_atomic(config, good.replace("  - Weather: weather.md", "  - Weather: [weather.md"))
    with pytest.raises(BuildFailed) as failure:
        builder([config])
    assert "error parsing the configuration file" in failure.value.message
    assert "mkdocs.yml" in failure.value.message

    write_atomic(config, good)
    builder([config])


def test_strict_mode_fails_on_a_broken_link_with_mkdocs_warning(project: Path):
    build = MkDocsBuilder(project / "mkdocs.yml", strict=True)
    try:
        build([])
        page = project / "docs" / "lamp.md"
        good = page.read_text()
        write_atomic(page, good + "\nSee [the tides](tides.md).\n")
        with pytest.raises(BuildFailed) as failure:
            build([page])
        assert "contains a link 'tides.md', but the target is not found" in failure.value.message
        assert "strict mode" in failure.value.message

        write_atomic(page, good)
        build([page])
    finally:
        build.close()


def test_a_plugin_error_fails_with_the_plugin_message(project: Path):
    hook = project / "glossary.py"
    hook.write_text(
        "from mkdocs.exceptions import PluginError\n\n"
        "def on_page_markdown(markdown, page, **kwargs):\n"
        "    if '[[' in markdown:\n"
        "        raise PluginError(f\"{page.file.src_uri}: unknown glossary term\")\n"
        "    return markdown\n"
    )
    write_atomic(project / "mkdocs.yml", (project / "mkdocs.yml").read_text() + "hooks:\n  - glossary.py\n")
    build = MkDocsBuilder(project / "mkdocs.yml")
    try:
        build([])
        page = project / "docs" / "lamp.md"
        write_atomic(page, page.read_text() + "\nThe [[lens]] turns.\n")
        with pytest.raises(BuildFailed) as failure:
            build([page])
        assert "lamp.md: unknown glossary term" in failure.value.message
        assert "Traceback" not in failure.value.output
        # MkDocs had emptied its folder before failing; the served site is the last good one.
        assert "Trim the wick" in (build.site_dir / "lamp" / "index.html").read_text()
    finally:
        build.close()


def test_dirty_builds_are_used_for_page_edits_and_full_builds_for_the_rest(project: Path):
    build = MkDocsBuilder(project / "mkdocs.yml", dirty=True)
    try:
        build([])
        assert not build.last_build_was_dirty
        replace_in(project / "docs" / "lamp.md", "Trim the wick", "Trim the cotton wick")
        build([project / "docs" / "lamp.md"])
        assert build.last_build_was_dirty
        assert "Trim the cotton wick" in (build.site_dir / "lamp" / "index.html").read_text()

        write_atomic(project / "docs" / "tides.md", "# Tides\n")
        build([project / "docs" / "tides.md"])
        assert not build.last_build_was_dirty, "a new page changes the navigation: full build"
        build([project / "mkdocs.yml"])
        assert not build.last_build_was_dirty
    finally:
        build.close()


def test_watches_the_config_the_docs_and_a_custom_theme_folder(project: Path):
    overrides = project / "overrides"
    overrides.mkdir()
    (overrides / "main.html").write_text('{% extends "base.html" %}\n')
    replace_in(project / "mkdocs.yml", "  name: mkdocs\n", "  name: mkdocs\n  custom_dir: overrides\n")
    build = MkDocsBuilder(project / "mkdocs.yml")
    try:
        assert build.watched_paths() == [project / "mkdocs.yml", project / "docs", overrides]
    finally:
        build.close()


def test_hotreload_mkdocs_without_a_config_file_says_so(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-m", "hotreload", "mkdocs", "--port", "0"], capture_output=True, text=True, timeout=60,
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 2
    assert "config file not found: mkdocs.yml" in done.stderr


# ---------------------------------------------------------------------------
# hotreload mkdocs, in a browser
# ---------------------------------------------------------------------------


@pytest.fixture
def mkdocs_server(project: Path):
    servers: list[ServerProcess] = []

    def start(*options: str) -> ServerProcess:
        server = ServerProcess(["mkdocs", "-f", str(project / "mkdocs.yml"), "--port", "0", *options])
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


def test_mkdocs_edit_updates_its_tab_only_and_a_failed_build_shows_mkdocs_error_until_fixed(
    mkdocs_server, new_page, project: Path
):
    server = mkdocs_server()
    lamp = new_page(server.url + "lamp/")
    # The home page carries MkDocs' build date: it must not change with every build.
    home = new_page(server.url)
    home.evaluate("window.__untouched = true")

    replace_in(project / "docs" / "lamp.md", "Trim the wick", "Trim the cotton wick")
    lamp.wait_for_function(shows("Trim the cotton wick"), timeout=30_000)

    config = project / "mkdocs.yml"
    good = config.read_text()
    write_atomic(config, good.replace("  - Weather: weather.md", "  - Weather: [weather.md"))
    for tab in (lamp, home):
        tab.wait_for_function(
            f"() => ({OVERLAY_TEXT})().includes('error parsing the configuration file')", timeout=30_000
        )

    write_atomic(config, good)
    replace_in(project / "docs" / "lamp.md", "Polish the lens", "Polish the great lens")
    lamp.wait_for_function(shows("Polish the great lens"), timeout=30_000)
    wait_connected(lamp)
    for tab in (lamp, home):
        tab.wait_for_function("() => !document.querySelector('hotreload-error-overlay')", timeout=30_000)
    assert home.evaluate("window.__untouched") is True, "the home page's tab was reloaded"
    assert page_updates(home) == [], "the home tab was sent an update"
