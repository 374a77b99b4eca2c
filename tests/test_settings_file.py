"""Settings kept in hotreload.toml or pyproject.toml's [tool.hotreload], for `hotreload serve`."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, ServerProcess
from test_cli import one_line_error
from test_serve_build import wait_until
from hotreload.cli import config_from_args, parse_args


def config_in(folder: Path, *argv: str):
    return config_from_args(parse_args(["serve", *argv], folder))


def run_cli_in(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotreload", *args], cwd=folder, capture_output=True, text=True, timeout=20,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_pyproject_settings_fill_in_the_options(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "docs"\n\n'
        "[tool.hotreload]\n"
        'root = "_site"\nport = 3000\nopen = true\nwatch = ["content", "templates"]\n'
        'build = "python build.py"\nbuild-timeout = 30\nignore = ["*.tmp"]\ndeny = ["drafts/*"]\n'
        'allow = [".well-known"]\nallowed-host = ["docs.test"]\nreload-html = true\n'
    )
    config = config_in(tmp_path)
    assert config.root == Path("_site") and config.port == 3000 and config.open_browser
    assert config.watch == [Path("content"), Path("templates")]
    assert config.build == "python build.py" and config.build_timeout == 30.0
    assert config.ignore == ["*.tmp"] and config.deny == ["drafts/*"] and config.allow == [".well-known"]
    assert config.allowed_hosts == ["docs.test"] and config.reload_html
    assert config.settings_file == "pyproject.toml [tool.hotreload]"


def test_the_command_line_wins_and_repeatable_options_add_to_the_files_lists(tmp_path: Path) -> None:
    (tmp_path / "hotreload.toml").write_text('root = "_site"\nport = 3000\nwatch = ["content"]\nreload = false\n')
    config = config_in(tmp_path, "public", "--port", "4000", "--watch", "extra")
    assert config.root == Path("public") and config.port == 4000
    assert config.watch == [Path("content"), Path("extra")]
    assert config.reload is False
    assert config_in(tmp_path, "--no-config") == config_in(tmp_path / "nowhere")


def test_hotreload_toml_is_read_before_pyproject_and_a_pyproject_without_the_table_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert config_in(tmp_path).settings_file is None
    (tmp_path / "pyproject.toml").write_text('[tool.hotreload]\nport = 3000\n')
    (tmp_path / "hotreload.toml").write_text("port = 5000\n")
    config = config_in(tmp_path)
    assert config.port == 5000 and config.settings_file == "hotreload.toml"


def test_a_build_command_may_be_written_as_its_arguments(tmp_path: Path) -> None:
    (tmp_path / "hotreload.toml").write_text('build = ["python", "make site.py"]\n')
    assert config_in(tmp_path).build == ["python", "make site.py"]


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ('buidl = "make"\n', ["hotreload.toml", "unknown setting 'buidl'", "did you mean 'build'"]),
        ("port = \"eighty\"\n", ["hotreload.toml", "port must be a number"]),
        ("port = 70000\n", ["hotreload.toml", "port", "between 0 and 65535"]),
        ("open = 1\n", ["open must be true or false"]),
        ('watch = "src"\n', ["watch must be a list of strings"]),
        ("build = []\n", ["build must be a string or a list of strings"]),
        ("build-timeout = 0\n", ["build-timeout", "more than 0 seconds"]),
        ('deny = ["/"]\n', ["deny", "denies nothing"]),
        ('allow = ["*"]\n', ["allow", "every hidden file"]),
        ('root = "site\n', ["hotreload.toml is not valid TOML", "line 1"]),
    ],
)
def test_a_bad_settings_file_is_a_one_line_error(tmp_path: Path, text: str, needles: list[str]) -> None:
    (tmp_path / "hotreload.toml").write_text(text)
    one_line_error(run_cli_in(tmp_path, "serve"), *needles)


def test_a_bad_tool_table_in_pyproject_is_named_and_no_config_skips_it(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool]\nhotreload = "yes"\n')
    one_line_error(run_cli_in(tmp_path, "serve"), "pyproject.toml [tool.hotreload] must be a table")
    site = tmp_path / "site"
    site.mkdir()
    # --no-config serves as if the file were not there: the missing folder is the error now.
    one_line_error(run_cli_in(tmp_path, "serve", "missing", "--no-config"), "folder not found")


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def test_a_server_started_with_no_options_builds_watches_and_serves_as_its_settings_say(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "page.txt").write_text("first")
    (tmp_path / "build.py").write_text(
        "from pathlib import Path\n"
        "Path('out').mkdir(exist_ok=True)\n"
        "Path('out/index.html').write_text('<p>' + Path('src/page.txt').read_text() + '</p>')\n"
    )
    (tmp_path / "hotreload.toml").write_text(
        f'root = "out"\nport = 0\nwatch = ["src"]\nbuild = [{str(sys.executable)!r}, "build.py"]\n'
    )
    server = ServerProcess(["serve"], cwd=tmp_path).start()
    try:
        assert any("settings from hotreload.toml" in line for line in server.lines)
        assert "<p>first</p>" in get(server.url)
        (tmp_path / "src" / "page.txt").write_text("second")
        wait_until(lambda: "<p>second</p>" in get(server.url), what="the rebuilt page")
    finally:
        assert server.stop() == 0
