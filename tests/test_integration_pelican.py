"""hotreload pelican: Pelican builds through its own API, warm, served with hot reload.

The builder is tested in this process against the example project; the
command end to end, with a real server and a real Chromium.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hotreload import BuildFailed
from hotreload.integrations.pelican import PelicanBuilder

from pages import OVERLAY_TEXT, page_updates, replace_in, shows
from conftest import REPO, ServerProcess, wait_connected, write_atomic

EXAMPLE = REPO / "examples" / "pelican"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "notes"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("output", "__pycache__"))
    return root


@pytest.fixture
def builder(project: Path):
    build = PelicanBuilder(project / "pelicanconf.py")
    yield build
    build.close()


# ---------------------------------------------------------------------------
# The builder
# ---------------------------------------------------------------------------


def test_builds_into_the_output_path_of_the_settings_and_rebuilds_an_edit(builder: PelicanBuilder, project: Path):
    assert builder.output_path == project / "output"
    builder([])
    article = project / "output" / "first-light.html"
    assert "The new wick burns clean" in article.read_text()

    replace_in(project / "content" / "first-light.md", "burns clean", "burns clean and steady")
    builder([project / "content" / "first-light.md"])
    assert "burns clean and steady" in article.read_text()
    assert builder.instances == 1, "a content edit reuses the Pelican instance"


def test_an_article_pelican_skips_with_an_error_fails_the_build(builder: PelicanBuilder, project: Path):
    builder([])
    post = project / "content" / "fog.md"
    good = post.read_text()
    write_atomic(post, good.replace("Title: A week of fog\n", ""))
    with pytest.raises(BuildFailed) as failure:
        builder([post])
    assert "could not find information about 'title'" in failure.value.message
    assert "fog.md" in failure.value.message

    write_atomic(post, good)
    builder([post])


def test_logged_errors_can_be_let_through(project: Path):
    build = PelicanBuilder(project / "pelicanconf.py", fail_on=None, on_warning=(seen := []).append)
    try:
        post = project / "content" / "fog.md"
        write_atomic(post, post.read_text().replace("Title: A week of fog\n", ""))
        build([])
    finally:
        build.close()
    assert any("could not find information about 'title'" in line for line in seen)


def test_a_broken_settings_file_fails_with_its_line_and_the_fix_starts_a_new_instance(
    builder: PelicanBuilder, project: Path
):
    builder([])
    settings = project / "pelicanconf.py"
    good = settings.read_text()
    write_atomic(settings, good + "\nSITENAME = = 'Notes'\n")
    with pytest.raises(BuildFailed) as failure:
        builder([settings])
    assert failure.value.message.startswith("SyntaxError")
    assert failure.value.file == str(settings)

    write_atomic(settings, good.replace("Notes from the Lighthouse", "Lighthouse Notes"))
    builder([settings])
    assert builder.instances == 2
    assert "Lighthouse Notes" in (project / "output" / "index.html").read_text()


def test_a_template_error_fails_with_jinja_message(project: Path):
    theme = project / "theme"
    shutil.copytree(Path(__import__("pelican").__file__).parent / "themes" / "simple", theme)
    build = PelicanBuilder(project / "pelicanconf.py", theme=str(theme))
    try:
        build([])
        template = theme / "templates" / "article.html"
        write_atomic(template, template.read_text() + "\n{% if %}\n")
        with pytest.raises(BuildFailed) as failure:
            build([template])
        assert "TemplateSyntaxError" in failure.value.message
        assert theme in build.watched_paths()
    finally:
        build.close()


# ---------------------------------------------------------------------------
# hotreload pelican, in a browser
# ---------------------------------------------------------------------------


@pytest.fixture
def pelican_server(project: Path):
    servers: list[ServerProcess] = []

    def start(*options: str) -> ServerProcess:
        server = ServerProcess(["pelican", "-s", str(project / "pelicanconf.py"), "--port", "0", *options])
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


def test_pelican_edit_updates_its_tab_only_and_a_failed_build_shows_pelican_error_until_fixed(
    pelican_server, new_page, project: Path
):
    server = pelican_server()
    article = new_page(server.url + "first-light.html")
    about = new_page(server.url + "pages/about.html")
    about.evaluate("window.__untouched = true")

    post = project / "content" / "first-light.md"
    replace_in(post, "burns clean", "burns clean and steady")
    article.wait_for_function(shows("burns clean and steady"), timeout=30_000)

    good = post.read_text()
    write_atomic(post, good.replace("Title: First light\n", ""))
    for tab in (article, about):
        tab.wait_for_function(
            f"() => ({OVERLAY_TEXT})().includes(\"could not find information about 'title'\")", timeout=30_000
        )

    write_atomic(post, good.replace("without a sound", "without a whisper"))
    article.wait_for_function(shows("without a whisper"), timeout=30_000)
    wait_connected(article)
    for tab in (article, about):
        tab.wait_for_function("() => !document.querySelector('hotreload-error-overlay')", timeout=30_000)
    assert about.evaluate("window.__untouched") is True, "the about tab was reloaded"
    assert page_updates(about) == [], "the about tab was sent an update"
