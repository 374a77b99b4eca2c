"""hotreload sphinx: warm, incremental Sphinx builds, served with hot reload.

The builder is tested in this process against the example project; the
command end to end, with a real server and a real Chromium.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hotreload import BuildFailed
from hotreload.integrations.hooks import with_commands
from hotreload.integrations.sphinx import SphinxBuilder

from pages import OVERLAY_TEXT, page_updates, replace_in, shows
from conftest import REPO, ServerProcess, wait_connected, write_atomic

EXAMPLE = REPO / "examples" / "sphinx"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    source = tmp_path / "docs"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("_build"))
    return source


@pytest.fixture
def builder(project: Path):
    build = SphinxBuilder(project, project / "_build" / "html", fail_on_warning=True)
    yield build
    build.close()


# ---------------------------------------------------------------------------
# The builder
# ---------------------------------------------------------------------------


def test_an_edit_rebuilds_the_edited_page_and_leaves_the_others_byte_for_byte(builder: SphinxBuilder, project: Path):
    builder([])
    out = builder.outdir
    assert "Trim the wick" in (out / "lamp.html").read_text()
    weather_before = (out / "weather.html").read_bytes()

    replace_in(project / "lamp.rst", "Trim the wick", "Trim the cotton wick")
    builder([project / "lamp.rst"])

    assert "Trim the cotton wick" in (out / "lamp.html").read_text()
    assert (out / "weather.html").read_bytes() == weather_before
    assert builder.app_starts == 1, "a source edit must reuse the running Sphinx application"


def test_with_parallel_jobs_a_rebuild_still_shows_the_edit(project: Path):
    build = SphinxBuilder(project, project / "_build" / "html", jobs=2)
    try:
        build([])
        for turn in range(2):
            write_atomic(project / "lamp.rst", (project / "lamp.rst").read_text() + f"\nTurn {turn}.\n")
            build([project / "lamp.rst"])
            assert f"Turn {turn}." in (build.outdir / "lamp.html").read_text()
    finally:
        build.close()


def test_a_warning_fails_the_build_with_sphinx_own_message_and_the_fix_builds_again(
    builder: SphinxBuilder, project: Path
):
    builder([])
    page = project / "weather.rst"
    good = page.read_text()
    write_atomic(page, good + "\n.. no-such-directive::\n")

    with pytest.raises(BuildFailed) as failure:
        builder([page])
    assert 'Unknown directive type "no-such-directive"' in failure.value.message
    assert "1 warning treated as errors" in failure.value.message
    assert failure.value.file == str(page)
    assert failure.value.line is not None
    assert "no-such-directive" in failure.value.output

    write_atomic(page, good.replace("Storms", "Gales"))
    builder([page])  # no error: the failed build's warning count does not linger
    assert "Gales" in (builder.outdir / "weather.html").read_text()


def test_warnings_do_not_fail_the_build_unless_asked(project: Path):
    build = SphinxBuilder(project, project / "_build" / "html", on_warning=(seen := []).append)
    try:
        write_atomic(project / "logbook.rst", (project / "logbook.rst").read_text() + "\n.. no-such-directive::\n")
        build([])
    finally:
        build.close()
    assert any("Unknown directive type" in line for line in seen)
    assert (build.outdir / "logbook.html").is_file()


def test_a_broken_conf_py_fails_with_the_configuration_error_and_its_fix_starts_a_new_application(
    builder: SphinxBuilder, project: Path
):
    builder([])
    conf = project / "conf.py"
    good = conf.read_text()
    write_atomic(conf, good + "\nhtml_theme = (\n")

    with pytest.raises(BuildFailed) as failure:
        builder([conf])
    assert failure.value.message.startswith("Configuration error")
    assert "conf.py" in failure.value.message

    write_atomic(conf, good.replace("Lighthouse Keeper's Handbook", "Keeper's Handbook"))
    builder([conf])
    assert builder.app_starts == 2
    assert "Keeper&#39;s Handbook" in (builder.outdir / "index.html").read_text()


def test_autodoc_sees_the_new_version_of_an_edited_module(tmp_path: Path):
    source = tmp_path / "docs"
    source.mkdir()
    package = tmp_path / "src"
    package.mkdir()
    (package / "hotreload_example_beacon.py").write_text('def flash():\n    """Flash once a minute."""\n')
    (source / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(package)!r})\nextensions = ['sphinx.ext.autodoc']\n"
    )
    (source / "index.rst").write_text("Beacon\n======\n\n.. autofunction:: hotreload_example_beacon.flash\n")
    build = SphinxBuilder(source, tmp_path / "out")
    try:
        build([])
        assert "Flash once a minute." in (tmp_path / "out" / "index.html").read_text()
        write_atomic(package / "hotreload_example_beacon.py", 'def flash():\n    """Flash twice a minute."""\n')
        build([package / "hotreload_example_beacon.py"])
        assert "Flash twice a minute." in (tmp_path / "out" / "index.html").read_text()
    finally:
        build.close()


def test_pre_and_post_build_commands_run_around_the_build_and_a_failing_one_fails_it(
    builder: SphinxBuilder, project: Path, tmp_path: Path
):
    marker = tmp_path / "after.txt"
    build = with_commands(
        builder, pre=[f"python -c \"open({str(tmp_path / 'before.txt')!r}, 'w').close()\""],
        post=[f"python -c \"open({str(marker)!r}, 'w').close()\""],
    )
    build([])
    assert (tmp_path / "before.txt").exists() and marker.exists()

    failing = with_commands(builder, pre=["python -c \"import sys; print('schema invalid'); sys.exit(3)\""])
    with pytest.raises(BuildFailed) as failure:
        failing([])
    assert "pre-build command exited with status 3" in failure.value.message
    assert "schema invalid" in failure.value.output


# ---------------------------------------------------------------------------
# hotreload sphinx: the command line
# ---------------------------------------------------------------------------


def parse(*argv: str):
    from hotreload.cli import build_parser

    return build_parser().parse_args(list(argv))


def test_sphinx_build_options_mean_what_they_mean_to_sphinx_build(tmp_path: Path):
    from hotreload.integrations.commands import sphinx_builder

    args = parse(
        "sphinx", "docs", str(tmp_path / "_build"), "-M", "dirhtml", "-D", "language=fr", "-A", "edition=2",
        "-n", "-t", "draft", "-j", "2", "-W",
    )
    build = sphinx_builder(args)
    assert build.outdir == tmp_path / "_build" / "dirhtml"
    assert build.doctreedir == tmp_path / "_build" / "doctrees"
    assert build.builder_name == "dirhtml"
    assert build.confoverrides == {"language": "fr", "html_context.edition": 2, "nitpicky": True}
    assert (build.tags, build.jobs, build.fail_on_warning) == (["draft"], 2, True)


def test_ignore_options_and_the_build_folders_are_never_sources(tmp_path: Path):
    from hotreload.integrations.serving import ignore_rules

    args = parse("sphinx", "docs", "out", "--ignore", "*.swp", "--re-ignore", r"drafts?/")
    glob, *callables = ignore_rules(args, never_sources=[tmp_path / "docs" / "_build"])
    assert glob == "*.swp"

    def ignored(path: Path) -> bool:
        return any(rule(path) for rule in callables)

    assert ignored(tmp_path / "docs" / "drafts" / "plan.rst")
    assert ignored(tmp_path / "docs" / "_build" / "html" / "index.html")
    assert not ignored(tmp_path / "docs" / "index.rst")


def test_a_folder_without_conf_py_is_refused_with_a_clear_message(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-m", "hotreload", "sphinx", str(tmp_path), str(tmp_path / "out"), "--port", "0"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 2
    assert "no conf.py in" in done.stderr


# ---------------------------------------------------------------------------
# hotreload sphinx, in a browser
# ---------------------------------------------------------------------------


@pytest.fixture
def sphinx_server(project: Path):
    servers: list[ServerProcess] = []

    def start(*options: str) -> ServerProcess:
        server = ServerProcess(["sphinx", str(project), str(project / "_build" / "html"), "--port", "0", *options])
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


def test_sphinx_edit_updates_its_tab_only_and_a_failed_build_shows_sphinx_error_until_fixed(
    sphinx_server, new_page, project: Path
):
    server = sphinx_server("-W")
    lamp = new_page(server.url + "lamp.html")
    weather = new_page(server.url + "weather.html")
    weather.evaluate("window.__untouched = true")

    replace_in(project / "lamp.rst", "Trim the wick", "Trim the cotton wick")
    lamp.wait_for_function(shows("Trim the cotton wick"), timeout=30_000)

    good = (project / "lamp.rst").read_text()
    write_atomic(project / "lamp.rst", good + "\n.. no-such-directive::\n")
    for tab in (lamp, weather):
        tab.wait_for_function(f"() => ({OVERLAY_TEXT})().includes('Unknown directive type')", timeout=30_000)

    write_atomic(project / "lamp.rst", good.replace("Polish the lens", "Polish the great lens"))
    lamp.wait_for_function(shows("Polish the great lens"), timeout=30_000)
    wait_connected(lamp)
    for tab in (lamp, weather):
        tab.wait_for_function("() => !document.querySelector('hotreload-error-overlay')", timeout=30_000)
    assert weather.evaluate("window.__untouched") is True, "the weather tab was reloaded"
    assert page_updates(weather) == [], "the weather tab was sent an update"
